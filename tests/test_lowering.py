"""Lowering leaves nothing to re-parse: in every example and every environment, the IR holds no
`${{` text (expressions are resolved nodes, compile-time names are folded), and it is stable."""

from __future__ import annotations

import json

import pytest

from conftest import EXAMPLES
from mlopsdsl.driver import build_ir

SPECS = sorted(p for p in EXAMPLES.rglob("*.yaml") if "components" not in p.parts)


def _environments(spec) -> list:
    result = build_ir(str(spec))
    assert result.ir is not None, [str(d) for d in result.diagnostics]
    return [None] + [e.name for e in result.ir.environments]


CASES = [(spec, env) for spec in SPECS for env in _environments(spec)]


@pytest.mark.parametrize("spec,env", CASES, ids=[f"{s.parent.name}-{e or 'base'}" for s, e in CASES])
def test_no_expression_text_survives_lowering(spec, env):
    result = build_ir(str(spec), env=env)
    assert result.ir is not None
    dumped = json.dumps(result.ir.model_dump(mode="json"), sort_keys=True)
    assert "${{" not in dumped
    assert dumped == json.dumps(build_ir(str(spec), env=env).ir.model_dump(mode="json"), sort_keys=True)


def test_an_environment_changes_exactly_what_it_sets():
    spec = str(EXAMPLES / "churn" / "churn.yaml")
    base, production = build_ir(spec).ir, build_ir(spec, env="production").ir
    assert (base.serving.min_replicas, production.serving.min_replicas) == (2, 4)
    assert base.serving.storage_uri == production.serving.storage_uri == "s3://acme-ml/models/churn/1.4.0/"
    assert {p.name: p.default for p in production.params}["min_accuracy"] == 0.87
    assert production.serving.namespace == "ml-prod" and base.serving.namespace == "default"
