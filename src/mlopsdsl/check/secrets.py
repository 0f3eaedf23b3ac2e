"""Credentials written as literals: the mistake that leaks keys into git history.

One scanner for every string a compile can emit. Two signals, either suffices:
the text *is* shaped like a credential (`credential_shape`: a cloud key, a token
with a known prefix, a private key block, a URL or header with a password), or a
value sits under a name that says it is secret (`WANDB_API_KEY`, `HF_TOKEN`,
`db_password`) and is not `${{ secrets.NAME }}`. Fields that hold a secret's
*name* (`webhook_secret`, `storage_secret`...) are checked for the first signal
only, which catches a pasted URL or token there.

It looks at every value and every mapping key of the spec (`patches:` included:
they are literal target documents, label keys and all), of each `uses:`
component, and at each value again with its `${{ }}` folded (`AKIA${{ '' }}...`
is one key once folded); `compile` runs the same shapes over every string the
targets produced (`scan_emitted`), so nothing the front end could not see leaves.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable, Iterator

from mlopsdsl.check.context import CheckContext, collect_strings, value_at
from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.source import Path, Span


def _basic_auth(match: re.Match) -> bool:
    """`Basic dXNlcjpwYXNz`: the base64 of `user:password`, not the word after "basic"."""
    try:
        decoded = base64.b64decode(match.group(1) + "=" * (-len(match.group(1)) % 4), validate=True)
        text = decoded.decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return False
    return ":" in text and text.isprintable()


@dataclass(frozen=True)
class Shape:
    pattern: re.Pattern
    what: str
    confirm: Callable[[re.Match], bool] | None = None  # a second look where the pattern alone is loose


_B64 = "A-Za-z0-9/+"
SHAPES = (
    Shape(re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key id"),
    # 40 characters of base64 with upper, lower and digits, alone: an AWS secret access key (a git SHA
    # is lowercase hex, a W&B key lowercase hex: neither matches)
    Shape(re.compile(rf"(?<![{_B64}=])(?=[{_B64}]{{0,39}}[A-Z])(?=[{_B64}]{{0,39}}[a-z])(?=[{_B64}]{{0,39}}[0-9])"
                     rf"[{_B64}]{{40}}(?![{_B64}=])"), "an AWS secret access key"),
    Shape(re.compile(r"\bgh[pousr]_[A-Za-z0-9]{30,}\b"), "a GitHub token"),
    Shape(re.compile(r"\bgithub_pat_[A-Za-z0-9_]{40,}\b"), "a GitHub token"),
    Shape(re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), "a GitLab token"),
    Shape(re.compile(r"\bnpm_[A-Za-z0-9]{36}\b"), "an npm token"),
    Shape(re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    Shape(re.compile(r"hooks\.slack\.com/services/"), "a Slack webhook URL"),
    Shape(re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY(?: BLOCK)?-----"), "a private key"),
    Shape(re.compile(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{10,}"), "a Stripe secret key"),
    Shape(re.compile(r"\bsk-[A-Za-z0-9_-]{20,}\b"), "an API secret key"),
    Shape(re.compile(r"\bhf_[A-Za-z0-9]{30,}\b"), "a Hugging Face token"),
    Shape(re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), "a Google API key"),
    Shape(re.compile(r"\bAccountKey=[A-Za-z0-9+/]{20,}={0,2}"), "an Azure storage account key"),
    Shape(re.compile(r"\beyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\."), "a JSON web token"),
    Shape(re.compile(r"://[^/\s:@]*:[^/\s@]+@"), "a URL with a password"),  # `redis://:pw@host` too
    Shape(re.compile(r"\b[Bb]asic\s+([A-Za-z0-9+/]{6,}={0,2})(?![A-Za-z0-9+/=])"), "a Basic auth credential",
          _basic_auth),
)
# One pass over each string finds out whether any shape could match at all (most never do).
_ANY_SHAPE = re.compile("|".join(f"(?:{shape.pattern.pattern})" for shape in SHAPES))

_SECRET_WORDS = frozenset({"password", "passwd", "pwd", "token", "secret", "credential", "credentials"})
_SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("secret", "key"), ("private", "key"),
                           ("auth", "key"), ("client", "secret")})
# A value that is one whole `${{ ... }}`: no literal text, whatever the expression says (a
# misspelled `secret.x` is the expression checker's to report, not a plain-text credential).
_WHOLE_EXPRESSION = re.compile(r"^\s*\$\{\{(?:(?!\}\}).)*\}\}\s*$", re.DOTALL)


@lru_cache(maxsize=4096)
def secret_named(key: str) -> bool:
    """`WANDB_API_KEY`, `HF_TOKEN`, `dbPassword` yes; `MAX_TOKENS`, `FEATURE_STORE_URL` no."""
    words = [w.lower() for w in re.split(r"[_\-.]|(?<=[a-z])(?=[A-Z])", key) if w]
    if any(w in _SECRET_WORDS for w in words) or words[-1:] == ["apikey"]:
        return True
    return any(pair in _SECRET_PAIRS for pair in zip(words, words[1:]))


def credential_shape(value: str) -> str | None:
    if not _ANY_SHAPE.search(value):
        return None
    for shape in SHAPES:
        for match in shape.pattern.finditer(value):
            if shape.confirm is None or shape.confirm(match):
                return shape.what
    return None


def folded(value: str) -> str | None:
    """`value` with each `${{ }}` replaced by its literal's text, or by nothing; None without expressions.

    A key split by an expression (`AKIA${{ '' }}IOSFODNN7EXAMPLE`) is written whole by the compile.
    """
    if "${{" not in value:
        return None
    from mlopsdsl.expr import ast
    from mlopsdsl.expr.parser import parse_expression
    from mlopsdsl.expr.template import CLOSE, split

    parts, _ = split(value)
    out = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        _, start, close = part
        node = parse_expression(value[start:close - len(CLOSE)])
        if isinstance(node, ast.Lit) and isinstance(node.value, (str, int, float)):
            out.append(str(node.value).lower() if isinstance(node.value, bool) else str(node.value))
    return "".join(out)


# --- the front end: the spec, its components ------------------------------------------------------

Report = Callable[[Path, str, str, bool], None]  # path, message, hint, at the key


def check_literal_secrets(ctx: CheckContext) -> None:
    """Scan the spec's strings and keys (a variant: only what its `set:` replaced; the rest was scanned)."""
    def report(path: Path, message: str, hint: str, key: bool) -> None:
        ctx.error(codes.LITERAL_SECRET, message, path, hint=hint, key=key)

    changed = ctx.base is not None
    _scan(ctx.strings(changed_only=changed), _keys(ctx.data, ctx.overridden if changed else None), report)


def check_component_secrets(ctx: CheckContext, components: dict[str, Any]) -> None:
    """The same scan over each `uses:` component file, reported in that file (a variant: the files
    its base did not scan)."""
    base = ctx.base.components if ctx.base is not None else {}
    for ref, component in components.items():
        if component is None or base.get(ref) is component:
            continue
        document = component.document

        def report(path: Path, message: str, hint: str, key: bool, document=document) -> None:
            ctx.diagnostics.append(Diagnostic(codes.LITERAL_SECRET, message, document.index.span(path, key=key),
                                              path, hint=hint))

        strings: list[tuple[Path, str, Any]] = []
        collect_strings(document.data, (), strings)
        _scan(strings, _keys(document.data, None), report)


def _scan(strings: list[tuple[Path, str, Any]], keys: Iterator[Path], report: Report) -> None:
    shapes: dict[str, str | None] = {}  # a large spec repeats its strings: 17,000, 1,900 distinct at 1,000 steps

    def shape_of(text: str) -> str | None:
        found = shapes.get(text, _UNSEEN)
        if found is _UNSEEN:
            found = shapes[text] = credential_shape(text)
        return found  # type: ignore[return-value]

    for path, value, key in strings:
        shape = shape_of(value)
        if shape is None and "${{" in value:
            whole = folded(value)
            shape = shape_of(whole) if whole else None
        key = _value_name(path, key)
        name_says_secret = (key is not None and secret_named(key) and not key.endswith("_secret")
                            and not _WHOLE_EXPRESSION.match(value) and _is_value_position(path))
        if shape or name_says_secret:
            what = shape or f"a credential (the name '{key}' says so)"
            report(path, f"this looks like {what} written in plain text", _hint(key), False)
    for path in keys:
        shape = shape_of(str(path[-1]))
        if shape:
            report(path, f"this key looks like {shape} written in plain text", _hint(None), True)


_UNSEEN = object()


def _hint(key: str | None) -> str:
    name = (key or "value").lower().replace("-", "_")
    return f"store it as a secret and write `${{{{ secrets.{name} }}}}` (or, in fields named *_secret, the secret's name)"


def _keys(data: Any, roots: tuple[Path, ...] | None) -> Iterator[Path]:
    """The path of every mapping key (under `roots` only, when given)."""
    stack = [(value_at(data, root), root) for root in roots] if roots is not None else [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                yield path + (key,)
                if isinstance(item, (dict, list)):
                    stack.append((item, path + (key,)))
        elif isinstance(value, list):
            stack.extend((item, path + (i,)) for i, item in enumerate(value) if isinstance(item, (dict, list)))


def _value_name(path: Path, key: str | None) -> str | None:
    """The name a value goes by: its key, or for a param's `default` the param's name."""
    if len(path) >= 3 and path[0] == "params" and path[-1] == "default":
        return str(path[-2])
    return key


def _is_value_position(path: Path) -> bool:
    """Keys of env maps and param defaults hold values; other keys (e.g. `schema` columns) hold names."""
    if len(path) >= 2 and path[-2] == "env":
        return True
    return len(path) >= 3 and path[0] == "params" and path[-1] == "default"


# --- compile: every string the targets produced ---------------------------------------------------

def scan_emitted(artifacts: list[Any], spec_path: str) -> list[Diagnostic]:
    """Credential shapes and unsafe characters in what would be written: one error per file and problem.

    The front end reports what it can place in the spec; what reaches this point came
    another way (a value a target built from several fields), and is named by the file.
    """
    from mlopsdsl.charset import describe, first_unsafe

    found: list[Diagnostic] = []
    for artifact in artifacts:
        problems: dict[str, str] = {}
        for text in _emitted_strings(artifact):
            char = first_unsafe(text)
            if char is not None and "unsafe" not in problems:
                problems["unsafe"] = f"{artifact.path} would hold {describe(char)}"
            shape = credential_shape(text)
            if shape is not None and "secret" not in problems:
                problems["secret"] = f"{artifact.path} would hold {shape} in plain text"
        for kind, message in problems.items():
            code = codes.UNSAFE_CHARACTER if kind == "unsafe" else codes.LITERAL_SECRET
            hint = ("find the value in the spec and remove the character" if kind == "unsafe" else
                    "find the value in the spec and store it as a secret: `${{ secrets.NAME }}`")
            found.append(Diagnostic(code, message, Span.point(spec_path), hint=hint))
    return found


def _emitted_strings(artifact: Any) -> Iterator[str]:
    yield artifact.path
    if artifact.header:
        yield artifact.header
    if artifact.text is not None:
        yield artifact.text
    stack = list(artifact.documents)
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            yield value
            comment = getattr(value, "comment", None)
            if comment:
                yield comment
        elif isinstance(value, dict):
            for key, item in value.items():
                stack.append(str(key))
                stack.append(item)
        elif isinstance(value, (list, tuple)):
            stack.extend(value)
