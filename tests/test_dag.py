"""The checker's DAG algorithms agree with networkx, the reference implementation."""

from __future__ import annotations

import networkx as nx
from hypothesis import given, settings
from hypothesis import strategies as st

from mlopsdsl.check.dag import Dag

graphs = st.integers(min_value=1, max_value=12).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=30)))


def _both(n: int, edges: list[tuple[int, int]]) -> tuple[Dag, nx.DiGraph]:
    names = [f"s{i}" for i in range(n)]
    ours, theirs = Dag(names), nx.DiGraph()
    theirs.add_nodes_from(names)
    for a, b in edges:
        ours.add_edge(names[a], names[b])
        theirs.add_edge(names[a], names[b])
    return ours, theirs


@settings(derandomize=True, max_examples=300, deadline=None)
@given(graphs)
def test_topological_order_matches_networkx(graph):
    n, edges = graph
    ours, theirs = _both(n, edges)
    order = {f"s{i}": i for i in range(n)}
    if nx.is_directed_acyclic_graph(theirs):
        assert ours.topological_order() == list(nx.lexicographical_topological_sort(theirs, key=order.get))
        assert ours.find_cycle() is None
    else:
        assert ours.topological_order() is None
        cycle = ours.find_cycle()
        assert cycle, "a cyclic graph must yield a cycle"
        for a, b in zip(cycle, cycle[1:] + cycle[:1]):
            assert theirs.has_edge(a, b), f"{a} -> {b} is not an edge"


def test_a_long_chain_needs_no_recursion():
    names = [f"s{i}" for i in range(20_000)]
    dag = Dag(names)
    for a, b in zip(names, names[1:]):
        dag.add_edge(a, b)
    dag.add_edge(names[-1], names[0])
    assert dag.topological_order() is None
    assert len(dag.find_cycle()) == 20_000
