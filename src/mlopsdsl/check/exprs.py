"""Every `${{ ... }}` in a spec: parsed, resolved against the spec's names, typed
in the context of the place it stands, and remembered for the lowering.

Each place of the language has one context (a step's `when` is `step_when`,
an alert's `when` is `alert_when`...): the language table says which
(`Field.context`). Any other
string that holds `${{` is checked as plain `text`, so an expression can never
slip through a field nobody thought about (a `${{ github.event... }}` pasted
into a CI command is refused here, not interpolated by GitHub later).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Iterable

from mlopsdsl import language
from mlopsdsl.check.context import CheckContext, collect_strings, value_at
from mlopsdsl.check.holes import unknown_names
from mlopsdsl.check.symbols import StepDecl, Symbols
from mlopsdsl.diagnostics import codes
from mlopsdsl.expr import ast
from mlopsdsl.expr import types as t
from mlopsdsl.expr.scope import TableScope, Unresolved
from mlopsdsl.expr.template import ParsedValue, parse_value
from mlopsdsl.expr.typecheck import check as typecheck
from mlopsdsl.source import Path

LOCAL_ROOTS = frozenset({"inputs", "outputs", "item"})
# Contexts where a value is text that may hold `${{ }}`; elsewhere a value is one expression.
TEXT_CONTEXTS = frozenset({"text", "run_arg", "step_env", "step_input", "source_env"})
_RECODE = {"params": codes.UNKNOWN_PARAM, "data": codes.UNKNOWN_DATA}


@dataclass
class Checked:
    """One checked string value: its parts and the type of the whole."""

    parsed: ParsedValue
    type: t.Type
    scope: "SpecScope"
    context: str
    # the type the checker gave each list literal (by node id): `[1, 2.5]` is list[float]
    decided: dict[int, t.Type] = field(default_factory=dict)

    def same_check(self, other: "Checked") -> bool:
        """The same text checked in the same context against the same names: the same result."""
        return (self is other or self.parsed.value == other.parsed.value and self.context == other.context
                and self.scope.key == other.scope.key)


@dataclass
class StepRecord:
    """What checking one step's strings depended on, and which entries of the table it made."""

    raw: dict[str, Any]  # the step as written (the overlay shares it when a variant leaves it alone)
    component: tuple[str, str] | None  # (path, text) of the component it uses
    paths: list[Path] = field(default_factory=list)


@dataclass
class ExprTable:
    by_path: dict[Path, Checked] = field(default_factory=dict)
    # step name -> {upstream step: the paths whose expressions reference it}
    edges: dict[str, dict[str, list[Path]]] = field(default_factory=dict)
    input_types: dict[str, dict[str, t.Type]] = field(default_factory=dict)
    # step name -> the type of its `for_each` list, as checked (the lowering and the targets read it)
    loop_types: dict[str, t.Type] = field(default_factory=dict)
    scope_key: tuple = ()  # the global names the expressions were resolved against
    scope: "SpecScope | None" = None  # and the scope holding them
    steps: dict[str, StepRecord] = field(default_factory=dict)

    def same_as(self, other: "ExprTable") -> bool:
        """Every expression here was checked as in `other`, and there are no others."""
        if len(self.by_path) != len(other.by_path):
            return False
        for path, checked in self.by_path.items():
            theirs = other.by_path.get(path)
            if theirs is None or not checked.same_check(theirs):
                return False
        return True

    def reuse_step(self, base: "ExprTable", name: str) -> None:
        """Take a step's results from the base spec's table (see `check_expressions`)."""
        record = self.steps[name] = base.steps[name]
        for path in record.paths:
            self.by_path[path] = base.by_path[path]
        self.edges[name] = base.edges[name]
        self.input_types[name] = base.input_types[name]
        if name in base.loop_types:
            self.loop_types[name] = base.loop_types[name]

    def get(self, path: Path) -> Checked | None:
        return self.by_path.get(tuple(path))


class SpecScope:
    """The global names of a spec, plus one step's `inputs`/`outputs`/`item`.

    `key` identifies what the scope resolves (not the object): two scopes with
    equal tables get equal keys, so a clean check result can be reused.
    """

    __slots__ = ("table", "local", "key")

    def __init__(self, table: TableScope, local: TableScope | None = None, key: tuple = ()) -> None:
        self.table, self.local, self.key = table, local, key

    def resolve(self, parts: tuple[str, ...]) -> t.Type | Unresolved:
        scope = self.local if parts[0] in LOCAL_ROOTS and self.local is not None else self.table
        found = scope.resolve(parts)
        return _recode(parts, found) if isinstance(found, Unresolved) else found


# Interned tables: content -> (token, TableScope). The same names always get the same token,
# in every environment variant of a spec and in every step with the same inputs and outputs.
_TABLES: dict[frozenset, tuple[int, TableScope]] = {}
# (value, context, scope key) -> (parts, type) for values whose check found nothing wrong.
_CLEAN: dict[tuple, tuple[tuple, t.Type, dict[int, t.Type]]] = {}
# Both caches live as long as the process: one run of `validate`, or hours of a language server whose
# every edit of a name makes a new global table. They are emptied together when either grows past its
# bound (names held in tables, entries), which one run of a 5,000-step spec stays far below.
_CACHE_LIMIT = 200_000
_held = 0  # names in the interned tables
# Tokens are never reused: a key made before the caches were emptied cannot match a newer table.
_TOKENS = itertools.count(1)


def _interned(names: dict[tuple[str, ...], t.Type]) -> tuple[int, TableScope]:
    global _held
    content = frozenset(names.items())
    found = _TABLES.get(content)
    if found is None:
        if _held > _CACHE_LIMIT or len(_CLEAN) > _CACHE_LIMIT:
            _TABLES.clear()
            _CLEAN.clear()
            _held = 0
        _held += len(names)
        found = _TABLES[content] = (next(_TOKENS), TableScope(names))
    return found


def make_scope(global_scope: "SpecScope | None", names: dict[tuple[str, ...], t.Type]) -> "SpecScope":
    token, table = _interned(names)
    if global_scope is None:
        return SpecScope(table, None, (token,))
    return SpecScope(global_scope.table, table, global_scope.key + (token,))



def _recode(parts: tuple[str, ...], problem: Unresolved) -> Unresolved:
    """Report unknown references under the 3xx code of what is unknown."""
    root, known = parts[0], problem.known
    if root == "item" and known == 0:
        return Unresolved("`item` exists only in a step with `for_each`", "add `for_each` to the step, or use a "
                          "param for a single value", 0, problem.code)
    if root == "steps":
        code = codes.UNKNOWN_STEP if known <= 1 else codes.UNKNOWN_OUTPUT if known <= 3 else codes.UNKNOWN_FIELD
    elif root in ("inputs", "outputs"):
        code = codes.UNKNOWN_STEP_IO
    else:
        code = _RECODE.get(root, problem.code)
    return Unresolved(problem.message, problem.hint, problem.known, code)


def output_type(out) -> t.Type:
    if out.fields:
        return t.metrics({k: t.from_name(v) or t.UNKNOWN for k, v in out.fields.items()})
    return t.from_name(out.type) or t.UNKNOWN


def global_names(ctx: CheckContext, symbols: Symbols) -> dict[tuple[str, ...], t.Type]:
    names: dict[tuple[str, ...], t.Type] = {}
    for name, param in symbols.params.items():
        names[("params", name)] = t.from_name(str(param.get("type"))) or t.UNKNOWN
    for name, source in symbols.data.items():
        names[("data", name)] = t.DATASET
        names[("data", name, "uri")] = t.STR
    for key in ("name", "version", "description"):
        names[("metadata", key)] = t.STR
    for key in ("name", "task", "framework"):
        names[("model", key)] = t.STR
    for key in ("name", "namespace", "kfp_host", "url"):
        names[("env", key)] = t.STR
    for step in symbols.steps.values():
        looped = step.data.get("for_each") is not None
        for out in step.outputs.values():
            kind = output_type(out)
            # Read from outside its loop (every reader is: each for_each step is a loop of its own), a
            # looped step's output is the list of every item's value (KFP's dsl.Collected).
            names[("steps", step.name, "outputs", out.name)] = t.collected(kind) if looped else kind
    drift = ctx.section("monitoring").get("drift")
    if isinstance(drift, dict):
        for feature in drift.get("features") or []:
            if isinstance(feature, str):
                names[("drift", "score", feature)] = t.FLOAT
    if ctx.holes:
        names.update(unknown_names(ctx.holes))
    return names


def _base_scope(ctx: CheckContext, symbols: Symbols) -> SpecScope | None:
    """The base spec's global names, for a variant whose `global_names` would be the same: the same
    steps with the same outputs, params of the same types, the same data sources and drift features.
    Not computing them saves a pass over every step's outputs per environment."""
    base = ctx.base
    if base is None or base.exprs.scope is None or list(symbols.steps) != list(base.symbols.steps):
        return None
    if not all(map(_same_step_names, symbols.steps.values(), base.symbols.steps.values())):
        return None
    return base.exprs.scope if _names_beside_steps(ctx, symbols) == _names_beside_steps(base.ctx, base.symbols) \
        else None


def _same_step_names(step: StepDecl, base: StepDecl) -> bool:
    """The names `global_names` makes of a step: its outputs, each a list when it loops."""
    return step is base or (step.outputs == base.outputs
                            and (step.data.get("for_each") is None) == (base.data.get("for_each") is None))


def _names_beside_steps(ctx: CheckContext, symbols: Symbols) -> tuple:
    drift = ctx.section("monitoring").get("drift")
    return (tuple((name, str(param.get("type"))) for name, param in symbols.params.items()), tuple(symbols.data),
            repr(drift.get("features")) if isinstance(drift, dict) else None)


def check_expressions(ctx: CheckContext, symbols: Symbols) -> ExprTable:
    """Check every expression of the spec.

    A variant checked after its base (`ctx.base`) with the same global names
    takes from the base every step it shares with it, and checks as text only
    the strings it overrode: anything else would give the base's results again.
    """
    scope = _base_scope(ctx, symbols) or make_scope(None, global_names(ctx, symbols))
    table = ExprTable(scope_key=scope.key, scope=scope)
    base = ctx.base.exprs if ctx.base is not None and ctx.base.exprs.scope_key == scope.key else None
    checked_paths: set[Path] = set()
    missing = object()
    recording: list[Path] | None = None

    def check(path: Path, context: str, using: SpecScope = scope, *, document=None,
              store: Path | None = None, value: Any = missing) -> Checked | None:
        """Check the string at `path` (of the spec, or of a component `document`); keep it under `store`."""
        if value is missing:
            value = value_at(ctx.data if document is None else document.data, path)
        checked_paths.add(path)
        if not isinstance(value, str) or ("${{" not in value and context in TEXT_CONTEXTS):
            return None
        index = ctx.index if document is None else document.index
        info = index.get(path)
        if info is None:
            return None
        file_text = (ctx.source if document is None else document.source).text
        key = (value, context, using.key)
        hit = _CLEAN.get(key)
        if hit is not None:
            parsed, found, decided = ParsedValue(value, hit[0], info, file_text, path), hit[1], hit[2]
        else:
            parsed, problems = parse_value(value, info, file_text, path)
            decided = {}
            found, more = typecheck(parsed, context, using, decided)
            if problems or more:
                ctx.diagnostics.extend(problems + more)
            else:
                _CLEAN[key] = (parsed.parts, found, decided)
        result = Checked(parsed, found, using, context, decided)
        if document is None or store is not None:
            table.by_path[store or path] = result
            if recording is not None:
                recording.append(store or path)
        return result

    for step in symbols.all_steps():
        raw = value_at(ctx.data, step.path)
        component = (step.component.path, step.component.document.source.text) if step.component else None
        previous = base.steps.get(step.name) if base is not None else None
        if previous is not None and previous.raw is raw and previous.component == component:
            table.reuse_step(base, step.name)
            continue
        record = table.steps[step.name] = StepRecord(raw, component)
        recording = record.paths
        _check_step(ctx, step, raw if isinstance(raw, dict) else {}, scope, table, check)
        recording = None
    # Outside the pipeline, each field's context comes from the language table.
    for section, value in ctx.data.items():
        entry = language.PROJECT.fields.get(section)
        if section != "pipeline" and entry is not None:
            for path, context, held in language.expression_places(value, entry, (section,)):
                check(path, context, value=held)
    # Everything else that holds `${{` is text with metadata/params/env/model in it. An environment's
    # `set:` values are checked where they land, in the context of that place, when the variant is.
    if base is not None:
        for path, checked in base.by_path.items():
            if checked.context == "text" and path not in checked_paths and not ctx.overrides(path):
                table.by_path[path] = checked
    for path, value, _ in ctx.strings(changed_only=base is not None):
        if "${{" in value and path not in checked_paths and path[:1] != ("patches",) and not _is_set_value(path):
            check(path, "text", value=value)
    _alias_defaults(symbols, table)
    return table


def _is_set_value(path: Path) -> bool:
    return len(path) >= 4 and path[0] == "environments" and path[2] == "set"


def _check_step(ctx: CheckContext, step: StepDecl, raw: dict[str, Any], scope: SpecScope, table: ExprTable,
                check) -> None:
    """`raw` is the step as written (without defaults or component)."""
    base = step.path
    edges = table.edges.setdefault(step.name, {})
    item_type = t.UNKNOWN
    looped = "for_each" in raw  # `item` exists only in a step that fans out
    if looped:
        checked = check(base + ("for_each",), "for_each") if isinstance(raw["for_each"], str) else None
        if checked is not None and checked.type.name == "list":
            item_type = checked.type.elem or t.UNKNOWN
        elif isinstance(raw["for_each"], list):
            item_type = literal_list_type(raw["for_each"])
        table.loop_types[step.name] = t.list_of(item_type)
        _note_edges(checked, base + ("for_each",), edges)
    item_scope = make_scope(scope, {("item",): item_type} if looped else {})
    inputs: dict[str, t.Type] = {}
    for name, value in (raw.get("inputs") or {}).items():
        checked = check(base + ("inputs", name), "step_input", item_scope, value=value)
        inputs[name] = checked.type if checked is not None else literal_type(value)
        _note_edges(checked, base + ("inputs", name), edges)
    for name, value in (raw.get("params") or {}).items():
        check(base + ("params", name), "text", item_scope, value=value)
    if step.component is not None:
        inputs = {name: t.from_name(decl.type) or t.UNKNOWN for name, decl in step.component.inputs.items()}
    table.input_types[step.name] = inputs
    local = step_locals(inputs, step.outputs)
    if looped:
        local[("item",)] = item_type
    step_scope = make_scope(scope, local)
    if "when" in raw:
        _note_edges(check(base + ("when",), "step_when", step_scope), base + ("when",), edges)
    run_owner = step.component.document if step.component is not None and "run" not in raw else None
    run = (run_owner.data if run_owner is not None else raw).get("run")
    run_base = ("run",) if run_owner is not None else base + ("run",)
    for i, arg in enumerate(run if isinstance(run, list) else []):
        check(run_base + (i,), "run_arg", step_scope, document=run_owner, store=base + ("run", i), value=arg)
    for key, value in (raw.get("env") or {}).items():
        check(base + ("env", key), "step_env", item_scope, value=value)
    for path, context, value in _from_component(step):
        _note_edges(check(path, context, item_scope if path[0] == "env" else step_scope, value=value,
                          document=step.component.document, store=base + path), base + path, edges)
    for upstream in raw.get("after") or []:
        if isinstance(upstream, str):
            edges.setdefault(upstream, []).append(base + ("after",))
    # Step fields with a context of their own and no scope rule above: the table says which.
    for key, entry in language.STEP_FIELDS.items():
        if key in raw and key not in _STEP_FIELDS_BY_HAND:
            for path, context, held in language.expression_places(raw[key], entry, base + (key,)):
                _note_edges(check(path, context, step_scope, value=held), path, edges)


def _from_component(step: StepDecl) -> Iterable[tuple[Path, str, str]]:
    """(path in the component file, context, text) of each expression a step takes from its component
    (other than `run`, checked with the step's): checked where it is written, kept under the step's path."""
    if step.component is None:
        return
    for rel, origin in step.origins.items():
        if origin == "component" and rel[0] != "run":
            value = value_at(step.component.data, rel)
            found: list[tuple[Path, str, Any]] = [(rel, value, None)] if isinstance(value, str) else []
            collect_strings(value, rel, found)
            for path, value, _ in found:
                if "${{" in value:
                    yield path, language.context_at(path, language.COMPONENT) or "text", value


def _alias_defaults(symbols: Symbols, table: ExprTable) -> None:
    """A value a step takes from `defaults:` is checked once, where it is written (`defaults.env.X` in the
    context of a step's env); the lowering finds that result under each such step's own path."""
    written = [(path[1:], checked) for path, checked in table.by_path.items() if path[0] == "defaults"]
    if not written:
        return
    for step in symbols.all_steps():
        for rel, checked in written:
            if step.origins.get(rel[:1]) == "defaults" or step.origins.get(rel[:2]) == "defaults":
                table.by_path[step.path + rel] = checked


# Checked above in this order, since each one's scope depends on the one before: `for_each`
# types `item`, `inputs` type `inputs.X`, and the rest sees both.
_STEP_FIELDS_BY_HAND = frozenset({"for_each", "inputs", "params", "when", "run", "env"})


def step_locals(inputs: dict[str, t.Type], outputs: Iterable[str]) -> dict[tuple[str, ...], t.Type]:
    """The names a step's own run and `when` see: `inputs.X` (and `.path`/`.uri`), `outputs.X.path`/`.uri`."""
    local: dict[tuple[str, ...], t.Type] = {}
    for name, kind in inputs.items():
        local[("inputs", name)] = kind
        if kind.is_artifact or kind == t.UNKNOWN:  # unknown: its own mistake is reported already
            local[("inputs", name, "path")] = local[("inputs", name, "uri")] = t.STR
    for name in outputs:
        local[("outputs", name, "path")] = local[("outputs", name, "uri")] = t.STR
    return local


class _Unknowable:
    """The names of the project that will use a component: unknown while the component is checked alone."""

    def resolve(self, parts: tuple[str, ...]) -> t.Type:
        return t.UNKNOWN


def check_component_expressions(ctx: CheckContext, inputs: dict[str, t.Type], outputs: Iterable[str]) -> None:
    """A `kind: Component` file validated on its own: every `${{ }}` over the component's inputs and outputs.

    Its `run` and `env` are checked as a step's are; names of the project that will use it (params,
    metadata...) cannot be known here and pass, to be checked where a spec `uses:` the component.
    """
    scope = SpecScope(_Unknowable(), TableScope(step_locals(inputs, outputs)))  # type: ignore[arg-type]
    for path, value, _ in ctx.strings():
        info = ctx.index.get(path)
        if "${{" not in value or info is None:
            continue
        parsed, problems = parse_value(value, info, ctx.source.text, path)
        found, more = typecheck(parsed, language.context_at(path, language.COMPONENT) or "text", scope)
        ctx.diagnostics.extend(problems + more)


def _note_edges(checked: Checked | None, path: Path, edges: dict[str, list[Path]]) -> None:
    if checked is None:
        return
    for expression in checked.parsed.expressions:
        if expression.node is None:
            continue
        for name in ast.names(expression.node):
            if name.parts[0] == "steps" and len(name.parts) >= 2:
                edges.setdefault(name.parts[1], []).append(path)


def literal_list_type(values: list[Any]) -> t.Type:
    """The item type of a literal list: the least type every item fits, as for `${{ [1, 2.5] }}`
    (`[1, 2.5]` holds floats); unknown when the items have none in common."""
    found = t.UNKNOWN
    for value in values:
        found = t.unify(found, literal_type(value)) or t.UNKNOWN
        if found == t.UNKNOWN:
            break
    return found


def literal_type(value: Any) -> t.Type:
    if isinstance(value, dict):
        return t.record({str(k): literal_type(v) for k, v in value.items()})
    if isinstance(value, bool):
        return t.BOOL
    if isinstance(value, int):
        return t.INT
    if isinstance(value, float):
        return t.FLOAT
    return t.STR if isinstance(value, str) else t.UNKNOWN
