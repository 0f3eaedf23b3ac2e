"""The `${{ ... }}` expression language: grammar, AST, types, checking.

Typical use by the semantic checker, for one string value at `path`:

    parsed, diags = parse_value(value, document.index.get(path), document.source.text, path)
    value_type, more = check(parsed, "step_when", scope)

Importing this package does not import lark; the parser is built when the
first expression is parsed (see `parser.py`).
"""

from mlopsdsl.expr import ast, types
from mlopsdsl.expr.contexts import BUILTINS, CONTEXTS, ROOTS, Context
from mlopsdsl.expr.parser import SyntaxProblem, parse_expression
from mlopsdsl.expr.scope import Scope, TableScope, Unresolved, did_you_mean
from mlopsdsl.expr.template import Expression, ParsedValue, has_expression, parse_value
from mlopsdsl.expr.typecheck import check
from mlopsdsl.expr.units import Cpu, Duration, Memory, Percent, parse_cpu, parse_duration, parse_memory, parse_percent

__all__ = [
    "ast", "types", "BUILTINS", "CONTEXTS", "ROOTS", "Context", "SyntaxProblem", "parse_expression", "Scope",
    "TableScope", "Unresolved", "did_you_mean", "Expression", "ParsedValue", "has_expression", "parse_value",
    "check", "Cpu", "Duration", "Memory", "Percent", "parse_cpu", "parse_duration", "parse_memory", "parse_percent",
]
