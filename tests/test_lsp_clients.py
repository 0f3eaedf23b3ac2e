"""The same session through the capabilities real editors declare (recorded by pytest-lsp):
VS Code, Neovim (which offers UTF-8 positions first), Emacs (UTF-32 first) and an old Neovim.

pytest-lsp checks every answer against what the client declared; its warnings are errors here.
A line with characters outside ASCII and the BMP proves positions are counted in the encoding
the server and the client agreed on.
"""

from __future__ import annotations

import pytest
from lsprotocol import types
from lsp_editor import CLEAN, Editor, position_of

pytestmark = pytest.mark.filterwarnings("error::pytest_lsp.checks.LspSpecificationWarning")

TEXT = CLEAN.replace('lr: {type: float, default: 0.1, description: learning rate}',
                     'lr: {type: float, description: "taux \U0001F600 é", default: "0.1"}')


def _units(text: str, encoding: str) -> int:
    if encoding == types.PositionEncodingKind.Utf8:
        return len(text.encode("utf-8"))
    if encoding == types.PositionEncodingKind.Utf32:
        return len(text)
    return len(text.encode("utf-16-le")) // 2


@pytest.mark.parametrize("client", ["visual-studio-code", "neovim", "neovim@v0.6.1", "emacs"])
def test_a_session_in_each_editor(tmp_path, client):
    editor = Editor(client)
    try:
        encoding = editor.initialized.capabilities.position_encoding or types.PositionEncodingKind.Utf16
        uri = editor.open(tmp_path / "spec.yaml", TEXT)
        [found] = editor.diagnostics(uri, 1)
        line, character = position_of(TEXT, '"0.1"')
        line_text = TEXT.splitlines()[line]
        assert found.code == "MLD643"
        assert (found.range.start.line, found.range.start.character) == (line, _units(line_text[:character], encoding))
        assert found.range.end.character == _units(line_text[:character + 5], encoding)
        [fix] = [a for a in editor.code_actions(uri, found) if a.is_preferred]
        assert fix.edit.changes[uri][0].new_text == "0.1"
        # completion, hover and definition on the line after the wide characters
        after = TEXT.replace('default: "0.1"}', 'default: "0.1", note: "${{ params. }}"}')
        version = editor.replace(uri, after)
        editor.diagnostics(uri, version)
        line, character = position_of(after, "${{ params.", delta=len("${{ params."))
        units = _units(after.splitlines()[line][:character], encoding)
        labels = {i.label for i in editor.complete(uri, line, units)}
        assert labels == {"lr", "min_accuracy"}
        line, character = position_of(after, "params.min_accuracy", after="register:", delta=8)
        assert "float" in editor.hover(uri, line, character).contents.value
        [where] = editor.definition(uri, line, character)
        assert where.range.start.line == position_of(after, "min_accuracy:")[0]
        symbols = editor.symbols(uri)
        names = {s.name for s in symbols}
        assert {"params", "pipeline"} <= names
        editor.hover(uri, 0, 0)
        assert editor.errors() == []
        assert editor.alive
    finally:
        editor.close()
