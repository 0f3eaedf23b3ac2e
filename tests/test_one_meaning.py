"""A fact of the language means the same in every stage: the checker decides it once, and the
lowering and the targets read that decision (they never re-derive a type or compare text).
The drift default and durations are held in tests/test_language_table.py; list types and
conditions here."""

from __future__ import annotations

import json

import pytest

from mlopsdsl.compiler import compile_project
from mlopsdsl.diagnostics import codes
from mlopsdsl.driver import build_ir, check_file
from mlopsdsl.expr import ast
from mlopsdsl.expr.parser import parse_expression

LOOP = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: sweep, version: 1.0.0}
params:
  rates: {type: str, default: x}
pipeline:
  steps:
    train:
      image: python:3.12
      for_each: ITEMS
      run: [python, -c, "print(${{ item }})"]
"""


def _loop(write_spec, items: str):
    result = build_ir(str(write_spec(LOOP.replace("ITEMS", items))))
    assert result.ok, [str(d) for d in result.diagnostics]
    return result


@pytest.mark.parametrize("items", ["[1, 2.5]", "'${{ [1, 2.5] }}'"])
def test_a_list_of_ints_and_floats_holds_floats_in_every_stage(write_spec, items):
    result = _loop(write_spec, items)
    assert str(result.checked.exprs.loop_types["train"]) == "list[float]"  # the checker's decision
    (step,) = result.ir.pipeline.steps
    assert step.for_each.items.type == "list[float]"  # the lowering's
    spec = json.loads(json.dumps(_pipeline_spec(result.ir)))
    (loop,) = [t for t in spec["root"]["dag"]["tasks"].values() if "parameterIterator" in t]
    item = loop["parameterIterator"]["itemInput"]
    component = spec["components"][loop["componentRef"]["name"]]
    assert component["inputDefinitions"]["parameters"][item]["parameterType"] == "NUMBER_DOUBLE"  # KFP's


def test_a_list_of_ints_is_a_list_of_ints(write_spec):
    assert _loop(write_spec, "[1, 2]").ir.pipeline.steps[0].for_each.items.type == "list[int]"


def _pipeline_spec(project) -> dict:
    import yaml

    out = compile_project(project, ["kubeflow"])
    assert out.ok, [str(d) for d in out.diagnostics]
    return next(yaml.safe_load_all(out.files["kubeflow/pipeline.yaml"]))


GATED = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: gated, version: 1.0.0}
params:
  x: {type: int, default: 2}
  fast: {type: bool, default: true}
pipeline:
  steps:
    train:
      image: python:3.12
      when: "${{ UPSTREAM }}"
      run: [python, -c, "1", "${{ outputs.model.path }}"]
      outputs: {model: Model}
    evaluate:
      image: python:3.12
      when: "${{ DOWNSTREAM }}"
      run: [python, -c, "1", "${{ inputs.model.path }}"]
      inputs: {model: "${{ steps.train.outputs.model }}"}
"""


@pytest.mark.parametrize("upstream,downstream", [
    ("params.x>1", "params.x > 1"),
    ("params.x > 1", "(params.x>1)"),
    ("params.x > 1 and params.fast", "params.fast and (params.x  >  1)"),
    ("params.x > 1", "params.fast and params.x>1"),
])
def test_the_same_condition_written_differently_is_the_same_condition(write_spec, upstream, downstream):
    spec = write_spec(GATED.replace("UPSTREAM", upstream).replace("DOWNSTREAM", downstream))
    found = [d.code for d in check_file(str(spec)).diagnostics]
    # Kubeflow refuses any data edge out of a `when` step (MLD707, its own rule); the language does not.
    assert codes.CONDITIONAL_DEPENDENCY not in found and set(found) <= {codes.TARGET_TOPOLOGY}


@pytest.mark.parametrize("upstream,downstream", [("params.x > 1", "params.x >= 1"),
                                                 ("params.x > 1 and params.fast", "params.x > 1"),
                                                 ("params.x > 1", "params.x > 1 or params.fast")])
def test_a_different_condition_is_still_refused(write_spec, upstream, downstream):
    spec = write_spec(GATED.replace("UPSTREAM", upstream).replace("DOWNSTREAM", downstream))
    assert codes.CONDITIONAL_DEPENDENCY in [d.code for d in check_file(str(spec)).diagnostics]


def test_shapes_ignore_spacing_and_positions_and_read_units_by_amount():
    def shape(text):
        return ast.shape(parse_expression(text))

    assert shape("params.x>1") == shape("( params.x  > 1 )") != shape("params.x > 2")
    assert shape("serving.latency.p95 > 90m") == shape("serving.latency.p95 > 1h30m")
    assert shape("params.x > 1") != shape("params.x > 1.0")
