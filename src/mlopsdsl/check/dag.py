"""The two graph algorithms the checker needs, without networkx on the hot path.

networkx costs 60-200 ms to import, more than parsing a 1,000-step spec; the
checker needs only a topological order (ties broken by spec order, so output
is stable) and, when there is none, one cycle to show. tests/test_dag.py checks
both against networkx on random graphs.
"""

from __future__ import annotations

import heapq
from typing import Any


class Dag:
    """A directed graph over named nodes in insertion order, with data on edges."""

    def __init__(self, nodes) -> None:
        self.order = {name: i for i, name in enumerate(nodes)}
        self.succ: dict[str, dict[str, Any]] = {name: {} for name in self.order}
        self.pred: dict[str, dict[str, Any]] = {name: {} for name in self.order}

    def add_edge(self, upstream: str, downstream: str, **data: Any) -> None:
        self.succ[upstream][downstream] = data
        self.pred[downstream][upstream] = data

    def __contains__(self, name: object) -> bool:
        return name in self.order

    def predecessors(self, name: str):
        return iter(self.pred[name])

    def edges(self):
        """(upstream, downstream, data) in a stable order."""
        for upstream in self.order:
            for downstream, data in self.succ[upstream].items():
                yield upstream, downstream, data

    def edge(self, upstream: str, downstream: str) -> dict[str, Any]:
        return self.succ[upstream][downstream]

    def topological_order(self) -> list[str] | None:
        """Kahn's algorithm; among ready nodes the earliest in the spec goes first. None if cyclic."""
        indegree = {name: len(preds) for name, preds in self.pred.items()}
        ready = [(self.order[n], n) for n, d in indegree.items() if d == 0]
        heapq.heapify(ready)
        out: list[str] = []
        while ready:
            _, name = heapq.heappop(ready)
            out.append(name)
            for downstream in self.succ[name]:
                indegree[downstream] -= 1
                if indegree[downstream] == 0:
                    heapq.heappush(ready, (self.order[downstream], downstream))
        return out if len(out) == len(self.order) else None

    def find_cycle(self) -> list[str] | None:
        """One cycle as a node list whose last node has an edge back to the first; None if acyclic.

        Iterative depth-first search (a 5,000-step chain must not hit the recursion limit).
        """
        WHITE, GREY, BLACK = 0, 1, 2
        colour = dict.fromkeys(self.order, WHITE)
        for root in self.order:
            if colour[root] != WHITE:
                continue
            stack = [(root, iter(self.succ[root]))]
            path = [root]
            colour[root] = GREY
            while stack:
                node, children = stack[-1]
                for child in children:
                    if colour[child] == GREY:
                        return path[path.index(child):]
                    if colour[child] == WHITE:
                        colour[child] = GREY
                        path.append(child)
                        stack.append((child, iter(self.succ[child])))
                        break
                else:
                    colour[node] = BLACK
                    stack.pop()
                    path.pop()
        return None
