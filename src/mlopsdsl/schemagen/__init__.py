"""The JSON Schema of the language, generated from the language table and written to `schemas/`.

`schemas/mlopsdsl.schema.json` is the published copy editors point at; it is
generated (`python -m mlopsdsl.schemagen`) and committed, and a test fails when
the committed file and `render()` differ. The runtime never imports this
package: `mlopsdsl.schema` reads the committed file through `mlopsdsl.resources`.

Every field becomes a property with both descriptions editors need:
`markdownDescription` (rendered in VS Code's hover and completion) and
`description` (plain text for every other tool); its default is written as
`default` and said in both. A named `Section` or `Def` becomes a `$defs` entry
and a `$ref`; an unnamed section is written inline.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mlopsdsl.language import COMPONENT, PROJECT, ROOT_HEAD
from mlopsdsl.language.formats import FORMATS
from mlopsdsl.language.table import Def, Field, Section, yaml_text

Schema = dict[str, Any]

SCHEMA_ID = "https://mlopsdsl.dev/schemas/v1/mlopsdsl.schema.json"
OUTPUT = Path(__file__).resolve().parents[3] / "schemas" / "mlopsdsl.schema.json"


def plain(markdown: str) -> str:
    """Markdown -> plain text for `description` (editors escape markdown there)."""
    return markdown.replace("`", "").replace("**", "")


def field_doc(entry: Field) -> str:
    """A field's markdown, with its default said once, from the table."""
    if not entry.has_default:
        return entry.doc
    return f"{entry.doc} Default `{yaml_text(entry.default)}`."


class _Builder:
    def __init__(self) -> None:
        self.defs: dict[str, Schema] = dict(FORMATS)

    def shape(self, shape: Any) -> Any:
        if isinstance(shape, Def):
            return self._named(shape.name, shape.shape, self.shape)
        if isinstance(shape, Section):
            if shape.name is None:
                return self.section(shape)
            return self._named(shape.name, shape, self.section)
        if isinstance(shape, dict):
            return {key: self.shape(value) for key, value in shape.items()}
        if isinstance(shape, list):
            return [self.shape(value) for value in shape]
        return shape

    def _named(self, name: str, shape: Any, build) -> Schema:
        if name not in self.defs:
            self.defs[name] = {}  # claimed first: a section may refer to itself
            self.defs[name] = build(shape)
        return {"$ref": f"#/$defs/{name}"}

    def field(self, entry: Field) -> Schema:
        out = {**self.shape(entry.shape), **self.shape(dict(entry.schema))}
        if entry.has_default:
            out["default"] = entry.default
        markdown = field_doc(entry)
        return {**out, "description": plain(markdown), "markdownDescription": markdown}

    def section(self, section: Section) -> Schema:
        out: Schema = {"type": "object", "additionalProperties": False,
                       "properties": {key: self.field(entry) for key, entry in section.fields.items()}}
        if section.required:
            out["required"] = list(section.required)
        out["title"] = section.title
        out.update(self.shape(dict(section.schema)))
        return out


def build() -> Schema:
    builder = _Builder()
    builder.shape(PROJECT)
    builder.shape(COMPONENT)
    root = {
        "type": "object",
        "properties": {key: builder.field(entry) for key, entry in ROOT_HEAD.items()},
        # Project or Component, chosen by `kind` (a Project when `kind` is absent or unknown).
        "if": {"properties": {"kind": {"const": "Component"}}, "required": ["kind"]},
        "then": {"$ref": "#/$defs/component"},
        "else": {"$ref": "#/$defs/project"},
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "mlopsdsl",
        "description": "An mlopsdsl v1 spec: a Project (the whole model lifecycle) or a Component (a reusable step).",
        "markdownDescription": "An **mlopsdsl v1** spec: a `Project` (the whole model lifecycle) or a "
                               "`Component` (a reusable step). See docs/language.md.",
        **root,
        "$defs": builder.defs,
    }


def render() -> str:
    """Deterministic text: sorted keys, 2-space indent, one trailing newline."""
    return json.dumps(build(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    text = render()
    if not OUTPUT.exists() or OUTPUT.read_text(encoding="utf-8") != text:
        OUTPUT.write_text(text, encoding="utf-8")
        print(f"wrote {OUTPUT}")
    else:
        print(f"{OUTPUT} is up to date")
