"""`tune: {engine: optuna}`: the search runs inside the pipeline (no Katib), on the step's real code.

`mlopsdsl.search` is run directly on a real training script (polynomial ridge regression on a
generated data set, tests/backends/tune_steps), then the whole compiled pipeline runs under KFP's
own local orchestrator (the exec judge): 16 Optuna trials, the refit with the best values, a step
that reads the refit model, and a fan-in step that reads every trial.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import SHARED, run_cli
from mlopsdsl import search

STEPS = Path(__file__).parent / "tune_steps"
EXEC_PY = Path.home() / ".cache/mlopsdsl-conformance/exec-venv/bin/python"
SPEC = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: curve, version: 1.0.0}
params:
  alpha: {type: float, default: 1.0}
  degree: {type: int, default: 1}
defaults:
  image: ghcr.io/acme/curve:1.0.0   # has optuna, like the test environment
pipeline:
  steps:
    prepare:
      run: [python, -m, prepare, --out, "${{ outputs.data.path }}"]
      outputs: {data: Dataset}
    train:
      run: [python, -m, train, --data, "${{ inputs.data.path }}", --alpha, "${{ params.alpha }}",
            --degree, "${{ params.degree }}", --model, "${{ outputs.model.path }}",
            --metrics, "${{ outputs.metrics.path }}"]
      inputs: {data: "${{ steps.prepare.outputs.data }}"}
      outputs: {model: Model, metrics: {type: Metrics, fields: {r2: float, rmse: float}}}
      tune:
        params:
          alpha: {loguniform: [0.0001, 10]}
          degree: {int: [1, 6]}
        objective: {metric: metrics.r2, goal: maximize}
        engine: optuna
        trials: 16
        parallel: 2
    report:
      run: [python, -m, report, --model, "${{ inputs.model.path }}"]
      inputs: {model: "${{ steps.train.outputs.model }}"}
    trials:
      run: [python, -m, trials, --trials, "${{ inputs.trials }}"]
      inputs: {trials: "${{ steps.train.outputs.trials }}"}
"""


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("data") / "data.csv"
    subprocess.run([sys.executable, str(STEPS / "prepare.py"), "--out", str(path)], check=True)
    return path


def search_args(data: Path, tmp: Path, algorithm: str, trials: int, space: dict, *extra: str) -> list[str]:
    outputs = "/tmp/mlopsdsl/outputs"
    return ["--space", json.dumps(space), "--objective", "r2", "--metrics", "metrics", "--algorithm", algorithm,
            "--trials", str(trials), "--outputs", outputs, "--trials-file", str(tmp / "trials.json"),
            "--result", f"degree={tmp / 'degree'}", "--result", f"r2={tmp / 'r2'}", *extra, "--",
            sys.executable, str(STEPS / "train.py"), "--data", str(data), "--alpha", "${trialParameters.alpha}",
            "--degree", "${trialParameters.degree}", "--model", f"{outputs}/model", "--metrics", f"{outputs}/metrics"]


def test_tpe_finds_a_curved_model_and_records_every_trial(data, tmp_path):
    space = {"alpha": {"kind": "loguniform", "low": 1e-4, "high": 10}, "degree": {"kind": "int", "low": 1, "high": 6}}
    assert search.main(search_args(data, tmp_path, "tpe", 12, space)) == 0
    trials = json.loads((tmp_path / "trials.json").read_text())
    assert len(trials) == 12 and all(t["state"] == "COMPLETE" for t in trials)
    best = max(trials, key=lambda t: t["value"])
    assert int((tmp_path / "degree").read_text()) == best["params"]["degree"] >= 3  # sin(3x) is not a line
    assert float((tmp_path / "r2").read_text()) == best["value"] > 0.95
    assert all(set(t["metrics"]) == {"r2", "rmse"} for t in trials)


def test_grid_visits_every_combination(data, tmp_path):
    space = {"alpha": {"kind": "uniform", "low": 0.1, "high": 0.3, "step": 0.1},
             "degree": {"kind": "choice", "values": [1, 3]}}
    assert search.main(search_args(data, tmp_path, "grid", 6, space)) == 0
    seen = {(round(t["params"]["alpha"], 6), t["params"]["degree"])
            for t in json.loads((tmp_path / "trials.json").read_text())}
    assert seen == {(a, d) for a in (0.1, 0.2, 0.3) for d in (1, 3)}


def test_failing_trials_stop_the_search_after_max_failed(data, tmp_path):
    space = {"alpha": {"kind": "uniform", "low": -2.0, "high": -1.0}, "degree": {"kind": "int", "low": 40, "high": 41}}
    args = search_args(data, tmp_path, "random", 10, space, "--max-failed", "1")
    args[args.index("--data") + 1] = str(tmp_path / "missing.csv")  # every trial fails
    assert search.main(args) == 1
    trials = json.loads((tmp_path / "trials.json").read_text())
    assert [t["state"] for t in trials] == ["FAIL", "FAIL"]  # stopped after the second failure


def test_the_compiled_search_task_runs_the_shipped_module(tmp_path):
    spec = tmp_path / "curve.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    code, out, err = run_cli("compile", str(spec), "--out", str(tmp_path / "out"), "--target", "kubeflow")
    assert code == 0, out + err
    assert "launcher-rbac.yaml" not in out  # no Katib, no custom resource
    pipeline = next(yaml.safe_load_all((tmp_path / "out/kubeflow/pipeline.yaml").read_text()))
    command = pipeline["deploymentSpec"]["executors"]["exec-train-search"]["container"]["command"]
    assert command[2] == Path(search.__file__).read_text(encoding="utf-8")
    assert "{{$.inputs.artifacts['data'].path}}" in command and "${trialParameters.alpha}" in command
    assert pipeline["root"]["dag"]["tasks"]["trials"]["inputs"]["parameters"]["trials"] == {
        "taskOutputParameter": {"outputParameterKey": "trials", "producerTask": "train-search"}}


def test_the_pipeline_tunes_refits_and_fans_in_under_kfp_local(tmp_path):
    runner = SHARED / "conformance" / "exec" / "kfp-local-run.py" if SHARED else None
    if runner is None or not runner.is_file() or not EXEC_PY.is_file():
        pytest.skip("the kfp.local execution judge is not installed (shared/conformance/exec/install-exec.sh)")
    spec = tmp_path / "curve.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    code, out, err = run_cli("compile", str(spec), "--out", str(tmp_path / "out"), "--target", "kubeflow")
    assert code == 0, out + err
    # `python` on the steps' PATH is this test run's interpreter (which has optuna), as an image's would be
    shim = tmp_path / "bin" / "python"
    shim.parent.mkdir()
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("PYTHONPATH", None)
    done = subprocess.run([str(EXEC_PY), str(runner), str(tmp_path / "out/kubeflow/pipeline.yaml"),
                           "--path", str(STEPS), "--path", str(shim.parent)], capture_output=True, text=True,
                          cwd=tmp_path, env=env, timeout=900)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    assert log.count("mlopsdsl.search: trial ") == 32  # 16 trials: parameters, then the objective
    best = [line for line in log.splitlines() if "mlopsdsl.search: best trial" in line]
    served = [line for line in log.splitlines() if "served model:" in line]
    assert len(best) == 1 and len(served) == 1
    degree = served[0].split("degree=")[1].split()[0]
    assert f"'degree': {degree}" in best[0]  # the refit trained with the best trial's values
    assert "trials: 16, complete: 16" in log  # the fan-in step read every trial
