"""Half-typed buffers are the normal case: random edits never take `mlopsdsl lsp` down or make it err.

Hypothesis edits a real spec keystroke-sized piece by piece (YAML and expression punctuation, unclosed
quotes and `${{`, characters outside the BMP that count two UTF-16 units) and asks for completion,
hover, definition, references, the outline and quick fixes at random places after each edit. The
server must answer every request (no protocol error), publish diagnostics for the final text, log no
error of its own (a handler that caught an exception logs it to the client), and still be running.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lsprotocol import types
from lsp_editor import CLEAN, Editor

from mlopsdsl.lsp.analysis import is_spec_text

FRAGMENTS = ["${{ ", " }}", "steps.", "params.", "outputs.", "inputs.", "serving.latency.", ": ", "- ", "\n",
             "\n      ", "[", "]", "{", "}", '"', "'", "#", ",", "&a ", "*a", "!!str ", "|\n", "%", "250ms",
             "set:\n      ", "after: [", "when: ", "\U0001F600", "é", "\t", "$${{", "..", "-"]
# Places worth aiming at (a random offset mostly lands in a key or an image name).
ANCHORS = ["${{", ".", ": ", "- ", "[", "steps", "params", "outputs", "train", "set:", "after", "when", "\n"]
_pieces = st.one_of(st.sampled_from(FRAGMENTS), st.text(alphabet="abc_.:-{}[]$ \"'\n19%", max_size=6))
_where = st.tuples(st.sampled_from(ANCHORS), st.floats(0, 1), st.integers(-4, 12))
_edit = st.tuples(_where, st.integers(0, 12), st.lists(_pieces, max_size=3).map("".join))
_request = st.tuples(st.sampled_from(["complete", "hover", "definition", "references", "symbols", "fix"]), _where)


def _position(text: str, where: tuple[str, float, int]) -> tuple[types.Position, int]:
    """At the k-th occurrence of an anchor (k chosen by the fraction), moved by a few characters."""
    anchor, fraction, delta = where
    found, i = [], text.find(anchor)
    while i >= 0:
        found.append(i)
        i = text.find(anchor, i + 1)
    offset = found[min(int(fraction * len(found)), len(found) - 1)] + delta if found else int(fraction * len(text))
    offset = max(0, min(len(text), offset))
    line_start = text.rfind("\n", 0, offset) + 1
    head = text[line_start:offset]
    units = len(head.encode("utf-16-le")) // 2
    return types.Position(text.count("\n", 0, offset), units), offset


@pytest.fixture(scope="module")
def session():
    editor = Editor()
    yield editor
    assert editor.alive
    editor.close()


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.tuples(st.lists(_request, min_size=1, max_size=3), _edit), min_size=1, max_size=6))
def test_random_edits_never_break_the_server(session, tmp_path_factory, steps):
    uri = session.open(tmp_path_factory.mktemp("fuzz") / "spec.yaml", CLEAN)
    text = CLEAN
    for requests, (where, length, inserted) in steps:
        for kind, at in requests:  # first on the text as it is (the clean spec at the start), then edit
            _ask(session, uri, kind, _position(text, at)[0])
        start, start_offset = _position(text, where)
        end_offset = min(len(text), start_offset + length)
        if "\n" in text[start_offset:end_offset]:
            end_offset = text.index("\n", start_offset)
        end = types.Position(start.line, start.character + len(text[start_offset:end_offset].encode("utf-16-le")) // 2)
        session.edit(uri, start.line, start.character, end.line, end.character, inserted)
        text = text[:start_offset] + inserted + text[end_offset:]
    if is_spec_text(text):  # the last text was checked and published (else it is no longer ours)
        final = session.diagnostics(uri, session.versions[uri])
        assert all(d.code != "MLD901" for d in final), [d.message for d in final]
    session.hover(uri, 0, 0)  # one more round trip: log messages sent before it have arrived
    errors = session.errors()
    assert errors == []
    session.close_document(uri)
    assert session.alive


def _ask(session: Editor, uri: str, kind: str, position: types.Position) -> None:
    if kind == "complete":
        session.complete(uri, position.line, position.character)
    elif kind == "hover":
        session.hover(uri, position.line, position.character)
    elif kind == "definition":
        session.definition(uri, position.line, position.character)
    elif kind == "references":
        session.references(uri, position.line, position.character)
    elif kind == "symbols":
        session.symbols(uri)
    else:
        for shown in session.latest(uri):
            session.code_actions(uri, shown)
