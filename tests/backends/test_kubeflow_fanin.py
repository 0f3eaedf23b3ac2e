"""Fan-in: `for_each` over mapping items (`item.f`) and a later step reading a looped value output.

The shape is the one kfp 2.17 compiles for `dsl.ParallelFor` over dicts and `dsl.Collected`
(the loop component's `dag.outputs` + LIST `outputDefinitions`, the reader taking the loop task's
output). The pipeline is also run under KFP's own local orchestrator (the exec judge), where the
fan-in step must receive every item's value.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from conftest import SHARED, run_cli

SPEC = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: sweep, version: 1.0.0}
defaults:
  image: ghcr.io/acme/x:1.0.0
pipeline:
  steps:
    train:
      for_each: [{lr: 0.1, depth: 3}, {lr: 0.05, depth: 5}, {lr: 0.01, depth: 8}]
      parallelism: 2
      run: [python, -m, train, --lr, "${{ item.lr }}", --depth, "${{ item.depth }}",
            --metrics, "${{ outputs.metrics.path }}", --score, "${{ outputs.score.path }}"]
      outputs: {metrics: {type: Metrics, fields: {auc: float}}, score: float}
    pick:
      run: [python, -m, pick, --scores, "${{ inputs.scores }}", --best, "${{ outputs.best.path }}"]
      inputs: {scores: "${{ steps.train.outputs.score }}"}
      outputs: {best: int}
    report:
      run: [python, -c, "print('best item', '${{ inputs.best }}')"]
      inputs: {best: "${{ steps.pick.outputs.best }}"}
"""
STEPS = Path(__file__).parent / "fanin_steps"
EXEC_PY = Path.home() / ".cache/mlopsdsl-conformance/exec-venv/bin/python"


@pytest.fixture
def compiled(tmp_path):
    spec = tmp_path / "sweep.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    code, out, err = run_cli("compile", str(spec), "--out", str(tmp_path / "out"), "--target", "kubeflow")
    assert code == 0, out + err
    return tmp_path / "out" / "kubeflow" / "pipeline.yaml"


def test_the_fan_in_compiles_as_kfp_compiles_dsl_collected(compiled):
    import yaml

    pipeline = next(yaml.safe_load_all(compiled.read_text(encoding="utf-8")))
    loop = pipeline["components"]["comp-for-loop-train"]
    assert loop["dag"]["outputs"] == {"parameters": {"pipelinechannel--train-score": {
        "valueFromParameter": {"outputParameterKey": "score", "producerSubtask": "train"}}}}
    assert loop["outputDefinitions"] == {"parameters": {"pipelinechannel--train-score": {"parameterType": "LIST"}}}
    assert loop["inputDefinitions"]["parameters"]["pipelinechannel--for-loop-train-loop-item"] == {
        "parameterType": "STRUCT"}
    lr = loop["dag"]["tasks"]["train"]["inputs"]["parameters"]["item__lr"]
    assert lr["parameterExpressionSelector"] == 'parseJson(string_value)["lr"]'
    pick = pipeline["root"]["dag"]["tasks"]["pick"]
    assert pick["inputs"]["parameters"]["scores"] == {"taskOutputParameter": {
        "outputParameterKey": "pipelinechannel--train-score", "producerTask": "for-loop-train"}}
    assert pick["dependentTasks"] == ["for-loop-train"]
    assert pipeline["components"]["comp-pick"]["inputDefinitions"]["parameters"]["scores"] == {"parameterType": "LIST"}


def test_the_conformance_kit_accepts_it(compiled):
    if SHARED is None:
        pytest.skip("shared conformance kit is not present")
    done = subprocess.run([str(SHARED / "conformance" / "check-output"), str(compiled)], capture_output=True,
                          text=True)
    if done.returncode == 2:
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, done.stdout


def test_the_fan_in_step_reads_every_items_value_under_kfp_local(compiled, tmp_path):
    runner = SHARED / "conformance" / "exec" / "kfp-local-run.py" if SHARED else None
    if runner is None or not runner.is_file() or not EXEC_PY.is_file():
        pytest.skip("the kfp.local execution judge is not installed (shared/conformance/exec/install-exec.sh)")
    done = subprocess.run([str(EXEC_PY), str(runner), str(compiled), "--path", str(STEPS)], capture_output=True,
                          text=True, cwd=tmp_path, timeout=600, env={**os.environ, "NO_COLOR": "1"})
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-3000:]
    assert "scores [0.83, 0.9, 0.83]" in log  # all three items, in item order
    assert "best item 1" in log


def test_a_list_of_artifacts_is_still_refused_with_the_workaround(tmp_path):
    spec = tmp_path / "sweep.yaml"
    spec.write_text(SPEC.replace('inputs: {scores: "${{ steps.train.outputs.score }}"}',
                                 'inputs: {scores: "${{ steps.train.outputs.score }}", all: "${{ steps.train.outputs.metrics }}"}'),
                    encoding="utf-8")
    code, out, err = run_cli("compile", str(spec), "--out", str(tmp_path / "out"), "--target", "kubeflow")
    assert code == 1
    assert "MLD707" in out + err and "a fan-in of artifacts" in out + err
