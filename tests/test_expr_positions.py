"""A caret inside `${{ }}` lands on the right file column, for every YAML scalar style."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from mlopsdsl.diagnostics import codes
from mlopsdsl.expr import TableScope, check, parse_value
from mlopsdsl.expr import types as t
from mlopsdsl.loader import load_text

SCOPE = TableScope({("params", "lr"): t.FLOAT, ("params", "name"): t.STR})


def diagnose(text: str, path: tuple, context: str = "step_when"):
    document, problems = load_text(text, "spec.yaml")
    assert problems == []
    value = document.data
    for part in path:
        value = value[part]
    parsed, diagnostics = parse_value(value, document.index.get(path), document.source.text, path)
    _, more = check(parsed, context, SCOPE)
    return document, diagnostics + more


def caret(text: str, line: int, col: int, end_col: int) -> str:
    """The file text under a span, to assert on what the user sees."""
    return text.splitlines()[line - 1][col - 1:end_col - 1]


def only(document, diagnostics):
    (diagnostic,) = diagnostics
    s = diagnostic.span
    assert s.line == s.end_line
    return diagnostic, caret(document.source.text, s.line, s.col, s.end_col)


@pytest.mark.parametrize("value", [
    "${{ params.lrr > 1 }}",  # plain
    "'${{ params.lrr > 1 }}'",  # single quotes
    '"${{ params.lrr > 1 }}"',  # double quotes
])
def test_simple_styles(value):
    text = f"a:\n  when: {value}\n"
    document, diagnostics = diagnose(text, ("a", "when"))
    diagnostic, under = only(document, diagnostics)
    assert under == "params.lrr" and diagnostic.span.line == 2


def test_single_quotes_with_doubled_quotes_before_the_name():
    text = "a:\n  arg: 'it''s ''${{ params.lrr }}'' ok'\n"
    document, diagnostics = diagnose(text, ("a", "arg"), "text")
    assert only(document, diagnostics)[1] == "params.lrr"


def test_double_quotes_with_escapes_before_the_name():
    text = 'a:\n  arg: "tab\\t\\u00e9\\"q\\" ${{ params.lrr }}"\n'
    document, diagnostics = diagnose(text, ("a", "arg"), "text")
    assert only(document, diagnostics)[1] == "params.lrr"


def test_double_quoted_string_inside_the_expression_shifts_columns():
    text = 'a:\n  when: "${{ params.name == \\"x\\" and params.lrr > 1 }}"\n'
    document, diagnostics = diagnose(text, ("a", "when"))
    assert only(document, diagnostics)[1] == "params.lrr"


def test_non_ascii_before_the_expression_counts_characters():
    text = "a:\n  arg: \"é€ ${{ params.lrr }}\"\n"
    document, diagnostics = diagnose(text, ("a", "arg"), "text")
    assert only(document, diagnostics)[1] == "params.lrr"


@pytest.mark.parametrize("indicator", ["|", "|-", "|+", "|2"])
def test_literal_block_multi_line(indicator):
    text = f"a:\n  arg: {indicator}\n    first line\n      indented ${{{{ params.lrr }}}}\n    last\n"
    document, diagnostics = diagnose(text, ("a", "arg"), "text")
    diagnostic, under = only(document, diagnostics)
    assert under == "params.lrr" and diagnostic.span.line == 4


def test_folded_block_multi_line():
    text = "a:\n  arg: >\n    first line\n    then ${{ params.lrr }} here\n"
    document, diagnostics = diagnose(text, ("a", "arg"), "text")
    diagnostic, under = only(document, diagnostics)
    assert under == "params.lrr" and diagnostic.span.line == 4


def test_expression_split_over_lines_in_a_folded_block():
    text = "a:\n  when: >-\n    ${{ params.lr > 1\n    and params.lrr }}\n"
    document, diagnostics = diagnose(text, ("a", "when"))
    diagnostic, under = only(document, diagnostics)
    assert (diagnostic.span.line, under) == (4, "params.lrr")


def test_plain_multi_line_scalar():
    text = "a:\n  arg: start\n    more ${{ params.lrr }}\n"
    document, diagnostics = diagnose(text, ("a", "arg"), "text")
    diagnostic, under = only(document, diagnostics)
    assert (diagnostic.span.line, under) == (3, "params.lrr")


def test_double_quoted_multi_line_with_escaped_line_break():
    text = 'a:\n  arg: "one \\\n    two ${{ params.lrr }}"\n'
    document, diagnostics = diagnose(text, ("a", "arg"), "text")
    diagnostic, under = only(document, diagnostics)
    assert (diagnostic.span.line, under) == (3, "params.lrr")


def test_flow_sequence_item():
    text = "a:\n  run: [python, --lr, \"${{ params.lrr }}\"]\n"
    document, diagnostics = diagnose(text, ("a", "run", 2), "run_arg")
    assert only(document, diagnostics)[1] == "params.lrr"


def test_second_expression_of_a_template():
    text = "a:\n  arg: ${{ params.lr }}-${{ params.lrr }}\n"
    document, diagnostics = diagnose(text, ("a", "arg"), "text")
    assert only(document, diagnostics)[1] == "params.lrr"


def test_syntax_error_caret_after_the_operator():
    text = "a:\n  when: \"${{ params.lr > }}\"\n"
    document, diagnostics = diagnose(text, ("a", "when"))
    diagnostic, _ = only(document, diagnostics)
    assert diagnostic.code == codes.EXPR_SYNTAX
    assert diagnostic.span.col == text.splitlines()[1].index(">") + 2


def test_unclosed_expression_points_at_its_opening():
    text = "a:\n  arg: 'x ${{ params.lr'\n"
    document, diagnostics = diagnose(text, ("a", "arg"), "text")
    diagnostic, under = only(document, diagnostics)
    assert diagnostic.code == codes.EXPR_UNCLOSED and under.startswith("${{")


def test_escaped_opening_is_literal_text():
    text = "a:\n  arg: \"$${{ not.an.expression }} ${{ params.lrr }}\"\n"
    document, diagnostics = diagnose(text, ("a", "arg"), "text")
    assert only(document, diagnostics)[1] == "params.lrr"


_PIECES = st.sampled_from(["${{ params.lrr }}", "${{ params.lr > }}", "${{ x", "'", '"', "\\", "é", " ", "\n",
                           "\t", "$${{", "a", "#", ": ", "}}"])


@settings(max_examples=200, deadline=None)
@given(st.lists(_PIECES, max_size=12).map("".join), st.sampled_from([None, "'", '"', "|", ">"]))
def test_every_span_lies_inside_the_file(value, style):
    text = yaml.dump({"a": {"arg": value}}, default_style=style, allow_unicode=True)
    document, problems = load_text(text, "spec.yaml")
    if document is None or problems or not isinstance(document.data["a"]["arg"], str):
        return
    parsed, diagnostics = parse_value(document.data["a"]["arg"], document.index.get(("a", "arg")), text, ("a", "arg"))
    _, more = check(parsed, "text", SCOPE)
    lines = text.splitlines()
    for diagnostic in diagnostics + more:
        s = diagnostic.span
        assert 1 <= s.line <= len(lines) and 1 <= s.col <= len(lines[s.line - 1]) + 1
