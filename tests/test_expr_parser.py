"""The grammar and parser: every expression of the language sketch, precedence, literals, errors."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlopsdsl.expr import ast
from mlopsdsl.expr.parser import SyntaxProblem, _lark, parse_expression
from mlopsdsl.expr.template import split
from mlopsdsl.expr.units import Duration, Memory, Percent

SKETCH = [
    "data.raw.uri", "outputs.raw.path", "inputs.data.path", "steps.ingest.outputs.raw",
    "params.learning_rate", "params.max_depth", "steps.features.outputs.train", "secrets.wandb_api_key",
    "steps.train.outputs.model", "steps.features.outputs.test",
    "steps.evaluate.outputs.metrics.accuracy >= params.min_accuracy",
    "['2024-Q1', '2024-Q2', '2024-Q3']", "item", "metadata.version",
    "serving.error_rate < 1% and serving.latency.p95 < 250ms", "serving.latency.p95 > 250ms",
    "serving.error_rate > 1%", "data.reference",
]


def parse(text: str):
    result = parse_expression(text)
    assert not isinstance(result, SyntaxProblem), result
    return result


def shape(node) -> object:
    """A compact, comparable rendering of a tree."""
    if isinstance(node, ast.Name):
        return node.dotted
    if isinstance(node, ast.Lit):
        return node.text
    if isinstance(node, (ast.Compare, ast.Logic, ast.Arith)):
        return (node.op, shape(node.left), shape(node.right))
    if isinstance(node, ast.Not):
        return ("not", shape(node.operand))
    if isinstance(node, ast.Neg):
        return ("neg", shape(node.operand))
    return [shape(i) for i in node.items]


@pytest.mark.parametrize("text", SKETCH)
def test_every_sketch_expression_parses(text):
    node = parse(text)
    assert node.start == 0 and node.end == len(text)


@pytest.mark.parametrize("text, expected", [
    ("a or b and c", ("or", "a", ("and", "b", "c"))),
    ("not a and b", ("and", ("not", "a"), "b")),
    ("not a == b", ("not", ("==", "a", "b"))),
    ("a + b * c", ("+", "a", ("*", "b", "c"))),
    ("(a + b) * c", ("*", ("+", "a", "b"), "c")),
    ("a - b - c", ("-", ("-", "a", "b"), "c")),
    ("a / b / c", ("/", ("/", "a", "b"), "c")),
    ("-a * b", ("*", ("neg", "a"), "b")),
    ("a < b + 1 or c", ("or", ("<", "a", ("+", "b", "1")), "c")),
    ("a >= 1 and b != 'x'", ("and", (">=", "a", "1"), ("!=", "b", "'x'"))),
])
def test_precedence(text, expected):
    assert shape(parse(text)) == expected


@pytest.mark.parametrize("text, value", [
    ("42", 42), ("0.5", 0.5), ("1e3", 1000.0), ("2.5E-1", 0.25), ("true", True), ("false", False),
    ("'it'", "it"), ('"dq"', "dq"), (r"'a\'b'", "a'b"), (r'"tab\tnew\nline"', "tab\tnew\nline"),
    (r"'\u00e9'", "é"), (r'"back\\slash"', "back\\slash"),
])
def test_plain_literals(text, value):
    node = parse(text)
    assert isinstance(node, ast.Lit) and node.value == value and type(node.value) is type(value)


@pytest.mark.parametrize("text, kind, attr, value", [
    ("250ms", Duration, "seconds", 0.25), ("30s", Duration, "seconds", 30.0), ("5m", Duration, "seconds", 300.0),
    ("2h", Duration, "seconds", 7200.0), ("1d", Duration, "seconds", 86400.0), ("1.5h", Duration, "seconds", 5400.0),
    ("1%", Percent, "fraction", 0.01), ("12.5%", Percent, "fraction", 0.125),
    ("8Gi", Memory, "bytes", 8 * 2**30), ("2Ki", Memory, "bytes", 2048), ("1G", Memory, "bytes", 10**9),
])
def test_unit_literals(text, kind, attr, value):
    node = parse(text)
    assert isinstance(node.value, kind) and getattr(node.value, attr) == pytest.approx(value)
    assert node.text == text


def test_m_is_minutes_in_expressions():
    assert parse("500m").value == Duration(30000.0, "500m")


def test_list_literal_with_trailing_comma_and_empty_list():
    assert shape(parse("[1, 2,]")) == ["1", "2"]
    assert shape(parse("[]")) == []


def test_name_parts_and_their_ends():
    node = parse("steps.prep-data.outputs.x")
    assert node.parts == ("steps", "prep-data", "outputs", "x")
    assert node.ends == (5, 15, 23, 25)


def test_bracket_index_for_any_name():
    node = parse("steps['split-2'].outputs.train")
    assert node.parts == ("steps", "split-2", "outputs", "train")
    assert node.prefix_end(2) == len("steps['split-2']")


def test_hyphen_before_a_digit_subtracts():
    assert shape(parse("params.x-1")) == ("-", "params.x", "1")
    assert shape(parse("a-b")) == ("-", "a", "b")  # no dot before: subtraction


def test_keywords_are_not_names_but_can_be_name_parts():
    assert shape(parse("a and b")) == ("and", "a", "b")
    assert parse("params.android").parts == ("params", "android")


def test_spans_are_relative_to_the_expression_text():
    node = parse("  a <= 1  ")
    assert (node.start, node.end) == (2, 8)
    assert (node.right.start, node.right.end) == (7, 8)


@pytest.mark.parametrize("text, message, column", [
    ("a and", "expected a name, a literal or '(' after 'and', found the end of the expression", 5),
    ("a < b < c", "expected an operator or the end of the expression after 'b', found '<'", 6),
    ("(a + 1", "expected ')' after '1', found the end of the expression", 6),
    ("[a, b", "expected ',' or ']' after 'b', found the end of the expression", 5),
    ("a.", "expected a name after '.', found the end of the expression", 2),
    ("a b", "expected an operator, '.' or '[' after 'a', found 'b'", 2),
    ("a = 1", "unexpected character '=' after 'a'", 2),
    ("'open", "unexpected character ''' ", 0),
])
def test_syntax_errors_say_what_was_expected_where(text, message, column):
    problem = parse_expression(text)
    assert isinstance(problem, SyntaxProblem)
    assert problem.message.startswith(message.rstrip())
    assert problem.start == column


@pytest.mark.parametrize("text, hint", [
    ("a = 1", "=="), ("a && b", "and"), ("a || b", "or"), ("a < b < c", "do not chain"),
    ("5min", "units are"), ("", "write a name"),
])
def test_syntax_errors_carry_hints(text, hint):
    problem = parse_expression(text)
    assert isinstance(problem, SyntaxProblem) and hint in (problem.hint or "")


def test_parse_results_are_cached_and_shared():
    assert parse_expression("params.lr > 1") is parse_expression("params.lr > 1")


def test_split_finds_expressions_escapes_and_quoted_braces():
    parts, unclosed = split("a ${{ x }} b $${{ y }} ${{ item == '}}' }}")
    assert unclosed is None
    assert parts[0] == "a " and parts[1] == (2, 5, 10)
    assert parts[2] == " b ${{ y }} "
    assert parts[3][2] == len("a ${{ x }} b $${{ y }} ${{ item == '}}' }}")


def test_split_reports_an_unclosed_expression():
    assert split("abc ${{ x")[1] == 4


def test_importing_the_package_does_not_import_lark():
    code = "import mlopsdsl.expr, sys; assert 'lark' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# The dotted-name fast path must build exactly what the grammar does, and must never accept
# a text the grammar reads differently (a keyword, a subtraction, spaces around a dot).
# (lark's contextual lexer reads a lone `or` as a name; the fast path leaves such oddities to it.)
_piece = st.sampled_from(["a", "b9", "_x", "or", "and", "not", "true", "false", "notx", "orange",
                          "prep-data", "x-1", "-", ".", " ", "\t", "\n", "[", "'k'", "]", "1", "1.5"])


@settings(max_examples=1500, deadline=None)
@given(st.lists(_piece, min_size=1, max_size=8).map("".join))
def test_name_fast_path_agrees_with_the_grammar(text):
    from mlopsdsl.expr.parser import _name_path

    import lark

    fast = _name_path(text)
    try:
        slow = _lark().parse(text)
    except lark.exceptions.UnexpectedInput:
        assert fast is None
        return
    if fast is not None:
        assert slow == fast
    elif (isinstance(slow, ast.Name) and slow.parts[0] not in ("or", "and") and "[" not in text
          and not any(c in text.strip() for c in " \t\n")):
        raise AssertionError(f"the fast path missed a plain dotted name: {text!r}")


@pytest.mark.parametrize("text", ["steps.prep-data.outputs.model", "  params.lr\n", "item", "params.not",
                                  "a.b-c-d"])
def test_name_fast_path_takes_common_names(text):
    from mlopsdsl.expr.parser import _name_path

    assert _name_path(text) is not None
    assert _lark().parse(text) == _name_path(text)


@pytest.mark.parametrize("text", ["true", "not x", "x-1", "params . lr", "steps['a'].x", "params.x-1", "a.",
                                  ".a", "1a"])
def test_name_fast_path_leaves_the_rest_to_lark(text):
    from mlopsdsl.expr.parser import _name_path

    assert _name_path(text) is None


def _find_close_by_hand(value: str, start: int) -> int:
    """The character-by-character definition the regex version must keep."""
    quote = None
    i = start
    while i < len(value):
        ch = value[i]
        if quote:
            if ch == "\\":
                i += 1
            elif ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif value.startswith("}}", i):
            return i
        i += 1
    return value.find("}}", start)


@settings(max_examples=2000, deadline=None)
@given(st.lists(st.sampled_from(["}", "}}", "'", '"', "\\", "a", " ", "\n", "${{"]), max_size=14).map("".join))
def test_closing_braces_are_found_outside_strings(value):
    from mlopsdsl.expr.template import _find_close

    assert _find_close(value, 0) == _find_close_by_hand(value, 0)
