"""docs/diagnostics.md is generated from the live code registry; it must not drift."""

from __future__ import annotations

from conftest import REPO

from mlopsdsl.diagnostics import REGISTRY
from mlopsdsl.diagnostics.codes import RANGES
from mlopsdsl.diagnostics.docs import generate, main
from mlopsdsl.diagnostics.render.sarif import help_uri

DOC = REPO / "docs" / "diagnostics.md"


def test_committed_doc_matches_registry():
    assert DOC.read_text(encoding="utf-8") == generate(), (
        "docs/diagnostics.md is stale: run `python -m mlopsdsl.diagnostics.docs` and commit it")


def test_every_code_has_an_anchor_and_row_and_every_range_a_section():
    text = generate()
    for code in REGISTRY.values():
        assert f'<a id="{code.code.lower()}"></a>{code.code} | `{code.name}` | {code.severity.value} |' in text
        # the SARIF helpUri lands on that anchor
        assert help_uri(code).endswith(f"docs/diagnostics.md#{code.code.lower()}")
    for digit, title in RANGES.items():
        assert f"## {digit}xx: {title}" in text


def test_check_mode_reports_a_stale_file(tmp_path, capsys):
    out = tmp_path / "diagnostics.md"
    assert main(["--check", "--out", str(out)]) == 1  # missing counts as stale
    assert main(["--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == generate()
    assert main(["--check", "--out", str(out)]) == 0
    out.write_text(generate().replace("MLD101", "MLD1O1"), encoding="utf-8")
    assert main(["--check", "--out", str(out)]) == 1
    assert "out of date" in capsys.readouterr().err
