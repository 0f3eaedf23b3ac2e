"""Diagnostics while typing: the same as `validate`, at the same places, for the buffer not the disk."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import EXAMPLES
from lsprotocol import types
from lsp_editor import CLEAN, MISTAKES, apply, editor, position_of  # noqa: F401 - editor is a fixture


def _covered(text: str, d: types.Diagnostic) -> str:
    lines = text.splitlines(keepends=True)
    start = sum(len(x) for x in lines[:d.range.start.line]) + d.range.start.character
    end = sum(len(x) for x in lines[:d.range.end.line]) + d.range.end.character
    return text[start:end]


def _validate(path) -> list[tuple]:
    """`validate --format json` on a file: (code, line, col, end_line, end_col, message), 0-based like LSP."""
    proc = subprocess.run([sys.executable, "-m", "mlopsdsl", "validate", str(path), "--format", "json"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode in (0, 1), proc.stderr
    return sorted((d["code"], d["line"] - 1, d["col"] - 1, d["end_line"] - 1, d["end_col"] - 1, d["message"],
                   d["hint"]) for d in json.loads(proc.stdout) if d["file"] == str(path))


def _shown(found: list[types.Diagnostic]) -> list[tuple]:
    out = []
    for d in found:
        message, _, hint = d.message.partition("\nhint: ")
        out.append((d.code, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character,
                    message, hint or None))
    return sorted(out)


def test_a_clean_spec_has_no_diagnostics(editor, tmp_path):
    uri = editor.open(tmp_path / "clean.yaml", CLEAN)
    assert editor.diagnostics(uri, 1) == []


@pytest.mark.parametrize("old, new, code, covered", MISTAKES, ids=[m[2] for m in MISTAKES])
def test_each_mistake_of_the_issue_is_shown_where_it_is_while_typing(editor, tmp_path, old, new, code, covered):
    path = tmp_path / f"{code}.yaml"
    path.write_text(CLEAN, encoding="utf-8")  # the disk keeps the clean text: the buffer is what counts
    uri = editor.open(path)
    assert editor.diagnostics(uri, 1) == []
    line, character = position_of(CLEAN, old)
    version = editor.edit(uri, line, character, line, character + len(old), new)
    text = CLEAN.replace(old, new, 1)
    found = [d for d in editor.diagnostics(uri, version) if d.severity == types.DiagnosticSeverity.Error]
    assert [d.code for d in found] == [code]
    assert _covered(text, found[0]) == covered
    assert found[0].source == "mlopsdsl" and "\nhint: " in found[0].message
    # and fixing it clears it
    version = editor.edit(uri, line, character, line, character + len(new), old)
    assert editor.diagnostics(uri, version) == []


@pytest.mark.parametrize("example", ["minimal/minimal.yaml", "churn/churn.yaml", "vision/defects.yaml"])
def test_the_examples_show_exactly_what_validate_prints(editor, example):
    path = EXAMPLES / example
    uri = editor.open(path)
    assert _shown(editor.diagnostics(uri, 1)) == _validate(path)


def test_every_environment_is_checked_and_its_override_reported_at_its_set_entry(editor, tmp_path):
    text = CLEAN.replace("params.min_accuracy.default: 0.9", "params.min_accuracy.default: 1.5")
    path = tmp_path / "env.yaml"
    path.write_text(text, encoding="utf-8")
    uri = editor.open(path)
    found = editor.diagnostics(uri, 1)
    assert [d.code for d in found] == ["MLD644"]
    assert found[0].range.start.line == position_of(text, "1.5")[0]
    assert _shown(found) == _validate(path)


def test_a_schema_error_and_a_semantic_error_are_shown_together_as_validate_prints_them(editor, tmp_path):
    text = CLEAN.replace(">= params.min_accuracy }}", ">= params.min_acuracy }}", 1)
    text = text.replace("      outputs: {model: Model, metrics",  # a schema error in step train
                        "      colour: red\n      outputs: {model: Model, metrics", 1)
    assert text.count("min_acuracy") == text.count("colour") == 1
    path = tmp_path / "two.yaml"
    path.write_text(text, encoding="utf-8")
    uri = editor.open(path)
    found = editor.diagnostics(uri, 1)
    assert sorted(d.code for d in found) == ["MLD201", "MLD304"]
    assert _shown(found) == _validate(path)


def test_a_broken_yaml_buffer_gets_the_yaml_error_and_recovers(editor, tmp_path):
    uri = editor.open(tmp_path / "typing.yaml", CLEAN)
    assert editor.diagnostics(uri, 1) == []
    line, character = position_of(CLEAN, "]", after="after: [train")
    version = editor.edit(uri, line, character, line, character + 1, "")  # `after: [train` while typing
    assert [d.code for d in editor.diagnostics(uri, version)] == ["MLD106"]
    version = editor.edit(uri, line, character, line, character, "]")
    assert editor.diagnostics(uri, version) == []


def test_yaml_that_is_not_a_spec_gets_nothing(editor, tmp_path):
    uri = editor.open(tmp_path / "workflow.yaml", "on: push\njobs: {build: {runs-on: ubuntu-latest}}\n")
    editor.hover(uri, 0, 1)  # a request answered after the open was handled
    assert editor.published.get(uri) is None


def test_the_quick_fix_of_each_mistake_makes_it_go_away(editor, tmp_path):
    for old, new, code, _ in MISTAKES:
        text = CLEAN.replace(old, new, 1)
        uri = editor.open(tmp_path / f"fix-{code}.yaml", text)
        [shown] = [d for d in editor.diagnostics(uri, 1) if d.code == code]
        actions = editor.code_actions(uri, shown)
        assert actions, f"no quick fix for {code}"
        preferred = [a for a in actions if a.is_preferred]
        assert len(preferred) == 1 and preferred[0].kind == types.CodeActionKind.QuickFix
        fixed = apply(text, preferred[0].edit.changes[uri])
        version = editor.replace(uri, fixed)
        assert [d.code for d in editor.diagnostics(uri, version) if d.code == code] == [], (code, fixed)
