"""Two servers on one spec: yaml-language-server (schema keys, enums, snippets) and `mlopsdsl lsp`
(`${{ }}` names, `set:` paths, `after:` steps). At every place either completes, the two lists share
no item: where one speaks the other is silent or offers something else, so no item shows twice.

yaml-language-server runs for real through the editor probe (tests/test_editor.py); the test skips
where the probe, Node or its node_modules are absent, as those tests do.
"""

from __future__ import annotations

import pytest
from lsp_editor import CLEAN, editor, position_of  # noqa: F401 - editor is a fixture
from test_editor import probe

BASE = CLEAN.replace("      after: [train]\n", "      after: []\n      \n")
TYPING_SET = BASE.replace("      params.min_accuracy.default: 0.9\n",
                          "      params.min_accuracy.default: 0.9\n      serving.ro\n")

# (what, the spec, the text the cursor follows, where to look for it, does mlopsdsl complete there?)
PLACES = [
    ("a step's when", BASE, "${{ steps.", "register:", True),
    ("an alert's when", BASE, "${{ serving.", "alerts:", True),
    ("a key typed under set", TYPING_SET, "serving.ro", "set:", True),
    ("after", BASE, "after: [", "register:", True),
    ("a new key in a step", BASE, "      \n", "after: []", False),
    ("an enum value", BASE, "strategy: ", "rollout:", False),
]


@pytest.mark.parametrize("what, text, needle, after, ours_speaks", PLACES, ids=[p[0] for p in PLACES])
def test_no_item_is_offered_by_both_servers(editor, tmp_path, what, text, needle, after, ours_speaks):
    path = tmp_path / "spec.yaml"
    path.write_text(text, encoding="utf-8")
    uri = editor.open(path)
    line, character = position_of(text, needle, after=after, delta=len(needle.rstrip("\n")))
    ours = {item.label for item in editor.complete(uri, line, character)}
    theirs = set(probe("complete", str(path), f"{line + 1}:{character + 1}").splitlines())
    assert bool(ours) == ours_speaks, ours
    assert ours_speaks or theirs, "yaml-language-server completes schema places"
    assert ours & theirs == set()
