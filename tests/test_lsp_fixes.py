"""Every quick-fix rule, applied to the mistake whose hint it reads: `validate` must then be satisfied.

These run the front end in-process (the stdio tests apply the issue's four through a real client);
a hint reworded so that its rule no longer matches fails here, not silently in an editor.
"""

from __future__ import annotations

import pytest
from lsp_editor import CLEAN

from mlopsdsl.driver import check_file
from mlopsdsl.lsp.fixes import RULES, fixes
from mlopsdsl.lsp.text import LineIndex

# (name, old, new, the code whose fix is applied, the text the first fix writes)
CASES = [
    ("did-you-mean-key", "      run: [python, -m, churn.train",
     "      retires: 2\n      run: [python, -m, churn.train", "MLD201", "retries"),
    ("did-you-mean-name", "steps.train.outputs.metrics.accuracy", "steps.trian.outputs.metrics.accuracy", "MLD301",
     "train"),
    ("did-you-mean-after", "after: [train]", "after: [trainn]", "MLD301", "train"),
    ("did-you-mean-field", "metrics.accuracy >=", "metrics.acuracy >=", "MLD303", "accuracy"),
    ("known-here", "steps.train.outputs.model }}\"}", "steps.train.outputs.weights }}\"}", "MLD302", "model"),
    ("unit", "p95 > 250ms", "p95 > 250", "MLD506", "250ms"),
    ("percent-fraction", "error_rate < 1%", "error_rate < 0.01", "MLD506", "1%"),
    ("unquote", "default: 0.1,", 'default: "0.1",', "MLD643", "0.1"),
    ("canary-flow", "steps: [10%, 50%, 100%]", "steps: [10%, 50%]", "MLD605", ", 100%"),
    ("canary-block", "steps: [10%, 50%, 100%]", "steps:\n      - 10%\n      - 50%", "MLD605", "\n      - 100%"),
    ("canary-whole", "steps: [10%, 50%, 100%]", "steps: [10.4%, 50%, 100%]", "MLD605", "10%"),
    ("quote-it", "namespace: churn-staging", "namespace: 42", "MLD203", '"42"'),
]


def _check(tmp_path, text: str):
    path = str(tmp_path / "spec.yaml")
    return check_file(path, buffers={path: text}).diagnostics, path


@pytest.mark.parametrize("name, old, new, code, written", CASES, ids=[c[0] for c in CASES])
def test_each_fix_satisfies_validate(tmp_path, name, old, new, code, written):
    assert old in CLEAN
    text = CLEAN.replace(old, new, 1)
    found, _ = _check(tmp_path, text)
    [mistake] = [d for d in found if d.code.code == code]
    lines = LineIndex(text)
    start = lines.span_offset(mistake.span.line, mistake.span.col)
    end = lines.span_offset(mistake.span.end_line, mistake.span.end_col)
    offered = fixes(mistake, text, start, end)
    assert written in [f.text for f in offered], f"no fix writing {written!r} for {mistake.hint!r}"
    chosen = next(f for f in offered if f.text == written)
    assert chosen.preferred == (name != "known-here")  # a list of known names is no single suggestion
    fixed = text[:chosen.start] + chosen.text + text[chosen.end:]
    after, _ = _check(tmp_path, fixed)
    assert [d for d in after if d.code.code == code] == [], fixed


def test_the_percent_hint_offers_both_readings_and_prefers_the_fraction(tmp_path):
    text = CLEAN.replace("error_rate < 1%", "error_rate < 0.01", 1)
    found, _ = _check(tmp_path, text)
    [mistake] = [d for d in found if d.code.code == "MLD506"]
    lines = LineIndex(text)
    offered = fixes(mistake, text, lines.span_offset(mistake.span.line, mistake.span.col),
                    lines.span_offset(mistake.span.end_line, mistake.span.end_col))
    assert [(f.text, f.preferred) for f in offered] == [("1%", True), ("0.01%", False)]


def test_every_rule_is_exercised():
    """A rule no case reaches is dead code or an untested promise."""
    reached = set()
    for name, old, new, code, written in CASES:
        text = CLEAN.replace(old, new, 1)
        found, _ = check_file("/nonexistent/spec.yaml", buffers={"/nonexistent/spec.yaml": text}).diagnostics, None
        for d in (d for d in found if d.code.code == code):
            lines = LineIndex(text)
            start = lines.span_offset(d.span.line, d.span.col)
            end = lines.span_offset(d.span.end_line, d.span.end_col)
            reached |= {rule.__name__ for rule in RULES if rule(d, text, start, end)}
    assert reached == {rule.__name__ for rule in RULES}


def test_no_fix_is_guessed_for_a_hint_no_rule_knows(tmp_path):
    text = CLEAN.replace("strategy: canary", "strategy: canary\n    interval_typo: 1", 1)
    found, _ = _check(tmp_path, text)
    for d in found:
        lines = LineIndex(text)
        start = lines.span_offset(d.span.line, d.span.col)
        end = lines.span_offset(d.span.end_line, d.span.end_col)
        for fix in fixes(d, text, start, end):
            assert fix.text in (d.hint or "") + d.message
