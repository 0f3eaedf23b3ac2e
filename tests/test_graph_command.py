"""`mlopsdsl graph`: the DAG as Mermaid or dot, with conditions, fan-outs, ordering-only edges
and the exit handler; errors in the spec are reported instead of a drawing."""

from __future__ import annotations

from conftest import EXAMPLES, run_cli

CHURN = str(EXAMPLES / "churn" / "churn.yaml")


def test_mermaid_draws_data_edges_ordering_edges_conditions_and_loops():
    code, out, _ = run_cli("graph", CHURN)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "flowchart TD"
    assert "    ingest --> validate" in lines and "    train --> evaluate" in lines
    assert "    validate -.-> features" in lines  # `after:` only: dashed
    assert any(line.startswith('    register{"register [when steps.evaluate.outputs.metrics.accuracy') for line in lines)
    assert any(line.startswith('    backtest{{"backtest (for each [') for line in lines)
    assert lines[-1] == '    on-exit(["on-exit (on exit, always)"])'


def test_dot_is_a_digraph_with_the_same_edges():
    code, out, _ = run_cli("graph", CHURN, "--format", "dot")
    assert code == 0
    assert out.startswith('digraph "churn" {') and out.rstrip().endswith("}")
    assert '    "validate" -> "features" [style=dashed];' in out and '    "ingest" -> "validate";' in out
    assert 'shape=diamond' in out and 'shape=hexagon' in out


def test_a_spec_with_errors_is_reported_not_drawn(write_spec):
    spec = write_spec("apiVersion: mlopsdsl/v1\nkind: Project\nmetadata: {name: x, version: 1.0.0}\n"
                      "pipeline:\n  steps:\n    a: {image: i, run: [x], after: [b]}\n    b: {image: i, run: [x], after: [a]}\n")
    code, out, _ = run_cli("graph", str(spec))
    assert code == 1 and "MLD401" in out and "a -> b -> a" in out.replace("b -> a -> b", "a -> b -> a")
