"""The one table of the language: every section and field of a spec, and what each one is.

In the spirit of sqlglot's dialect tables: a fact about the language is written
here once, and everything else is generated from it or reads it:

- the JSON Schema editors use (`mlopsdsl.schemagen` -> `schemas/mlopsdsl.schema.json`);
- the field tables of docs/language.md and docs/design/language-table.md (`mlopsdsl.language.docs`);
- the fields `defaults:` passes down (`INHERITED`), the defaults the lowering applies (`default`);
- the value checks of fields with units (`walk`, read by `mlopsdsl.check.values`) and the
  expression context each field's value is checked in (`Field.context`);
- where each field lands in the IR (`Field.ir`), held by tests/test_language_table.py.

How to add a field is in docs/design/language-table.md. The sections live in
`project.py` (the root, metadata, model, tracking, params, data), `steps.py`,
`serving.py`, `monitoring.py` and `delivery.py` (ci, environments, patches).
"""

from __future__ import annotations

import copy
from functools import lru_cache
from typing import Any, Iterator

from mlopsdsl.language.project import PROJECT, ROOT_HEAD
from mlopsdsl.language.steps import COMPONENT, INHERITED, STEP, STEP_FIELDS
from mlopsdsl.language.table import UNSET, Def, Field, Section

__all__ = ["COMPONENT", "INHERITED", "PROJECT", "ROOT_HEAD", "STEP", "STEP_FIELDS", "Field", "Section",
           "context_at", "default", "expression_places", "field_at", "setting", "walk", "walk_changed"]

Path = tuple[Any, ...]


def _unwrap(shape: Any) -> Any:
    while isinstance(shape, Def):
        shape = shape.shape
    return shape


def _children(shape: Any) -> Iterator[tuple[str, Any]]:
    """(kind, shape) of what a shape holds: ("field", Section), ("value", map values), ("item", list items)."""
    shape = _unwrap(shape)
    if isinstance(shape, Section):
        yield "section", shape
    elif isinstance(shape, dict):
        for alternative in shape.get("anyOf", ()):
            yield from _children(alternative)
        values = shape.get("additionalProperties")
        if values not in (None, False, True):
            yield "value", values
        if shape.get("items") is not None:
            yield "item", shape["items"]


@lru_cache(maxsize=None)
def field_at(dotted: str, root: Section = PROJECT) -> Field:
    """The field a dotted path names: `monitoring.drift.method`, `pipeline.steps.*.timeout` (`*`: any key or item)."""
    parts = dotted.split(".")
    shape: Any = root
    found: Field | None = None
    for part in parts:
        step = None
        for kind, child in _children(shape):
            if kind == "section" and part in child.fields:
                step = child.fields[part]
                break
            if kind in ("value", "item") and part == "*":
                step = child
                break
        if step is None:
            raise KeyError(f"the language has no field '{dotted}'")
        if isinstance(step, Field):
            found, shape = step, step.shape
        else:
            shape = step
    if found is None or parts[-1] == "*":
        raise KeyError(f"'{dotted}' names no field")
    return found


def default(dotted: str, root: Section = PROJECT) -> Any:
    """The language's default for a field (`default("serving.deployment_mode")` -> "serverless")."""
    value = field_at(dotted, root).default
    if value is UNSET:
        raise KeyError(f"field '{dotted}' has no default")
    return copy.deepcopy(value)  # a mapping default must not be shared by two specs


def setting(block: Any, dotted: str, root: Section = PROJECT) -> Any:
    """The value `block` (the mapping that holds the field) gives the field, or the field's default."""
    key = dotted.rsplit(".", 1)[-1]
    if isinstance(block, dict) and key in block:
        return block[key]
    return default(dotted, root)


def walk(data: Any, shape: Any = PROJECT, path: Path = ()) -> Iterator[tuple[Path, Field, Any]]:
    """(document path, field, value) for every field present in `data`, depth first, in document order.

    Follows the shapes the schema has: sections, maps, lists and `anyOf`
    alternatives (a `retries: {count: 3}` mapping is walked as the retry policy).
    Values that do not fit a shape are skipped: the schema reports them.
    """
    return walk_changed(data, _ABSENT, shape, path)  # nothing is `_ABSENT`'s: every field


_ABSENT = object()


def walk_changed(data: Any, base: Any, shape: Any = PROJECT, path: Path = ()) -> Iterator[tuple[Path, Field, Any]]:
    """`walk` over a variant of `base` made by copying only the containers it changes (an environment's
    `set:` overlay): the fields of each container that is not `base`'s own, and nothing below one that
    is. A check of a field that reads only the field and the mapping holding it finds here everything
    the variant changes; the rest it found in `base`."""
    if data is base:
        return
    for kind, child in _children(shape):
        if kind == "section" and isinstance(data, dict):
            for key, value in data.items():
                entry = child.fields.get(key)
                if entry is not None:
                    yield path + (key,), entry, value
                    yield from walk_changed(value, _child(base, key), entry.shape, path + (key,))
        elif kind == "value" and isinstance(data, dict):
            for key, value in data.items():
                yield from walk_changed(value, _child(base, key), child, path + (key,))
        elif kind == "item" and isinstance(data, list):
            for i, value in enumerate(data):
                yield from walk_changed(value, _child(base, i), child, path + (i,))


def _child(container: Any, key: Any) -> Any:
    if isinstance(container, dict):
        return container.get(key, _ABSENT)
    if isinstance(container, list) and isinstance(key, int) and key < len(container):
        return container[key]
    return _ABSENT


def context_at(path: Path, root: Section = PROJECT) -> str | None:
    """The expression context of the value at a document path (None: plain text), as `expression_places` gives it.

    A field's context covers its value, each value of a mapping it holds (`env.KEY`) and each item of
    a list (`run[0]`). The language server asks this of the place under the cursor.
    """
    shape: Any = root
    found: Field | None = None
    found_at = -1
    for depth, part in enumerate(path):
        step = None
        for kind, child in _children(shape):
            if kind == "section" and isinstance(part, str) and part in child.fields:
                step = child.fields[part]
            elif kind == "value" and isinstance(part, str) or kind == "item" and isinstance(part, int):
                step = child
            if step is not None:
                break
        if step is None:
            return None
        if isinstance(step, Field):
            found, found_at, shape = step, depth, step.shape
        else:
            shape = step
    if found is None or len(path) - found_at > 2:
        return None
    return found.context


def expression_places(value: Any, entry: Field, path: Path) -> Iterator[tuple[Path, str, Any]]:
    """(path, expression context, value) for each value in field `entry` (at `path`) that has a context.

    A context applies to the field's value, to each value of a mapping (`env`) and
    to each item of a list (`run`); fields inside the value are looked at too.
    """
    for where, found, held in ((path, entry, value), *walk(value, entry.shape, path)):
        if found.context is None:
            continue
        if isinstance(held, dict):
            yield from ((where + (key,), found.context, item) for key, item in held.items())
        elif isinstance(held, list):
            yield from ((where + (i,), found.context, item) for i, item in enumerate(held))
        else:
            yield where, found.context, held
