"""The syntax tree of one expression, as the parser builds it.

Nodes are frozen and slotted; they hold no lark objects. Positions are
character offsets `start`/`end` relative to the expression text (the text
between `${{` and `}}`), not file coordinates: the same text parses to the
same nodes wherever it appears, so parse results are cached by text and shared
(a 1,000-step spec repeats `${{ steps.train.outputs.model }}` many times).
`mlopsdsl.expr.template.Expression` pairs a tree with the place it was found
and turns these offsets into file `Span`s when a diagnostic needs one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from mlopsdsl.expr.units import Duration, Memory, Percent

LitValue = Union[bool, int, float, str, Duration, Percent, Memory]


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Lit(Node):
    """A literal; its kind is the Python type of `value` (bool before int)."""

    value: LitValue
    text: str  # as written, for messages and hints


@dataclass(frozen=True, slots=True)
class Name(Node):
    """A dotted name path: `steps.train.outputs.model` -> parts ('steps', 'train', ...).

    `ends[i]` is the end offset of part i, so a message about an unknown step
    can underline `steps.prep_data` and not the whole path.
    """

    parts: tuple[str, ...]
    ends: tuple[int, ...]

    @property
    def dotted(self) -> str:
        return ".".join(self.parts)

    def prefix_end(self, count: int) -> int:
        """End offset of the first `count` parts (at least one)."""
        return self.ends[max(1, min(count, len(self.ends))) - 1]


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    items: tuple["Expr", ...]


@dataclass(frozen=True, slots=True)
class Compare(Node):
    op: str  # == != < <= > >=
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True, slots=True)
class Logic(Node):
    op: str  # and | or
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True, slots=True)
class Not(Node):
    operand: "Expr"


@dataclass(frozen=True, slots=True)
class Arith(Node):
    op: str  # + - * /
    left: "Expr"
    right: "Expr"


@dataclass(frozen=True, slots=True)
class Neg(Node):
    operand: "Expr"


Expr = Union[Lit, Name, ListLit, Compare, Logic, Not, Arith, Neg]


def children(node: Expr) -> tuple[Expr, ...]:
    if isinstance(node, (Compare, Logic, Arith)):
        return (node.left, node.right)
    if isinstance(node, (Not, Neg)):
        return (node.operand,)
    if isinstance(node, ListLit):
        return node.items
    return ()


def walk(node: Expr):
    """`node` and every node below it, depth first, left to right."""
    yield node
    for child in children(node):
        yield from walk(child)


def names(node: Expr) -> list[Name]:
    """Every name an expression mentions, in source order."""
    return [n for n in walk(node) if isinstance(n, Name)]


def shape(node: Expr) -> tuple:
    """What an expression means, without where it was written or how it was spaced: two
    expressions with the same shape are the same condition (`params.x>1` and `params.x > 1`)."""
    if isinstance(node, Lit):  # a value with units by its amount: `90m` is `1h30m`
        value = node.value
        amount = next((getattr(value, a) for a in ("seconds", "fraction", "bytes") if hasattr(value, a)), value)
        return ("lit", type(value).__name__, amount)
    if isinstance(node, Name):
        return ("name", node.parts)
    if isinstance(node, (Compare, Logic, Arith)):
        return (type(node).__name__, node.op, shape(node.left), shape(node.right))
    return (type(node).__name__, *(shape(child) for child in children(node)))


def conjuncts(node: Expr) -> list[Expr]:
    """The parts of a chain of `and`s (`a and (b and c)` -> a, b, c); the node itself otherwise."""
    if isinstance(node, Logic) and node.op == "and":
        return conjuncts(node.left) + conjuncts(node.right)
    return [node]
