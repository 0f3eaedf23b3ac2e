"""Text between `${{` and `}}` -> AST, through ONE cached lark LALR parser.

The grammar is data (`grammar/expressions.lark`). The parser is built once per
process, on first use, so a spec without expressions never imports lark. The
callbacks below run inside the LALR parser (lark's `transformer=` option), so no
parse tree is built: each reduction makes one frozen AST node. Results, errors
included, are cached by text because specs repeat the same expressions often
and AST offsets are relative to the text (see `ast.py`).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from functools import lru_cache

from mlopsdsl.charset import describe, first_unsafe
from mlopsdsl.diagnostics import Code, codes
from mlopsdsl.expr import ast
from mlopsdsl.expr.units import MAX_INT, grammar_terminals, in_range, parse_duration, parse_memory, parse_percent
from mlopsdsl.resources import grammar_text

# Every later stage (type checking, lowering, CEL, PromQL, shell) walks a tree recursively, a few
# Python frames per level; past this depth they would hit the interpreter's recursion limit. A person
# never nests 100 levels (`a and b and ...` with 100 terms is 100 levels: operators associate left).
MAX_DEPTH = 100


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    """Why a text is not an expression; offsets are relative to the text."""

    message: str
    start: int
    end: int
    hint: str | None = None
    code: Code = codes.EXPR_SYNTAX


class _BadLiteral(Exception):
    """Raised by a literal callback: the parse stops at the first literal no target can hold."""

    def __init__(self, token, problem: str, hint: str, code: Code) -> None:
        self.token, self.problem, self.hint, self.code = token, problem, hint, code


# lark terminal names -> words in messages. An operand position expects all of
# _OPERAND; saying so in full ("a name, a string, an integer, '[', 'not'...") is noise.
_LITERALS = {"INT", "FLOAT", "TRUE", "FALSE", "STRING", "DURATION", "PERCENT", "QUANTITY"}
_OPERAND = {"NAME", "LPAR"} | _LITERALS
_OPERATORS = {"EQ", "NE", "LT", "LE", "GT", "GE", "PLUS", "MINUS", "STAR", "SLASH", "AND", "OR"}
_WORDS = {
    "NAME": "a name", "SEGMENT": "a name", "RPAR": "')'", "RSQB": "']'", "COMMA": "','",
    "DOT": "'.'", "LSQB": "'['", "LPAR": "'('", "NOT": "'not'", "$END": "the end of the expression",
}
_FOUND = {"$END": "the end of the expression"}
# Characters people bring from other languages, and what to write instead.
_CHAR_HINTS = {
    "=": "compare with '=='", "&": "write 'and'", "|": "write 'or'", "!": "write 'not' (or '!=')",
    "%": "a percentage is a number directly followed by '%': `1%`", "$": "expressions cannot nest `${{ }}`",
    "{": "expressions cannot nest `${{ }}`", "}": "expressions cannot nest `${{ }}`",
}


def _expected_words(expected: set[str]) -> str:
    words: list[str] = []
    if _OPERAND <= expected:
        words.append("a name, a literal or '('")
        expected = expected - _OPERAND - {"LSQB", "NOT", "MINUS"}
    elif expected & {"NAME", "SEGMENT"}:
        words.append("a name")
    elif "STRING" in expected:
        words.append("a quoted name")
    if expected & _OPERATORS:
        words.append("an operator")
    words += sorted({_WORDS[t] for t in expected if t in _WORDS and _WORDS[t] not in words})
    if not words:
        return "something else"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _tokens_before(text: str, pos: int) -> list:
    import lark  # only on the error path

    tokens: list = []
    try:
        tokens.extend(_lark().lex(text[:pos]))
    except lark.exceptions.LarkError:
        pass
    return tokens


def _open_brackets(tokens: list) -> list[str]:
    stack: list[str] = []
    for token in tokens:
        if token.type in ("LPAR", "LSQB"):
            stack.append(token.type)
        elif token.type in ("RPAR", "RSQB") and stack:
            stack.pop()
    return stack


def _plausible(expected: set[str], tokens: list) -> set[str]:
    """Drop what LALR's merged lookaheads admit but this text cannot use.

    After `a < b` the state also accepts ')' ',' ']' (from other contexts that
    share it); naming them when no bracket is open sends the reader astray.
    """
    stack = _open_brackets(tokens)
    innermost = stack[-1] if stack else None
    drop = set()
    if innermost != "LPAR":
        drop.add("RPAR")
    if innermost != "LSQB":
        drop |= {"RSQB", "COMMA"}
    if stack:
        drop.add("$END")
    return (expected - drop) or expected


def _problem(text: str, exc: Exception) -> SyntaxProblem:
    import lark

    if isinstance(exc, lark.exceptions.UnexpectedCharacters):
        pos = exc.pos_in_stream
        char = text[pos]
        tokens = _tokens_before(text, pos)
        where = f" after '{tokens[-1]}'" if tokens else ""
        return SyntaxProblem(f"unexpected character '{char}'{where}", pos, pos + 1, _CHAR_HINTS.get(char))
    assert isinstance(exc, lark.exceptions.UnexpectedToken)
    token = exc.token
    at_end = token.type == "$END"
    pos = len(text.rstrip()) if at_end else token.start_pos
    end = pos + (1 if at_end else max(1, len(token)))
    tokens = _tokens_before(text, pos)
    before = str(tokens[-1]) if tokens else None
    where = f" after '{before}'" if before else ""
    found = _FOUND.get(token.type) or f"'{token}'"
    message = f"expected {_expected_words(_plausible(set(exc.expected), tokens))}{where}, found {found}"
    hint = None
    if not text.strip():
        message, hint = "empty expression", "write a name or a literal inside `${{ }}`"
    elif token.type in {"LT", "LE", "GT", "GE", "EQ", "NE"} and before is not None:
        hint = "comparisons do not chain: write `a < b and b < c`"
    elif token.type in {"NAME", "INT", "SEGMENT"} and before and before[0].isdigit():
        hint = "units are ms, s, m, h, d (durations), % and Ki, Mi, Gi... (memory), written right after the number"
    return SyntaxProblem(message, pos, end, hint)


_ESCAPES = {'"': '"', "'": "'", "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_ESCAPE_RE = re.compile(r"\\(u[0-9a-fA-F]{4}|.)")


def _unquote(token: str) -> str:
    # The STRING terminal admits only valid escapes, so every match decodes.
    return _ESCAPE_RE.sub(
        lambda m: chr(int(m.group(1)[1:], 16)) if m.group(1)[0] == "u" else _ESCAPES[m.group(1)], token[1:-1])


def _binary(cls):
    def build(self, c):
        left, op, right = c
        return cls(op=str(op), left=left, right=right, start=left.start, end=right.end)
    return build


def _literal(convert):
    def build(self, c):
        (token,) = c
        try:
            value = convert(str(token))
        except _BadLiteral as exc:
            exc.token = token
            raise
        if value is None:
            raise _BadLiteral(token, f"the number {_shorten(str(token))} is too large", _RANGE_HINT,
                              codes.EXPR_NUMBER_TOO_LARGE)
        return ast.Lit(value, str(token), start=token.start_pos, end=token.end_pos)
    return build


def _string(text: str) -> str:
    value = _unquote(text)
    char = first_unsafe(value)
    if char is not None:  # `'\u202e'`: an escape makes what YAML would have refused (charset.py)
        raise _BadLiteral(None, f"this string holds {describe(char)}, which would reach generated files",
                          "remove the escape: control characters and bidirectional controls hide or reorder "
                          "what a reader of the generated files sees", codes.UNSAFE_CHARACTER)
    return value


def _int(text: str) -> int | None:
    # Length first: Python refuses to convert more than 4,300 digits at all.
    digits = text.lstrip("0") or "0"
    return int(digits) if len(digits) <= len(str(MAX_INT)) and int(digits) <= MAX_INT else None


def _float(text: str) -> float | None:
    value = float(text)
    return value if in_range(value) else None


class _Builder:
    """lark calls one method per named alternative, with the reduced children."""

    compare_eq = compare_ne = compare_lt = compare_le = compare_gt = compare_ge = _binary(ast.Compare)
    add_plus = add_minus = mul_times = mul_div = _binary(ast.Arith)
    logic_or = logic_and = _binary(ast.Logic)

    lit_int = _literal(_int)
    lit_float = _literal(_float)
    lit_true = _literal(lambda _: True)
    lit_false = _literal(lambda _: False)
    lit_string = _literal(_string)
    lit_duration = _literal(parse_duration)
    lit_percent = _literal(parse_percent)
    lit_quantity = _literal(parse_memory)

    def unary_not(self, c):
        op, operand = c
        return ast.Not(operand=operand, start=op.start_pos, end=operand.end)

    def unary_minus(self, c):
        op, operand = c
        return ast.Neg(operand=operand, start=op.start_pos, end=operand.end)

    def group(self, c):
        return c[1]

    def list_lit(self, c):
        items = tuple(x for x in c[1:-1] if isinstance(x, ast.Node))
        return ast.ListLit(items=items, start=c[0].start_pos, end=c[-1].end_pos)

    def name(self, c):
        # Children: NAME, then (DOT SEGMENT | LSQB STRING RSQB)*. A part ends
        # after its SEGMENT, or after the ']' of its index.
        parts: list[str] = [str(c[0])]
        ends: list[int] = [c[0].end_pos]
        for token in c[1:]:
            if token.type == "SEGMENT":
                parts.append(str(token))
                ends.append(token.end_pos)
            elif token.type == "STRING":
                parts.append(_unquote(str(token)))
            elif token.type == "RSQB":
                ends.append(token.end_pos)
        return ast.Name(parts=tuple(parts), ends=tuple(ends), start=c[0].start_pos, end=ends[-1])


def grammar() -> str:
    """The whole grammar: grammar/expressions.lark and the unit literals of the one value syntax."""
    return grammar_text() + grammar_terminals()


@lru_cache(maxsize=1)
def _lark():
    import lark

    from mlopsdsl.cache import private_file

    # The analysed LALR tables are cached (lark checks the grammar's hash), which saves ~70 ms on
    # every later run; never in the shared temp directory (cache=True), whose pickle anyone can plant.
    cache = private_file(f"expressions-lark{lark.__version__}-py{sys.version_info[0]}{sys.version_info[1]}.cache")
    return lark.Lark(grammar(), parser="lalr", propagate_positions=True,
                     maybe_placeholders=True, transformer=_Builder(), cache=cache or False)


# Most expressions are one dotted name (`steps.train.outputs.model`, `inputs.raw.path`): 90% of
# them in a 1,000-step spec, where LALR parsing was the largest single cost of `validate`.
# This pattern accepts only texts the grammar reads as `name: NAME (DOT SEGMENT)*` with no
# whitespace inside; `_name_path` builds the node the `name` callback would. Anything else,
# keywords included (`true`), goes to lark. tests/test_expr_parser.py holds them equal.
_NAME_PATH = re.compile(
    r"([ \t\r\n]*)([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z][A-Za-z0-9_]*)*)*)[ \t\r\n]*\Z")
_KEYWORDS = frozenset({"or", "and", "not", "true", "false"})


def _name_path(text: str) -> ast.Name | None:
    match = _NAME_PATH.match(text)
    if match is None:
        return None
    parts = tuple(match.group(2).split("."))
    if parts[0] in _KEYWORDS:
        return None
    end = start = match.end(1)
    ends = []
    for part in parts:
        end += len(part)
        ends.append(end)
        end += 1  # the dot
    return ast.Name(parts=parts, ends=tuple(ends), start=start, end=ends[-1])


@lru_cache(maxsize=8192)
def parse_expression(text: str) -> ast.Expr | SyntaxProblem:
    """Parse the text between `${{` and `}}`. Cached: equal texts share one result."""
    fast = _name_path(text)
    if fast is not None:
        return fast
    import lark

    try:
        tree = _lark().parse(text)
    except lark.exceptions.UnexpectedInput as exc:
        return _problem(text, exc)
    except _BadLiteral as exc:
        token = exc.token
        return SyntaxProblem(exc.problem, token.start_pos, token.end_pos, exc.hint, exc.code)
    return _too_deep(tree) or tree


_RANGE_HINT = ("numbers must fit a 64-bit integer (up to 9223372036854775807) and durations Go's "
               "time.Duration (about 292 years), as every target reads them")


def _shorten(text: str) -> str:
    return text if len(text) <= 24 else f"{text[:10]}...{text[-10:]} ({len(text):,} characters)"


def _too_deep(tree: ast.Expr) -> SyntaxProblem | None:
    """The first node nested deeper than MAX_DEPTH, found without recursion."""
    stack = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return SyntaxProblem(f"the expression nests more than {MAX_DEPTH} levels deep", node.start,
                                 node.start + 1, "split it: compute parts in steps or params, or use a list",
                                 codes.EXPR_TOO_DEEP)
        stack.extend((child, depth + 1) for child in ast.children(node))
    return None
