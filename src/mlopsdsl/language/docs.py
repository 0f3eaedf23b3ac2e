"""The field tables of the docs, generated from the language table so that they cannot drift.

    python -m mlopsdsl.language.docs            # rewrite the generated tables in place
    python -m mlopsdsl.language.docs --check    # exit 1 if a committed table is stale

A generated table sits between two markers in a hand-written page:

    <!-- table: serving -->
    ...generated, do not edit...
    <!-- /table -->

`TABLES` names what each marker shows: a section's fields for readers
(docs/language.md), `on_exit` the step fields an exit handler takes, or `all`
the whole table with every column (docs/design/language-table.md, for developers).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path
from typing import Any, Iterator

from mlopsdsl.language import delivery, monitoring, project, serving, steps, training
from mlopsdsl.language.formats import FORMAT_WORDS
from mlopsdsl.language.table import Def, Field, Section, yaml_text

_ROOT = Path(__file__).resolve().parents[3]
PAGES = (_ROOT / "docs" / "language.md", _ROOT / "docs" / "design" / "language-table.md")

# marker name -> the section whose fields it shows
TABLES: dict[str, Section] = {
    "metadata": project.METADATA, "model": project.MODEL, "tracking": project.TRACKING, "param": project.PARAM,
    "data": project.DATA_SOURCE, "defaults": steps.DEFAULTS, "pipeline": steps.PIPELINE, "step": steps.STEP,
    "output": steps.OUTPUT_OBJECT, "distributed": training.DISTRIBUTED, "tune": training.TUNE,
    "volume": training.VOLUME, "scratch": training.VOLUME.fields["empty_dir"].shape, "resources": steps.RESOURCES, "retries": steps.RETRY_POLICY,
    "serving": serving.SERVING, "rollout": serving.ROLLOUT, "variant": serving.VARIANT,
    "no_traffic": serving.ROLLOUT.fields["no_traffic"].shape,
    "monitoring": monitoring.MONITORING, "alert": monitoring.ALERT, "drift": monitoring.DRIFT,
    "notify": monitoring.NOTIFY, "ci": delivery.GITHUB, "environment": delivery.ENVIRONMENT,
    "patch": delivery.PATCH, "component": steps.COMPONENT,
}
_MARKER = re.compile(r"(<!-- table: ([a-z_]+) -->\n)(.*?)(<!-- /table -->)", re.S)
NOTICE = "<!-- generated from src/mlopsdsl/language by `python -m mlopsdsl.language.docs`; do not edit -->\n"


def _words(values: list[Any]) -> str:
    return ", ".join(f"`{v}`" for v in values)


def type_text(shape: Any) -> str:
    """How a value of this shape reads in a table: `duration`, `list of text`, `rps`, `cpu`..."""
    if isinstance(shape, Def):
        name = shape.name
        return FORMAT_WORDS.get(name) or type_text(shape.shape)
    if isinstance(shape, Section):
        return shape.title.lower() if shape.name else "mapping"
    if not isinstance(shape, dict):
        return ""
    fmt = shape.get("$ref", "").rsplit("/", 1)[-1]
    if fmt:
        return FORMAT_WORDS.get(fmt, fmt)
    if "enum" in shape:
        return _words(shape["enum"])
    if "const" in shape:
        return f"`{shape['const']}`"
    if "anyOf" in shape:
        return ", or ".join(type_text(alternative) for alternative in shape["anyOf"])
    kind = shape.get("type")
    if kind == "array":
        return f"list of {type_text(shape['items'])}"
    if kind == "object" and isinstance(shape.get("additionalProperties"), (dict, Def, Section)):
        keys = type_text(shape["propertyNames"]) if "propertyNames" in shape else "key"
        return f"map {keys} -> {type_text(shape['additionalProperties']) or 'value'}"
    if "pattern" in shape:
        return "text"
    words = {"string": "text", "boolean": "bool", "integer": "integer", "number": "number", "object": "mapping"}
    if isinstance(kind, list):
        return "literal" if set(kind) >= {"string", "number"} else " or ".join(words.get(k, k) for k in kind)
    text = words.get(kind, "any value")
    if "minimum" in shape:
        text += f" >= {shape['minimum']}"
    elif "exclusiveMinimum" in shape:
        text += f" > {shape['exclusiveMinimum']}"
    return text


def _default_text(entry: Field, key: str, inherits: bool) -> str:
    if entry.required:
        return "required"
    parts = [f"`defaults.{key}`"] if entry.inherit and inherits else []
    if entry.has_default:
        parts.append(f"`{yaml_text(entry.default)}`")
    return ", else ".join(parts)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def section_table(section: Section) -> str:
    rows = ["| field | type | default | notes |", "| --- | --- | --- | --- |"]
    for key, entry in section.fields.items():
        kind = entry.docs_type or type_text(entry.shape)
        default = _default_text(entry, key, section is steps.STEP)
        notes = entry.doc + (f" Only with {entry.only_with_text} (MLD653)." if entry.only_with else "")
        rows.append(f"| `{key}` | {_cell(kind)} | {_cell(default)} | {_cell(notes)} |")
    return "\n".join(rows) + "\n"


def _every_field(shape: Any, path: str, seen: tuple = ()) -> Iterator[tuple[str, Field]]:
    if isinstance(shape, Def):
        yield from _every_field(shape.shape, path, seen)
    elif isinstance(shape, Section):
        if shape in seen:
            return
        for key, entry in shape.fields.items():
            yield f"{path}.{key}" if path else key, entry
            yield from _every_field(entry.shape, f"{path}.{key}" if path else key, seen + (shape,))
    elif isinstance(shape, dict):
        for alternative in shape.get("anyOf", ()):
            yield from _every_field(alternative, path, seen)
        if isinstance(shape.get("additionalProperties"), (dict, Def, Section)):
            yield from _every_field(shape["additionalProperties"], f"{path}.*", seen)
        if shape.get("items") is not None:
            yield from _every_field(shape["items"], f"{path}.*", seen)


def every_field() -> list[tuple[str, Field]]:
    """(dotted path, field) for every field of a Project and of a Component file, in table order."""
    fields = list(_every_field(project.PROJECT, ""))
    fields += [(f"(component).{path}", entry) for path, entry in _every_field(steps.COMPONENT, "")]
    return fields


def whole_table() -> str:
    rows = ["| path | type | default | inherit | on_exit | context | units | IR |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for path, entry in every_field():
        flags = ("yes" if entry.inherit else "", "" if entry.on_exit or not path.startswith("pipeline.steps.") else "no")
        default = f"`{yaml_text(entry.default)}`" if entry.has_default else ("required" if entry.required else "")
        rows.append(" | ".join((
            f"| `{path}`", _cell(entry.docs_type or type_text(entry.shape)), _cell(default), *flags,
            f"`{entry.context}`" if entry.context else "", entry.units or "",
            _cell(entry.ir if entry.front_end_only else f"`{entry.ir}`"))) + " |")
    return "\n".join(rows) + "\n"


def render_table(name: str) -> str:
    if name == "all":
        return NOTICE + whole_table()
    if name == "on_exit":
        left_out = [key for key, entry in steps.STEP_FIELDS.items() if not entry.on_exit]
        return NOTICE + f"`on_exit` takes every step field but {_words(left_out[:-1])} and `{left_out[-1]}`.\n"
    return NOTICE + section_table(TABLES[name])


def generate(text: str) -> str:
    """`text` with every generated table brought up to date."""
    return _MARKER.sub(lambda m: m.group(1) + render_table(m.group(2)) + m.group(4), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mlopsdsl.language.docs")
    parser.add_argument("--check", action="store_true", help="exit 1 if a page's tables are stale")
    args = parser.parse_args(argv)
    stale = []
    for page in PAGES:
        text = page.read_text(encoding="utf-8")
        fresh = generate(text)
        if fresh != text:
            stale.append(page)
            if not args.check:
                page.write_text(fresh, encoding="utf-8")
    for page in stale:
        print(f"{page}: {'out of date' if args.check else 'updated'}", file=sys.stderr)
    return 1 if stale and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
