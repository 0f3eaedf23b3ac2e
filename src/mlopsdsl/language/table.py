"""What an entry of the language table is: a `Field` inside a `Section`, with shapes to hold them.

A shape is a JSON Schema fragment (a dict) in which a `Section` or a `Def` may
stand for a sub-schema: `list_of(ALERT)` is a list of alerts, `ref("duration")`
a value of the shared duration format. The JSON Schema generator replaces each
`Section`/`Def` with a `$ref` (or inlines an unnamed section); the walker in
`mlopsdsl.language.walk` follows the same shapes through a spec's data.

Everything the front end knows about a field sits on its `Field`: shape,
documentation, default, whether `defaults:` passes it down, whether `on_exit`
may set it, the expression context of its value, and where it lands in the IR.
The value's units come from its shape (a field of the `duration` format holds a
duration), so they are not written twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field as _dc_field
from typing import Any, Mapping

Shape = Any  # a JSON Schema fragment, possibly holding Sections and Defs
# The formats whose values have units (`mlopsdsl.expr.units`), and so checks of their own.
UNIT_FORMATS = ("duration", "cpu", "memory", "percent", "cron")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()
FRONT_END = "front-end: "


def front_end(reason: str) -> str:
    """An IR destination that says the field stops in the front end, and why."""
    return FRONT_END + reason


@dataclass(frozen=True, eq=False)
class Field:
    """One key of a section.

    `ir` names the IR attribute the value lands in (`"Step.timeout"`), or says
    with `front_end("why")` that it stops in the front end; a test holds every
    field to one or the other, and the IR attribute to a decision of every
    built-in target. `context` is the expression context its value is checked in
    (`mlopsdsl.expr.contexts`); None means plain text (still checked as `text`
    when it holds `${{`). `docs_type` overrides how the docs' type column reads.
    """

    shape: Shape
    doc: str  # markdown; the schema's `markdownDescription` and the docs' notes
    ir: str
    default: Any = UNSET
    required: bool = False
    inherit: bool = False  # `defaults:` (and a step's component) passes it down to steps
    merge: bool = False  # inherited key by key (a step's `env: {A}` keeps the default `B`), not replaced whole
    on_exit: bool = True  # `pipeline.on_exit` may set it (step fields only)
    zero_ok: bool = False  # a zero duration means something here (`for: 0s` fires at once)
    context: str | None = None
    docs_type: str | None = None
    schema: Mapping[str, Any] = _dc_field(default_factory=dict)  # more keywords: examples, snippets
    # The field means something only when each named sibling holds one of these values (an absent
    # sibling: its default); elsewhere it is refused (MLD653), never silently dropped or half-emitted.
    only_with: Mapping[str, tuple[Any, ...]] = _dc_field(default_factory=dict)

    @property
    def has_default(self) -> bool:
        return self.default is not UNSET

    @property
    def front_end_only(self) -> bool:
        return self.ir.startswith(FRONT_END)

    @property
    def only_with_text(self) -> str:
        """`only_with` as the docs and the diagnostics say it: "`type: Metrics`", "`type` int or float"."""
        return " and ".join(only_with_words(key, values) for key, values in self.only_with.items())

    @property
    def units(self) -> str | None:
        """The unit format of the field or of its list items: duration, cpu, memory, percent or cron."""
        found = format_of(self.shape)
        return found if found in UNIT_FORMATS else None


@dataclass(frozen=True, eq=False)
class Section:
    """A mapping with a fixed set of keys: anything else is a typo (MLD201).

    `name` makes it a `$defs` entry referenced from every place it is used;
    without one it is written inline. `schema` holds the section-wide keywords
    (`oneOf`, `dependentRequired`, `defaultSnippets`, `x-noun`, `examples`).
    """

    title: str
    fields: dict[str, Field]
    name: str | None = None
    schema: Mapping[str, Any] = _dc_field(default_factory=dict)

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(key for key, f in self.fields.items() if f.required)

    def only(self, *keys: str) -> dict[str, Field]:
        """Some of this section's fields, in the order given (for sections that share fields)."""
        return {key: self.fields[key] for key in keys}


@dataclass(frozen=True, eq=False)
class Def:
    """A named shape that is not a section (a format, an `anyOf`): a `$defs` entry."""

    name: str
    shape: Shape


# -- shape constructors (the JSON Schema vocabulary the table is written in) ---------------------

def ref(name: str) -> dict[str, str]:
    """A value of a named `$defs` entry that is not in the table (the shared value formats)."""
    return {"$ref": f"#/$defs/{name}"}


def map_of(values: Shape, keys: Shape | None = None, **extra: Any) -> dict[str, Any]:
    """A mapping whose keys the user chooses (step names, env vars, labels)."""
    out: dict[str, Any] = {"type": "object", "additionalProperties": values}
    if keys:
        out["propertyNames"] = keys
    out.update(extra)
    return out


def list_of(items: Shape, **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **extra}


def enum(values: dict[str, str], **extra: Any) -> dict[str, Any]:
    """A closed set; each value documented for completion (`markdownEnumDescriptions`)."""
    return {"type": "string", "enum": list(values), "markdownEnumDescriptions": list(values.values()), **extra}


def any_of(*shapes: Shape, **extra: Any) -> dict[str, Any]:
    return {"anyOf": list(shapes), **extra}


STRING = {"type": "string"}
TEXT = {"type": "string", "minLength": 1}
BOOL = {"type": "boolean"}
NUMBER = {"type": "number"}
SCALAR = {"type": ["string", "number", "boolean"]}


def labels(markdown: str, ir: str, **extra: Any) -> Field:
    """A map of Kubernetes labels: label key -> label value."""
    return Field(map_of(ref("label_value"), ref("label_key")), markdown, ir,
                 docs_type="map label key -> label value", schema={"examples": [{"team": "growth"}]}, **extra)


def only_with_words(key: str, values: tuple[Any, ...]) -> str:
    if len(values) == 1:
        return f"`{key}: {yaml_text(values[0])}`"
    return f"`{key}` one of " + ", ".join(f"`{yaml_text(v)}`" for v in values)


def format_of(shape: Shape) -> str | None:
    """The shared format a shape is a value of (`ref("duration")`), looking through list items."""
    if isinstance(shape, Def):
        return format_of(shape.shape)
    if not isinstance(shape, dict):
        return None
    target = shape.get("$ref")
    if isinstance(target, str):
        return target.rsplit("/", 1)[-1]
    if shape.get("type") == "array":
        return format_of(shape.get("items"))
    return None


def yaml_text(value: Any) -> str:
    """A default as it is written in a spec (YAML flow style): `true`, `{release: prometheus}`."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{key}: {yaml_text(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(yaml_text(item) for item in value) + "]"
    return str(value)
