"""JSON Schema validation -> diagnostics: a fast yes/no first, explanations only on failure.

A valid spec costs one call into `jsonschema_rs` with a validator compiled once
per process; python-jsonschema is not even imported. Only an invalid spec is
run again through python-jsonschema, whose errors carry the schema they failed
against (`error.schema`, `error.context` for each `anyOf` branch), which is what
we need to say "did you mean 'framework'?" or "expected a duration like 30s"
instead of echoing the schema. Each error becomes one diagnostic at the place
the user must edit: the key for an unknown key, the parent's key for a missing
one, the value otherwise.
"""

from __future__ import annotations

import difflib
from functools import cache
from typing import Any, Iterable

from mlopsdsl import resources
from mlopsdsl.charset import describe, first_unsafe
from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.expr.units import MAX_INT
from mlopsdsl.loader import Document
from mlopsdsl.source import Path, format_path

# When two errors land on the same spot, the one a user should fix first wins.
_RANK = {c.code: i for i, c in enumerate((
    codes.SCHEMA_API_VERSION, codes.SCHEMA_TYPE, codes.SCHEMA_UNKNOWN_KEY, codes.SCHEMA_SHAPE,
    codes.SCHEMA_ENUM, codes.SCHEMA_PATTERN, codes.SCHEMA_RANGE, codes.SCHEMA_MISSING_KEY))}
_HEADER_KEYS = ("apiVersion", "kind")
_TYPE_WORDS = {"object": "a mapping", "array": "a list", "string": "text", "integer": "a whole number",
               "number": "a number", "boolean": "true or false", "null": "nothing"}
_RANGE_KEYWORDS = frozenset({"minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength",
                             "maxLength", "minItems", "maxItems", "minProperties", "maxProperties", "uniqueItems"})
_COLLECTION_RANGES = frozenset({"minItems", "maxItems", "minProperties", "maxProperties", "uniqueItems"})
_SCHEMA_WALK = frozenset({"properties", "additionalProperties", "items", "prefixItems"})


@cache
def _fast_validator() -> Any:
    import jsonschema_rs

    return jsonschema_rs.validator_for(resources.schema())


@cache
def _explaining_validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(resources.schema())


def validate(document: Document) -> list[Diagnostic]:
    found = [_out_of_range(document, path) for path in document.out_of_range]
    found += [_unsafe_text(document, path) for path in document.unsafe_text]
    try:
        if _fast_validator().is_valid(document.data):
            return found
    except (ValueError, OverflowError, TypeError):
        pass  # numbers jsonschema_rs cannot hold (nan, huge ints): let the slow path judge
    return found + _Explainer(document).explain()


def _unsafe_text(document: Document, path: Path) -> Diagnostic:
    container: Any = document.data
    for part in path[:-1]:
        container = container[part]
    value = container[path[-1]]
    is_key = not isinstance(value, str) or first_unsafe(value) is None  # else the key (or both: one report)
    char = first_unsafe(str(path[-1]) if is_key else value)
    what = "key" if is_key else "text"
    span = document.index.span(path, key=is_key)
    info = document.index.get(path)
    if not is_key and info is not None and char is not None:  # at the character (or its escape) itself
        from mlopsdsl.expr.positions import SourceMap

        at = value.index(char)
        span = SourceMap(value, info, document.source.text).span(at, at + 1)
    return Diagnostic(codes.UNSAFE_CHARACTER, f"this {what} holds {describe(char or '?')}, which would reach "
                      "generated files", span, path,
                      hint="remove it: control characters and bidirectional controls hide or reorder what "
                           "a reader of the generated files sees")


def _out_of_range(document: Document, path: Path) -> Diagnostic:
    """JSON Schema's numbers are JSON's: `.inf`/`.nan` are none, and 64 bits is what targets hold."""
    span = document.index.span(path)
    written = document.source.line(span.line)[span.col - 1:span.end_col - 1] if span.end_line == span.line else ""
    written = written if 0 < len(written) <= 24 else f"{written[:10]}...{written[-10:]}"
    if written.lower().lstrip("+-") in (".inf", ".nan"):
        message, hint = f"{written} is not a finite number", "write a finite number, or leave the field out"
    else:
        message, hint = (f"the number {written} is too large",
                         f"numbers must fit a 64-bit integer (up to {MAX_INT}) and be finite; quote it if it is text")
    return Diagnostic(codes.NUMBER_TOO_LARGE, message, span, path, hint=hint)


class _Explainer:
    def __init__(self, document: Document) -> None:
        self.doc = document
        self.defs = resources.schema().get("$defs", {})
        self.found: list[Diagnostic] = []
        self.seen_required: set[tuple] = set()

    def explain(self) -> list[Diagnostic]:
        for error in _explaining_validator().iter_errors(self.doc.data):
            self.error(error)
        return _one_per_place(self.found)

    # -- dispatch ------------------------------------------------------------------------------------
    def error(self, error: Any) -> None:
        path: Path = tuple(error.absolute_path)
        keyword = error.validator
        if _is_key_error(error):
            self.bad_key(error, path)
        elif len(path) == 1 and path[0] in _HEADER_KEYS:
            self.header(error, path)
        elif keyword == "additionalProperties":
            self.unknown_keys(error, path)
        elif keyword == "required":
            self.missing(error, path)
        elif keyword == "dependentRequired":
            for name, needs in error.validator_value.items():
                if name in error.instance and any(n not in error.instance for n in needs):
                    self.add(codes.SCHEMA_MISSING_KEY, f"'{name}' is only allowed together with "
                             f"{_quoted_list(needs)}", path + (name,), key=True)
        elif keyword in ("anyOf", "oneOf"):
            self.alternatives(error, path)
        elif keyword == "type":
            self.wrong_type(error, path)
        elif keyword in ("enum", "const"):
            allowed = error.validator_value if keyword == "enum" else [error.validator_value]
            self.not_allowed(error.instance, allowed, path)
        elif keyword == "pattern":
            self.add(codes.SCHEMA_PATTERN, _pattern_message(error), path)
        elif keyword in _RANGE_KEYWORDS:
            self.add(codes.SCHEMA_RANGE, _range_message(error), path)
        else:
            self.add(codes.SCHEMA_SHAPE, f"{_where(path)} is not valid here", path)

    def add(self, code: codes.Code, message: str, path: Path, *, key: bool = False, hint: str | None = None) -> None:
        self.found.append(Diagnostic(code, message, self.doc.index.span(path, key=key), path, hint=hint))

    # -- one method per kind of mistake --------------------------------------------------------------
    def missing(self, error: Any, path: Path) -> None:
        missing = _missing(error)
        if (path, tuple(missing)) in self.seen_required:
            return  # python-jsonschema reports each missing key of one `required` separately
        self.seen_required.add((path, tuple(missing)))
        header = [name for name in missing if name in _HEADER_KEYS]
        if header and not path:
            self.add(codes.SCHEMA_API_VERSION, f"missing {_quoted_list(header)}; a spec starts with "
                     "`apiVersion: mlopsdsl/v1` and `kind: Project` (or `kind: Component`)", ())
            return
        noun = "key" if len(missing) == 1 else "keys"
        self.add(codes.SCHEMA_MISSING_KEY, f"missing required {noun} {_quoted_list(missing)} in {_where(path)}",
                 path, key=True, hint=f"add `{missing[0]}:` under {_where(path)}")

    def header(self, error: Any, path: Path) -> None:
        accepted = "mlopsdsl/v1" if path[0] == "apiVersion" else "Project or Component"
        self.add(codes.SCHEMA_API_VERSION, f"unknown {path[0]} {_show(error.instance)}; "
                 f"this version of mlopsdsl reads {accepted}", path)

    def unknown_keys(self, error: Any, path: Path) -> None:
        allowed = sorted(error.schema.get("properties", {}))
        for key in error.instance:
            if key in allowed:
                continue
            message = f"unknown key '{key}' in {_where(path)}"
            close = difflib.get_close_matches(str(key), allowed, n=1, cutoff=0.6)
            if close:
                message += f"; did you mean '{close[0]}'?"
            hint = f"allowed here: {', '.join(allowed)}" if allowed else None
            if path[-1:] == ("on_exit",) and key in ("when", "for_each", "after", "parallelism"):
                hint = "on_exit runs whatever happened: it takes no when, for_each, after or parallelism"
            self.add(codes.SCHEMA_UNKNOWN_KEY, message, path + (key,), key=True, hint=hint)

    def bad_key(self, error: Any, path: Path) -> None:
        key_path = path + (error.instance,)
        if error.validator == "pattern":
            self.add(codes.SCHEMA_PATTERN, _pattern_message(error), key_path, key=True)
        elif error.validator in _RANGE_KEYWORDS:
            self.add(codes.SCHEMA_RANGE, _range_message(error, key=True), key_path, key=True)
        else:
            self.add(codes.SCHEMA_SHAPE, f"'{error.instance}' is not a valid name here", key_path, key=True)

    def wrong_type(self, error: Any, path: Path) -> None:
        expected = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        hint = None
        if "string" in expected and isinstance(error.instance, (int, float, bool)):
            hint = f"quote it: \"{self.source_text(path) or _show(error.instance)}\""
        self.add(codes.SCHEMA_TYPE, f"{_where(path)}: expected {_words(expected)}, found {_found(error.instance)}",
                 path, hint=hint)

    def not_allowed(self, value: Any, allowed: list[Any], path: Path) -> None:
        names = [str(a) for a in allowed]
        hint = None
        if isinstance(value, str):
            close = difflib.get_close_matches(value, names, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'?" if close else None
        self.add(codes.SCHEMA_ENUM, f"{_show(value)} is not allowed for {_where(path)}; "
                 f"expected one of: {', '.join(names)}", path, hint=hint)

    def alternatives(self, error: Any, path: Path) -> None:
        branches = [self.resolve(b) for b in error.validator_value]
        if all(set(b) == {"required"} for b in branches):
            self.one_of_keys(error, path, [b["required"] for b in branches])
            return
        by_branch: dict[int, list[Any]] = {}
        for sub in error.context:
            by_branch.setdefault(sub.relative_schema_path[0], []).append(sub)
        fitting = [i for i, b in enumerate(branches) if _accepts(b, error.instance) and i in by_branch]
        if len(fitting) == 1:
            for sub in by_branch[fitting[0]]:
                self.error(sub)
            return
        nouns = [self.noun(b) for b in branches]
        self.add(codes.SCHEMA_SHAPE, f"{_where(path)}: expected one of: {', or '.join(nouns)}; "
                 f"found {_found(error.instance)}", path)

    def one_of_keys(self, error: Any, path: Path, groups: list[list[str]]) -> None:
        keys = [g[0] for g in groups]
        present = [k for k in keys if isinstance(error.instance, dict) and k in error.instance]
        choices = " or ".join(f"'{k}'" for k in keys)
        if len(present) > 1:
            self.add(codes.SCHEMA_SHAPE, f"{_where(path)} has both {' and '.join(repr(k) for k in present)}; "
                     f"use exactly one of {choices}", path + (present[-1],), key=True)
        else:
            self.add(codes.SCHEMA_MISSING_KEY, f"missing {choices} in {_where(path)}", path, key=True)

    # -- helpers that need the schema or the source ---------------------------------------------------
    def resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        seen = 0
        while "$ref" in schema and seen < 20:
            target = self.defs.get(schema["$ref"].rsplit("/", 1)[-1], {})
            schema = {**target, **{k: v for k, v in schema.items() if k != "$ref"}}
            seen += 1
        return schema

    def noun(self, schema: dict[str, Any]) -> str:
        if "x-noun" in schema:
            return schema["x-noun"]
        types = schema.get("type", "object")
        return _words(types if isinstance(types, list) else [types])

    def source_text(self, path: Path) -> str:
        span = self.doc.index.span(path)
        if span.line != span.end_line:
            return ""
        return self.doc.source.line(span.line)[span.col - 1:span.end_col - 1]


def _is_key_error(error: Any) -> bool:
    """An error about a mapping key (from `propertyNames`), not about a value."""
    schema_path = list(error.absolute_schema_path)
    if "propertyNames" not in schema_path or not isinstance(error.instance, str):
        return False
    tail = schema_path[len(schema_path) - schema_path[::-1].index("propertyNames"):]
    return not _SCHEMA_WALK.intersection(tail)


def _missing(error: Any) -> list[str]:
    instance = error.instance if isinstance(error.instance, dict) else {}
    return [k for k in error.validator_value if k not in instance]


def _accepts(schema: dict[str, Any], value: Any) -> bool:
    types = schema.get("type")
    if types is None:
        return True
    types = types if isinstance(types, list) else [types]
    if isinstance(value, bool):
        return "boolean" in types
    if isinstance(value, int):
        return "integer" in types or "number" in types
    if isinstance(value, float):
        return "number" in types or ("integer" in types and value.is_integer())
    kinds = {str: "string", list: "array", dict: "object", type(None): "null"}
    return kinds.get(type(value)) in types


def _pattern_message(error: Any) -> str:
    what = error.schema.get("patternErrorMessage")
    if what:
        return f"{_show(error.instance)} is {what}"
    return f"{_show(error.instance)} does not have the expected format"


def _range_message(error: Any, key: bool = False) -> str:
    keyword, limit, value = error.validator, error.validator_value, error.instance
    shown = _show(value)
    messages = {
        "minimum": f"{shown} is too small; the minimum is {limit}",
        "maximum": f"{shown} is too large; the maximum is {limit}",
        "exclusiveMinimum": f"{shown} must be more than {limit}",
        "exclusiveMaximum": f"{shown} must be less than {limit}",
        "minLength": "must not be empty" if limit == 1 else f"{shown} is shorter than {limit} characters",
        "maxLength": f"{shown} is longer than {limit} characters",
        "minItems": f"needs at least {limit} item{'s' if limit != 1 else ''}",
        "maxItems": f"has more than {limit} items",
        "minProperties": f"needs at least {limit} entr{'ies' if limit != 1 else 'y'}",
        "maxProperties": f"has more than {limit} entries",
        "uniqueItems": "holds the same item twice",
    }
    message = messages[keyword]
    if key:
        return message
    separator = " " if keyword in _COLLECTION_RANGES or message.startswith("must") else ": "
    return f"{_where(tuple(error.absolute_path))}{separator}{message}"


def _where(path: Path) -> str:
    return format_path(path) if path else "the top level"


def _words(types: Iterable[str]) -> str:
    words = [_TYPE_WORDS.get(t, t) for t in types]
    if "a whole number" in words and "a number" in words:
        words.remove("a whole number")
    return " or ".join(words)


def _found(value: Any) -> str:
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{_show(value)}"
    if isinstance(value, (int, float)):
        return f"a number ({_show(value)})"
    if isinstance(value, str):
        return f"text {_show(value)}"
    return "a mapping" if isinstance(value, dict) else "a list"


def _show(value: Any) -> str:
    """A value as the user wrote it, short: never a Python repr of a big object."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, str):
        return f"'{value if len(value) <= 60 else value[:57] + '...'}'"
    return "a mapping" if isinstance(value, dict) else "a list"


def _quoted_list(names: Iterable[str]) -> str:
    return ", ".join(f"'{n}'" for n in names)


def _one_per_place(found: list[Diagnostic]) -> list[Diagnostic]:
    """Keep the most useful diagnostic at each spot (the first of equals)."""
    best: dict[tuple, Diagnostic] = {}
    for diagnostic in found:
        place = (diagnostic.span.line, diagnostic.span.col)
        current = best.get(place)
        if current is None or _RANK[diagnostic.code.code] < _RANK[current.code.code]:
            best[place] = diagnostic
    return list(best.values())
