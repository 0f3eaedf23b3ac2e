"""How values reach a shell: only through `env:`, only as `"$NAME"`.

GitHub substitutes `${{ ... }}` into a `run:` script as raw text before the
shell starts, so any value a spec author, a `workflow_dispatch` user or an
event payload controls would become code there. Here a script is assembled
from two kinds of pieces only: constant fragments written in this package
(checked to hold no `${{`), and `Ref`s, which render as a double-quoted
`"$NAME"` and can be made only by binding a value to a step's `env:`.

A value bound to `env:` is either our own GitHub expression (`Secret`,
`Input`, `Context`: fixed shapes over validated names) or spec text. GitHub
also evaluates `${{` inside `env:` and `with:` values, so spec text goes
through `spec_text`, which turns every `${{` into the expression `${{ '${{' }}`
(the literal text `${{`): the value arrives byte for byte and never evaluates.

`check_workflow` is the last line: it walks a finished workflow and fails
compilation if a `run:` holds `${{` at all, or if any other string holds a
`${{` this module did not write.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Union

__all__ = ["Context", "Env", "GhExpr", "Input", "Ref", "Script", "Secret", "check_workflow", "condition",
           "both", "either", "equals", "expression_text", "run_step", "spec_text", "user_command", "UnsafeWorkflow"]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_ENV_NAME = re.compile(r"[A-Z][A-Z0-9_]*")
# Contexts a workflow may read into env: none of them carries text an outsider chooses, except
# the deploy dispatch's model, which whoever may dispatch chooses: it is env only, like an input,
# and the step that reads it refuses anything but a storage URI (deploy.py, MODEL_PATTERN).
_CONTEXTS = frozenset({"github.event_name", "github.run_id", "github.run_attempt", "github.sha",
                       "github.ref_name", "github.repository", "github.workflow", "github.ref",
                       "vars.PROMETHEUS_URL", "github.event.client_payload.model"})


class UnsafeWorkflow(Exception):
    """A generated workflow would expand untrusted text: a bug in the backend, never the user's fault."""


class GhExpr(str):
    """A string holding `${{ }}` that this module wrote (the only strings allowed to)."""

    __slots__ = ()


def _expr(body: str) -> GhExpr:
    return GhExpr("${{ " + body + " }}")


@dataclass(frozen=True)
class _Named:
    """`<context>.<NAME>` over a validated identifier: the name cannot carry an expression."""

    name: str
    context = ""

    def __post_init__(self) -> None:
        if not _IDENT.fullmatch(self.name):
            raise ValueError(f"not a valid {self.context} name: {self.name!r}")

    def expression(self) -> GhExpr:
        return _expr(f"{self.context}.{self.name}")


class Secret(_Named):
    context = "secrets"


class Input(_Named):
    """A `workflow_dispatch` input: typed by GitHub, still user text, so env only."""

    context = "inputs"


@dataclass(frozen=True)
class Context:
    path: str

    def __post_init__(self) -> None:
        if self.path not in _CONTEXTS:
            raise ValueError(f"context {self.path!r} is not on the allow-list")

    def expression(self) -> GhExpr:
        return _expr(self.path)


Bindable = Union[str, int, float, bool, Secret, Input, Context]

# What a job's `if:` may compare: the event's name, and the environment a drift dispatch names.
# Comparing is not expanding: the payload's text never reaches a shell.
_CONDITION_CONTEXTS = frozenset({"github.event_name", "github.event.client_payload.environment"})
_LITERAL = re.compile(r"[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class Clause:
    """A boolean expression made only by `equals` and `either`/`both` (never from spec text)."""

    text: str


def equals(path: str, literal: str, negate: bool = False) -> Clause:
    """`path == 'literal'` over an allow-listed context and a plain literal."""
    if path not in _CONDITION_CONTEXTS or not _LITERAL.fullmatch(literal):
        raise UnsafeWorkflow(f"not a safe comparison: {path} == {literal!r}")
    return Clause(f"{path} {'!=' if negate else '=='} '{literal}'")


def either(*clauses: Clause) -> Clause:
    return Clause("(" + " || ".join(c.text for c in clauses) + ")")


def both(*clauses: Clause) -> Clause:
    return Clause("(" + " && ".join(c.text for c in clauses) + ")")


def condition(clause: Clause) -> GhExpr:
    """A job's `if:`."""
    if not isinstance(clause, Clause):
        raise TypeError("a condition is built from Clauses")
    text = clause.text[1:-1] if clause.text.startswith("(") and clause.text.endswith(")") else clause.text
    return _expr(text)


def expression_text(*parts: Union[str, Context]) -> GhExpr:
    """A value (a concurrency group, say) made of constants and allow-listed contexts."""
    out = []
    for part in parts:
        if isinstance(part, Context):
            out.append(part.expression())
        elif type(part) is str and "${{" not in part:
            out.append(part)
        else:
            raise UnsafeWorkflow(f"not a constant: {part!r}")
    return GhExpr("".join(out))


def spec_text(text: str) -> str:
    """Spec-derived text for a value GitHub evaluates (`env:`, `with:`, names, urls): never an expression."""
    if "${{" not in text:
        return text
    return GhExpr(text.replace("${{", "${{ '${{' }}"))


@dataclass(frozen=True)
class Ref:
    """A bound env variable; the only way a value enters a script."""

    name: str

    def __str__(self) -> str:
        return '"${' + self.name + '}"'


@dataclass
class Env:
    """One step's `env:` mapping, built by binding values and getting `Ref`s back."""

    values: dict[str, str] = field(default_factory=dict)

    def bind(self, name: str, value: Bindable) -> Ref:
        if not _ENV_NAME.fullmatch(name) or name.startswith(("GITHUB_", "RUNNER_")):
            raise ValueError(f"not an env name a step may set: {name!r}")
        if name in self.values:
            raise ValueError(f"env {name} bound twice")
        if isinstance(value, (Secret, Input, Context)):
            self.values[name] = value.expression()
        elif isinstance(value, bool):
            self.values[name] = "true" if value else "false"
        elif isinstance(value, (int, float)):
            self.values[name] = format(value, "g") if isinstance(value, float) else str(value)
        elif isinstance(value, str):
            self.values[name] = spec_text(value)
        else:
            raise TypeError(f"cannot bind {type(value).__name__} to env")
        return Ref(name)

    def as_dict(self) -> dict[str, str]:
        return dict(self.values)


@dataclass
class Script:
    """A shell (or Python) script: constant fragments and `Ref`s, joined by spaces per line."""

    lines: list[str] = field(default_factory=list)

    def line(self, *parts: Union[str, Ref]) -> "Script":
        rendered = []
        for part in parts:
            if isinstance(part, Ref):
                rendered.append(str(part))
            elif type(part) is str:
                if "${{" in part:
                    raise UnsafeWorkflow(f"a script fragment holds an expression: {part!r}")
                rendered.append(part)
            else:
                raise TypeError(f"script parts are constants or Refs, not {type(part).__name__}")
        self.lines.append(" ".join(rendered))
        return self

    def text(self, *block: str) -> "Script":
        """Constant lines (a block of code written in this package)."""
        for chunk in block:
            for line in chunk.splitlines():
                self.line(line)
        return self

    def render(self) -> str:
        return "\n".join(self.lines) + "\n"


def run_step(name: str, script: Script, env: Env | None = None, shell: str | None = None) -> dict[str, Any]:
    step: dict[str, Any] = {"name": spec_text(name)}
    if shell:
        step["shell"] = shell
    if env and env.values:
        step["env"] = env.as_dict()
    step["run"] = script.render()
    return step


def user_command(command: str) -> str | None:
    """A spec `install:`/`test:` command for a `run:` as written, or None when it holds `${{`.

    These commands are the repository's own code (like a Makefile target) and
    run as written; but GitHub would expand a `${{` in them before the shell
    runs, so such a command is refused at compile time (the caller reports it).
    """
    return None if "${{" in command else command


def check_workflow(document: Any) -> None:
    """Fail if a `run:` holds `${{`, or any string holds a `${{` not written by this module."""

    def walk(node: Any, path: str, in_on: bool) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(key, str) and "${{" in key:
                    raise UnsafeWorkflow(f"{path}: a key holds an expression: {key!r}")
                if key == "run" and isinstance(value, str) and "${{" in value:
                    raise UnsafeWorkflow(f"{path}.run: a script holds `${{{{`: {value[:80]!r}")
                walk(value, f"{path}.{key}", in_on or (path == "" and key == "on"))
        elif isinstance(node, (list, tuple)):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]", in_on)
        elif isinstance(node, str) and "${{" in node:
            # `on:` is never evaluated by GitHub, so nothing of ours belongs there either.
            if in_on or not isinstance(node, GhExpr):
                raise UnsafeWorkflow(f"{path or '/'}: an expression the backend did not write: {node[:80]!r}")

    walk(document, "", False)
