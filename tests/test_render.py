"""The output formats, over hand-made diagnostics (no loader involved)."""

from __future__ import annotations

import json
import os

import pytest
from conftest import validate_sarif

from mlopsdsl import __version__
from mlopsdsl.diagnostics import Diagnostic, Related, Severity, codes
from mlopsdsl.diagnostics.render import FORMATS, render
from mlopsdsl.source import SourceFile, Span

FILE = "examples/churn.yaml"
TEXT = "model:\n  name: churn\n  framwork: xgboost\n\tx: [1, 2]\n  名前: 日本語  # c\n  d: |\n    two\n"
SOURCES = {FILE: SourceFile(FILE, TEXT)}


def diag(line, col, end_line, end_col, code=codes.SCHEMA_UNKNOWN_KEY, message="unknown key 'framwork' in model",
         **kw) -> Diagnostic:
    return Diagnostic(code, message, Span(FILE, line, col, end_line, end_col), **kw)


UNKNOWN = diag(3, 3, 3, 11, path=("model", "framwork"), hint="did you mean 'framework'?")


def text(*diagnostics, color=False, sources=SOURCES) -> str:
    return render("text", list(diagnostics), sources, color=color)


def test_text_matches_the_rustc_layout():
    assert text(UNKNOWN) == (
        "error[MLD201]: unknown key 'framwork' in model\n"
        " --> examples/churn.yaml:3:3\n"
        "  |\n"
        "3 |   framwork: xgboost\n"
        "  |   ^^^^^^^^\n"
        "  = hint: did you mean 'framework'?\n"
        "\n"
        "error: 1 error in 1 file\n"
    )


def test_gutter_widens_with_the_line_number():
    lines = "\n".join(f"k{i}: {i}" for i in range(1, 15))
    out = text(Diagnostic(codes.SCHEMA_TYPE, "m", Span("f", 14, 1, 14, 4)), sources={"f": SourceFile("f", lines)})
    assert "  --> f:14:1\n   |\n14 | k14: 14\n   | ^^^\n" in out


def test_tabs_are_expanded_and_carets_follow():
    out = text(diag(4, 2, 4, 3, code=codes.YAML_SYNTAX, message="tab"))
    assert "4 |     x: [1, 2]\n  |     ^\n" in out  # the tab is 4 columns; 'x' is the 2nd character


def test_wide_characters_count_once_in_positions_twice_on_screen():
    out = text(diag(5, 7, 5, 10, code=codes.SCHEMA_ENUM, message="bad"))  # the value 日本語
    assert " --> examples/churn.yaml:5:7\n" in out
    assert "5 |   名前: 日本語  # c\n  |         ^^^^^^\n" in out


def test_multi_line_span_is_underlined_to_the_end_of_its_first_line():
    out = text(diag(6, 6, 8, 1, code=codes.SCHEMA_TYPE, message="block"))
    assert "6 |   d: |\n  |      ^\n" in out
    out = text(diag(2, 3, 4, 1, code=codes.SCHEMA_TYPE, message="map"))
    assert "2 |   name: churn\n  |   ^^^^^^^^^^^\n" in out


def test_related_spans_become_notes_with_their_own_snippet():
    d = diag(3, 3, 3, 11, code=codes.DUPLICATE_KEY, message="duplicate key",
             related=(Related(Span(FILE, 2, 3, 2, 7), "first defined here"),))
    out = text(d)
    assert out.index("error[MLD109]") < out.index("note: first defined here") < out.index("error: 1 error")
    assert "note: first defined here\n --> examples/churn.yaml:2:3\n  |\n2 |   name: churn\n  |   ^^^^\n" in out


def test_unknown_file_and_out_of_range_lines_show_no_snippet():
    out = text(Diagnostic(codes.FILE_NOT_FOUND, "cannot read", Span.point("/nonexistent/x.yaml")))
    assert out.startswith("error[MLD101]: cannot read\n --> /nonexistent/x.yaml:1:1\n\nerror:")
    assert "|" not in text(diag(99, 1, 99, 2))


def test_refused_file_shows_the_snippet_of_the_text_the_loader_read(tmp_path):
    from mlopsdsl.driver import check_file

    path = tmp_path / "bad.yaml"
    path.write_bytes(b"a: 1\nb: caf\xe9\n")
    result = check_file(str(path))
    out = text(*result.diagnostics, sources=result.sources)
    assert "2 | b: caf\ufffd\n  |       ^\n" in out


def test_the_renderer_never_reads_a_file_itself(tmp_path):
    # A file named by a span but not given as a source is shown without a snippet: reading it again
    # could block on a FIFO, never end on /dev/zero, or show text changed since it was checked.
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)
    for name in (str(fifo), "/dev/zero"):
        out = text(Diagnostic(codes.YAML_SYNTAX, "bad", Span(name, 1, 1, 1, 2)), sources={})
        assert out.startswith(f"error[MLD106]: bad\n --> {name}:1:1\n\nerror:")


def test_long_lines_are_cropped_around_the_span():
    line = "a: " + "[" * 10_000
    out = text(Diagnostic(codes.TOO_DEEP, "deep", Span("f", 1, 5000, 1, 5001)), sources={"f": SourceFile("f", line)})
    shown, carets = out.splitlines()[3], out.splitlines()[4]
    assert len(shown) < 200 and shown.startswith("1 | ...[") and shown.endswith("[...")
    assert shown[carets.index("^")] == "["


def test_color_only_when_asked():
    assert "\x1b[" not in text(UNKNOWN)
    colored = text(UNKNOWN, diag(2, 3, 2, 7, code=codes.SCHEMA_SHAPE, message="w", severity=Severity.WARNING),
                   color=True)
    assert "\x1b[1;31merror[MLD201]\x1b[0m" in colored  # bold red
    assert "\x1b[1;33mwarning[MLD207]\x1b[0m" in colored  # yellow
    assert "\x1b[36m-->\x1b[0m" in colored  # cyan arrows
    assert "\x1b[" not in render("concise", [UNKNOWN], SOURCES, color=True) + render("json", [UNKNOWN], SOURCES)


def test_summary_counts_and_plurals():
    warn = diag(2, 3, 2, 7, code=codes.SCHEMA_SHAPE, message="w", severity=Severity.WARNING)
    other = Diagnostic(codes.SCHEMA_TYPE, "t", Span.point("other.yaml"))
    assert text(UNKNOWN, UNKNOWN, warn, other).endswith("\nerror: 3 errors, 1 warning in 2 files\n")
    assert text(warn).endswith("\nwarning: 1 warning in 1 file\n")
    assert text() == ""


def test_concise():
    assert render("concise", [UNKNOWN], SOURCES) == (
        "examples/churn.yaml:3:3: error[MLD201] unknown key 'framwork' in model (hint: did you mean 'framework'?)\n")


def test_json_is_a_stable_array():
    related = (Related(Span(FILE, 2, 3, 2, 7), "here"),)
    out = render("json", [UNKNOWN, diag(1, 1, 1, 2, related=related)], SOURCES)
    data = json.loads(out)
    assert data[0] == {
        "code": "MLD201", "name": "unknown-key", "severity": "error", "message": "unknown key 'framwork' in model",
        "file": FILE, "line": 3, "col": 3, "end_line": 3, "end_col": 11, "path": "model.framwork",
        "hint": "did you mean 'framework'?", "related": [],
    }
    assert data[1]["path"] == "<root>" and data[1]["hint"] is None
    assert data[1]["related"] == [{"file": FILE, "line": 2, "col": 3, "end_line": 2, "end_col": 7, "message": "here"}]
    assert out == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"  # keys sorted
    assert render("json", [], {}) == "[]\n"


def sarif(*diagnostics) -> dict:
    return json.loads(render("sarif", list(diagnostics), SOURCES))


def test_sarif_structure():
    dup = diag(3, 3, 3, 11, code=codes.DUPLICATE_KEY, message="dup", related=(Related(Span(FILE, 2, 3, 2, 7), "here"),))
    log = sarif(UNKNOWN, dup, UNKNOWN)
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert log["version"] == "2.1.0" and driver["name"] == "mlopsdsl" and driver["version"] == __version__
    assert [r["id"] for r in driver["rules"]] == ["MLD109", "MLD201"]  # one per code used, sorted
    rule = driver["rules"][1]
    assert rule["name"] == "unknown-key" and rule["shortDescription"]["text"] == codes.SCHEMA_UNKNOWN_KEY.summary
    assert rule["helpUri"].endswith("docs/diagnostics.md#mld201")
    first = run["results"][0]
    assert first["ruleId"] == "MLD201" and first["ruleIndex"] == 1 and first["level"] == "error"
    location = first["locations"][0]["physicalLocation"]
    assert location == {"artifactLocation": {"uri": FILE},
                        "region": {"startLine": 3, "startColumn": 3, "endLine": 3, "endColumn": 11}}
    assert "did you mean 'framework'?" in first["message"]["text"]
    assert run["results"][1]["relatedLocations"][0]["physicalLocation"]["region"]["startLine"] == 2
    assert run["columnKind"] == "unicodeCodePoints"


def test_sarif_is_deterministic_and_uris_are_relative(monkeypatch, tmp_path):
    assert render("sarif", [UNKNOWN], SOURCES) == render("sarif", [UNKNOWN], SOURCES)
    monkeypatch.chdir(tmp_path)
    inside = Diagnostic(codes.SCHEMA_TYPE, "m", Span.point(str(tmp_path / "specs" / "a b.yaml")))
    outside = Diagnostic(codes.SCHEMA_TYPE, "m", Span.point("/elsewhere/c.yaml"))
    uris = [r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif(inside, outside)["runs"][0]["results"]]
    assert uris == ["specs/a%20b.yaml", "file:///elsewhere/c.yaml"]


def test_sarif_validates_against_the_official_schema():
    dup = diag(3, 3, 3, 11, code=codes.DUPLICATE_KEY, message="dup", related=(Related(Span(FILE, 2, 3, 2, 7), "here"),))
    warn = diag(2, 3, 2, 7, code=codes.SCHEMA_SHAPE, message="w", severity=Severity.WARNING)
    for log in (sarif(UNKNOWN, dup, warn), sarif()):
        validate_sarif(log)


def test_github_annotations_and_escaping():
    d = Diagnostic(codes.SCHEMA_ENUM, "100% wrong\r\nvalue", Span("dir,x/a:b.yaml", 3, 3, 3, 11), hint="use a, b")
    assert render("github", [d], {}) == (
        "::error file=dir%2Cx/a%3Ab.yaml,line=3,col=3,endLine=3,endColumn=11,title=MLD204::"
        "100%25 wrong%0D%0Avalue (hint: use a, b)\n")
    warn = Diagnostic(codes.SCHEMA_SHAPE, "w", Span.point("f.yaml"), severity=Severity.WARNING)
    note = Diagnostic(codes.SCHEMA_SHAPE, "n", Span.point("f.yaml"), severity=Severity.NOTE)
    lines = render("github", [warn, note], {}).splitlines()
    assert lines[0].startswith("::warning file=f.yaml,") and lines[1].startswith("::notice file=f.yaml,")


def test_every_format_renders_nothing_or_a_stable_empty_document():
    outputs = {fmt: render(fmt, [], {}) for fmt in FORMATS}
    assert json.loads(outputs.pop("sarif"))["runs"][0]["results"] == []
    assert outputs == {"text": "", "concise": "", "json": "[]\n", "github": ""}
    with pytest.raises(ValueError):
        render("xml", [], {})


def test_text_never_sends_terminal_controls_from_the_spec():
    line = 'k: "\x1b[31mred\u202e"'
    d = Diagnostic(codes.SCHEMA_ENUM, "bad value '\x1b[31mred'", Span("f", 1, 4, 1, 15), hint="not \u202eit")
    out = text(d, sources={"f": SourceFile("f", line)})
    assert "\x1b" not in out and "\u202e" not in out
    assert "bad value '\\u001b[31mred'" in out and "1 | k: \"\ufffd[31mred\ufffd\"" in out
