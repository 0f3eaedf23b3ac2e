"""Every complete spec shown in the docs validates, or fails exactly as the docs say.

A fenced ```yaml block in README.md, docs/language.md or docs/expressions.md
whose first line (after an optional `# yaml-language-server` modeline) is
`apiVersion: mlopsdsl/v1` is a whole spec: it is written to a temp file and run
through `check_file`, and must produce no diagnostic at all. A block that shows
a mistake on purpose says so on the line before its fence:

    <!-- expect-error: MLD506 -->
    ```yaml

and then must produce exactly those codes (several: `MLD506, MLD301`), no more.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
from conftest import REPO

from mlopsdsl.driver import check_file

DOCS = ("README.md", "docs/language.md", "docs/expressions.md")
MARKER = re.compile(r"^\s*<!--\s*expect-error:\s*(MLD\d{3}(?:\s*,\s*MLD\d{3})*)\s*-->\s*$")
FENCE = re.compile(r"^(\s*)(`{3,}|~{3,})\s*(\S*)")


def spec_blocks(path: Path) -> list[tuple[int, str, list[str]]]:
    """(line of the fence, block text, expected codes) for each whole-spec yaml block of `path`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        fence = FENCE.match(lines[i])
        if not fence:
            i += 1
            continue
        indent, ticks, lang = fence.groups()
        end = i + 1
        while end < len(lines) and not lines[end].strip().startswith(ticks):
            end += 1
        body = [line[len(indent):] if line.startswith(indent) else line for line in lines[i + 1:end]]
        if lang.lower() in ("yaml", "yml") and _is_spec(body):
            marker = MARKER.match(lines[i - 1]) if i > 0 else None
            codes = [c.strip() for c in marker.group(1).split(",")] if marker else []
            blocks.append((i + 1, "\n".join(body) + "\n", codes))
        i = end + 1
    return blocks


def _is_spec(body: list[str]) -> bool:
    meaningful = [line for line in body if line.strip()]
    if meaningful and meaningful[0].startswith("# yaml-language-server"):
        meaningful = meaningful[1:]
    return bool(meaningful) and meaningful[0].strip() == "apiVersion: mlopsdsl/v1"


CASES = [(doc, line, text, codes) for doc in DOCS for line, text, codes in spec_blocks(REPO / doc)]


def test_the_docs_show_specs():
    assert CASES, "no whole-spec yaml block found in the docs"
    assert any(codes for *_, codes in CASES), "the README's error example lost its expect-error marker"


@pytest.mark.parametrize("doc, line, text, expected", CASES, ids=[f"{c[0]}:{c[1]}" for c in CASES])
def test_doc_example(doc: str, line: int, text: str, expected: list[str], tmp_path: Path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text, encoding="utf-8")
    result = check_file(str(spec))
    found = Counter(d.code.code for d in result.diagnostics)
    shown = "\n".join(f"  {d.span.line}:{d.span.col} {d.code.code} {d.message}" for d in result.diagnostics)
    assert found == Counter(expected), (
        f"{doc}:{line}: the example should produce {expected or 'no diagnostics'}, got:\n{shown}")
