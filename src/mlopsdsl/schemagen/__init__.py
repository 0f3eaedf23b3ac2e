"""The JSON Schema of the language, built from Python and written to `schemas/`.

`schemas/mlopsdsl.schema.json` is the published copy editors point at; it is
generated (`python -m mlopsdsl.schemagen`) and committed, and a test fails when
the committed file and `render()` differ. The runtime never imports this
package: `mlopsdsl.schema` reads the committed file through `mlopsdsl.resources`.
"""

from __future__ import annotations

import json
from pathlib import Path

from mlopsdsl.schemagen import project, steps
from mlopsdsl.schemagen.kit import FORMATS, Schema

SCHEMA_ID = "https://mlopsdsl.dev/schemas/v1/mlopsdsl.schema.json"
OUTPUT = Path(__file__).resolve().parents[3] / "schemas" / "mlopsdsl.schema.json"


def build() -> Schema:
    defs = {**FORMATS, **steps.defs(), **project.defs()}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "mlopsdsl",
        "description": "An mlopsdsl v1 spec: a Project (the whole model lifecycle) or a Component (a reusable step).",
        "markdownDescription": "An **mlopsdsl v1** spec: a `Project` (the whole model lifecycle) or a "
                               "`Component` (a reusable step). See docs/language.md.",
        **project.root(),
        "$defs": defs,
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
