"""Type checking of parsed values: one pass, one diagnostic per mistake.

`check(parsed, context, scope)` returns the value's type and diagnostics. An
erroneous sub-expression gets type `unknown`, which fits everywhere, so one
mistake is reported once. Units never silently meet plain numbers: the
message names both sides and the hint is the literal to write (`250ms`).
"""

from __future__ import annotations

import re

from mlopsdsl.diagnostics import Code, Diagnostic, codes
from mlopsdsl.expr import ast, fold
from mlopsdsl.expr import contexts as ctx
from mlopsdsl.expr import types as t
from mlopsdsl.expr.arith import arith_type, unit_hint
from mlopsdsl.expr.scope import Scope, Unresolved, did_you_mean
from mlopsdsl.expr.template import Expression, ParsedValue
from mlopsdsl.expr.units import Duration, Memory, Percent

_SECRET_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9_]{0,251}[A-Za-z0-9])?")
_SECRET_KEY = re.compile(r"[-._A-Za-z0-9]{1,253}")  # Kubernetes' IsConfigMapKey

_LIT_TYPES = {bool: t.BOOL, int: t.INT, float: t.FLOAT, str: t.STR, Duration: t.DURATION,
              Percent: t.PERCENT, Memory: t.MEMORY}
_ORDERED = frozenset({"int", "float"}) | t.UNIT_NAMES


class _Checker:
    __slots__ = ("parsed", "context", "scope", "diagnostics", "expr", "decided")

    def __init__(self, parsed: ParsedValue, context: ctx.Context, scope: Scope,
                 decided: dict[int, t.Type] | None = None) -> None:
        self.parsed, self.context, self.scope, self.decided = parsed, context, scope, decided
        self.diagnostics: list[Diagnostic] = []
        self.expr: Expression | None = None

    def report(self, code: Code, message: str, node: ast.Node, hint: str | None = None, end: int | None = None):
        assert self.expr is not None
        span = self.parsed.node_span(self.expr, node, end)
        self.diagnostics.append(Diagnostic(code, message, span, self.parsed.path, hint=hint))

    def text(self, node: ast.Node) -> str:
        assert self.expr is not None
        return self.expr.source(node)

    def type_of(self, node: ast.Expr) -> t.Type:
        if isinstance(node, ast.Lit):
            return _LIT_TYPES[type(node.value)]
        if isinstance(node, ast.Name):
            return self.name(node)
        if isinstance(node, ast.Logic):
            for side in (node.left, node.right):
                self.expect_bool(side, f"'{node.op}' needs true/false on both sides")
            return t.BOOL
        if isinstance(node, ast.Not):
            self.expect_bool(node.operand, "'not' needs true/false")
            return t.BOOL
        if isinstance(node, ast.Compare):
            return self.compare(node)
        if isinstance(node, ast.Arith):
            left, right = self.type_of(node.left), self.type_of(node.right)
            return self.arith(node, left, right)
        if isinstance(node, ast.Neg):
            operand = self.type_of(node.operand)
            if operand.name in _ORDERED or operand == t.UNKNOWN:
                return operand
            self.report(codes.EXPR_TYPE_MISMATCH, f"cannot negate a {operand}", node)
            return t.UNKNOWN
        assert isinstance(node, ast.ListLit)
        return self.list_type(node)

    def expect_bool(self, node: ast.Expr, message: str) -> None:
        found = self.type_of(node)
        if found not in (t.BOOL, t.UNKNOWN):
            self.report(codes.EXPR_TYPE_MISMATCH, f"{message}; `{self.text(node)}` is {found}", node)

    def compare(self, node: ast.Compare) -> t.Type:
        left, right = self.type_of(node.left), self.type_of(node.right)
        if t.UNKNOWN in (left, right):
            return t.BOOL
        if self.unit_clash(node, left, right):
            return t.BOOL
        ordering = node.op not in ("==", "!=")
        if ordering and not (left.name in _ORDERED and (left == right or left.is_numeric and right.is_numeric)):
            self.report(codes.EXPR_TYPE_MISMATCH,
                        f"'{node.op}' compares numbers, durations, percentages or quantities, not {left} and {right}",
                        node, hint=_artifact_hint(left, right))
        elif not ordering and (t.unify(left, right) is None or left.is_artifact or left == t.SECRET
                               or right.is_artifact or right == t.SECRET):
            self.report(codes.EXPR_TYPE_MISMATCH, f"cannot compare {left} with {right}", node,
                        hint=_artifact_hint(left, right))
        return t.BOOL

    def unit_clash(self, node: ast.Compare | ast.Arith, left: t.Type, right: t.Type) -> bool:
        """A unit type meets a plain number: report with the literal to write."""
        for unit_side, unit, other, other_type in ((node.left, left, node.right, right),
                                                   (node.right, right, node.left, left)):
            if unit.unit and other_type.is_numeric:
                if isinstance(node, ast.Arith) and node.op in ("*", "/") and (node.op == "*" or other is node.right):
                    return False  # scaling a unit by a number is fine
                suggestion = unit_hint(unit, other, self.text(other), self.text(unit_side))
                self.report(codes.EXPR_UNIT_MISMATCH,
                            f"`{self.text(unit_side)}` is a {unit} but `{self.text(other)}` is a plain number; "
                            f"the units must agree", other, hint=suggestion)
                return True
        return False

    def arith(self, node: ast.Arith, left: t.Type, right: t.Type) -> t.Type:
        if t.UNKNOWN in (left, right):
            return t.UNKNOWN
        if self.unit_clash(node, left, right):
            return t.UNKNOWN
        result = arith_type(node.op, left, right)
        if result is None:
            self.report(codes.EXPR_TYPE_MISMATCH, f"cannot apply '{node.op}' to {left} and {right}", node,
                        hint="text is joined by writing it around `${{ }}`, not with '+'" if t.STR in (left, right)
                        else None)
            return t.UNKNOWN
        # A constant part must have a value: `x / 0` has none whatever x is, nor `2 * 9223372036854775807`.
        found = fold.constant(node.right if node.op == "/" and not fold.is_constant(node.left) else node)
        if node.op == "/" and not isinstance(found, fold.NoValue) and found is not None \
                and not fold.is_constant(node.left) and fold.is_zero(found):
            found = fold.NoValue(node.right, f"`{self.text(node.right)}` is zero: the division has no value", True)
        if isinstance(found, fold.NoValue):
            self.report(codes.EXPR_NO_VALUE, found.message, found.node,
                        hint="divide by something that is not zero" if found.division else
                        "numbers must fit a 64-bit integer, durations Go's ~292 years")
            return t.UNKNOWN
        return result

    def list_type(self, node: ast.ListLit) -> t.Type:
        elem = t.UNKNOWN
        for item in node.items:
            found = self.type_of(item)
            joined = t.unify(elem, found)
            if joined is None:
                self.report(codes.EXPR_TYPE_MISMATCH,
                            f"list items must share one type: `{self.text(item)}` is {found}, earlier items are {elem}",
                            item)
            else:
                elem = joined
        found = t.list_of(elem)
        if self.decided is not None:
            self.decided[id(node)] = found
        return found

    def name(self, node: ast.Name) -> t.Type:
        parts, context = node.parts, self.context
        root = parts[0]
        if root not in ctx.ROOTS:
            roots = context.roots
            hint = did_you_mean(root, roots) or f"names here start with: {', '.join(roots)}"
            self.report(codes.EXPR_UNKNOWN_NAME, f"unknown name '{root}'", node, hint, end=node.prefix_end(1))
            return t.UNKNOWN
        if root not in context.roots:
            return self.not_allowed(node)
        if root == "secrets" and not self.secret_shape(node):
            return t.UNKNOWN
        found = ctx.builtin(parts)
        if found is None and root in ("serving", "drift") and parts[:2] != ("drift", "score"):
            hint = did_you_mean(node.dotted, ctx.builtin_names(root))
            self.report(codes.EXPR_UNKNOWN_NAME, f"unknown name `{node.dotted}`", node, hint)
            return t.UNKNOWN
        if not context.admits(parts):
            return self.not_allowed(node)
        if found is not None:
            return found
        resolved = self.scope.resolve(parts)
        if isinstance(resolved, Unresolved):
            self.report(resolved.code, resolved.message, node, resolved.hint, end=node.prefix_end(resolved.known + 1))
            return t.UNKNOWN
        return resolved

    def secret_shape(self, node: ast.Name) -> bool:
        """`secrets.NAME[.KEY]`: a name both a GitHub secret and a Kubernetes Secret can have, a key a Secret can."""
        parts = node.parts
        if len(parts) >= 2 and not _SECRET_NAME.fullmatch(parts[1]):
            self.report(codes.SECRET_REFERENCE, f"`{parts[1]}` cannot name a secret", node,
                        "letters, digits and `_`, starting with a letter and not ending with `_` (a Kubernetes "
                        "Secret is named in lower case with `-` for `_`, a GitHub secret in upper case)",
                        end=node.prefix_end(2))
            return False
        if len(parts) == 3 and (not _SECRET_KEY.fullmatch(parts[2]) or parts[2] in (".", "..")):
            self.report(codes.SECRET_REFERENCE, f"`{parts[2]}` cannot be a key of a Kubernetes Secret", node,
                        "a key is letters, digits, `-`, `_` and `.`, at most 253 of them")
            return False
        return True

    def not_allowed(self, node: ast.Name) -> t.Type:
        context = self.context
        self.report(codes.EXPR_NAME_NOT_ALLOWED,
                    f"`{node.dotted}` cannot be used in {context.what}; allowed here: {context.allowed}", node)
        return t.UNKNOWN


def _artifact_hint(left: t.Type, right: t.Type) -> str | None:
    if left.is_artifact or right.is_artifact:
        return "an artifact is not a value; compare one of its declared fields: `steps.S.outputs.O.FIELD`"
    return None


def check(parsed: ParsedValue, context: str | ctx.Context, scope: Scope,
          decided: dict[int, t.Type] | None = None) -> tuple[t.Type, list[Diagnostic]]:
    """Type-check every expression of `parsed` in `context`; return the value's type.

    A whole-value expression has its own type; a template (or plain text) is a
    str. Expressions that failed to parse are skipped (already reported). `decided`, when
    given, receives the type of each list literal (by node id), for the lowering to read.
    """
    context = ctx.get(context)
    checker = _Checker(parsed, context, scope, decided)
    whole = parsed.whole
    if context.whole and whole is None:
        span = parsed.span(0, len(parsed.value))
        checker.diagnostics.append(Diagnostic(
            codes.EXPR_WHOLE_REQUIRED, f"{context.what} must be exactly one `${{{{ ... }}}}`, with nothing around it",
            span, parsed.path, hint=f"write `${{{{ {_example(parsed)} }}}}`"))
    if whole is not None:
        checker.expr = whole
        if whole.node is None:
            return t.UNKNOWN, checker.diagnostics
        found = checker.type_of(whole.node)
        _check_whole(checker, whole.node, found)
        if context.key in _METRIC_CONDITIONS and found == t.BOOL and not checker.diagnostics:
            _check_metric_condition(checker, whole.node)
        return found, checker.diagnostics
    for expression in parsed.expressions:
        checker.expr = expression
        if expression.node is None:
            continue
        found = checker.type_of(expression.node)
        if not found.is_scalar and not (context.key == "run_arg" and t.is_value_list(found)):
            checker.report(codes.EXPR_NOT_SCALAR, _not_scalar(expression.source(expression.node), found),
                           expression.node, hint=_scalar_hint(found))
    return t.STR, checker.diagnostics


def _check_whole(checker: _Checker, node: ast.Expr, found: t.Type) -> None:
    context, text = checker.context, checker.text(node)
    if found == t.UNKNOWN:
        return
    if context.expect == t.BOOL and found != t.BOOL:
        hint = "compare it: `... > 0.9`, `... == 'x'`" if found.name in _ORDERED or found == t.STR else None
        checker.report(codes.EXPR_NOT_BOOL, f"{context.what} must be true or false; `{text}` is {found}", node, hint)
    elif context.expect is not None and context.expect != t.BOOL and not t.assignable(found, context.expect):
        expected = "a list" if context.expect.name == "list" else f"a {context.expect}"
        checker.report(codes.EXPR_TYPE_MISMATCH, f"{context.what} must be {expected}; `{text}` is {found}", node)
    elif context.scalar and not found.is_scalar and not (found == t.SECRET and "secrets" in context.roots) \
            and not (context.key == "run_arg" and t.is_value_list(found)):
        checker.report(codes.EXPR_NOT_SCALAR, _not_scalar(text, found), node, hint=_scalar_hint(found))


_METRIC_CONDITIONS = frozenset({"alert_when", "rollout_analysis"})


def _mentions_metric(node: ast.Expr) -> bool:
    return any(isinstance(n, ast.Name) and n.parts[0] in ("serving", "drift") for n in ast.walk(node))


def _check_metric_condition(checker: _Checker, node: ast.Expr) -> None:
    """A condition on live metrics is comparisons of a metric joined by and/or/not; `true` always holds.

    It becomes a PromQL query that returns series exactly when it holds: a constant
    (`true`, `1 > 2`) would fire an alert forever, or never promote a rollout.
    """
    if isinstance(node, ast.Logic):
        for side in (node.left, node.right):
            _check_metric_condition(checker, side)
    elif isinstance(node, ast.Not):
        _check_metric_condition(checker, node.operand)
    elif not (isinstance(node, ast.Compare) and _mentions_metric(node)):
        what = "always holds or never does" if not _mentions_metric(node) else "is not a comparison"
        checker.report(codes.CONDITION_WITHOUT_METRIC,
                       f"`{checker.text(node)}` in {checker.context.what} {what}: compare a serving or drift metric",
                       node, hint="e.g. `serving.error_rate < 1%` or `drift.score > 0.2`")


def _not_scalar(text: str, found: t.Type) -> str:
    kind = f"a {found} artifact" if found.is_artifact else f"a {found}"
    return f"`{text}` is {kind}, which cannot be written into text"


def _scalar_hint(found: t.Type) -> str | None:
    if found.is_artifact:
        return "pass it as an input and write its location: `${{ inputs.NAME.path }}`"
    if found == t.SECRET:
        return "a secret must be the whole value (`KEY: ${{ secrets.NAME }}`), so it is never spliced into text"
    return None


def _example(parsed: ParsedValue) -> str:
    found = parsed.expressions
    return found[0].text.strip() if found else parsed.value.strip() or "..."
