"""`mlopsdsl run`: the compiled pipeline on this machine under kfp.local, with a run record,
content-keyed caching, --from/--only, and every failure a diagnostic."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from conftest import EXAMPLES, run_cli
from .kit import (QUIET, project_copy, python_shim, registered_versions, registry_alias, run_module,
                  tracked_metrics, tracked_runs)

pytest.importorskip("kfp.local", reason="mlopsdsl[run] (kfp) is not installed")  # README's test command installs it

# Steps as tiny Python programs, so the engine is tested in seconds: `emit` writes a file with a
# counter (each real execution appends a line to runs.log), `gate` decides on a metrics field.
SPEC = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: tiny, version: 0.1.0}
params:
  threshold: {type: float, default: 0.5, min: 0, max: 1}
  fail_train: {type: bool, default: false}
defaults:
  image: python:3.12-slim
  retries: 1
pipeline:
  steps:
    prepare:
      run: [python, -m, tiny.step, prepare, --out, "${{ outputs.data.path }}"]
      outputs: {data: Dataset}
    train:
      run: [python, -m, tiny.step, train, --in, "${{ inputs.data.path }}", --out, "${{ outputs.model.path }}",
            --fail, "${{ params.fail_train }}", --metrics, "${{ outputs.metrics.path }}"]
      inputs: {data: "${{ steps.prepare.outputs.data }}"}
      outputs: {model: Model, metrics: {type: Metrics, fields: {score: float}}}
    publish:
      when: "${{ steps.train.outputs.metrics.score >= params.threshold }}"
      run: [python, -m, tiny.step, publish, --in, "${{ inputs.model.path }}"]
      inputs: {model: "${{ steps.train.outputs.model }}"}
    report:
      for_each: [a, b, c]
      parallelism: 2
      run: [python, -m, tiny.step, report, --in, "${{ inputs.model.path }}", --item, "${{ item }}"]
      inputs: {model: "${{ steps.train.outputs.model }}"}
  on_exit:
    run: [python, -m, tiny.step, notify]
"""

STEP = '''\
import argparse, json, os, sys
ap = argparse.ArgumentParser()
ap.add_argument("name"); ap.add_argument("--in", dest="src"); ap.add_argument("--out")
ap.add_argument("--fail", default="false"); ap.add_argument("--metrics"); ap.add_argument("--item")
a = ap.parse_args()
with open(os.path.join(os.environ["TINY_LOG_DIR"], "runs.log"), "a") as fh:
    fh.write(a.name + (":" + a.item if a.item else "") + "\\n")
print("running", a.name, a.item or "")
if a.fail.lower() == "true":
    sys.exit("train: asked to fail")
if a.out:
    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    text = open(a.src).read() if a.src else "data-1"
    open(a.out, "w").write(text + "|" + a.name)
if a.metrics:
    open(a.metrics, "w").write(json.dumps({"score": 0.8}))
'''


@pytest.fixture
def tiny(tmp_path):
    project = tmp_path / "tiny"
    (project / "src/tiny").mkdir(parents=True)
    (project / "src/tiny/__init__.py").write_text("")
    (project / "src/tiny/step.py").write_text(STEP)
    (project / "tiny.yaml").write_text(SPEC)
    return project


def mlopsdsl_run(project: Path, *args: str) -> tuple[int, str, str]:
    env = {**QUIET, "PYTHONPATH": str(project / "src"), "TINY_LOG_DIR": str(project),
           "PATH": f"{python_shim(project.parent)}{os.pathsep}{os.environ['PATH']}"}
    return run_cli(*args, cwd=project, env=env, timeout=600)


def executed(project: Path) -> list[str]:
    log = project / "runs.log"
    lines = log.read_text().split() if log.exists() else []
    log.unlink(missing_ok=True)
    return lines


def records(project: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((project / ".mlopsdsl/runs").glob("*/run.json"))]


def test_runs_gates_loops_and_the_exit_handler_and_keeps_a_private_record(tiny) -> None:
    code, out, err = mlopsdsl_run(tiny, "run", "tiny.yaml")
    assert code == 0, out + err
    ran = executed(tiny)
    assert ran[:2] == ["prepare", "train"] and ran[-1] == "notify"
    assert sorted(ran[2:6]) == ["publish", "report:a", "report:b", "report:c"]
    assert "? condition-publish: taken" in err
    [record] = records(tiny)
    assert record["status"] == "succeeded"
    assert {"prepare", "train", "publish", "on-exit"} <= set(record["steps"])
    train = record["steps"]["train"]
    assert train["status"] == "succeeded" and set(train["outputs"]) >= {"model", "metrics", "metrics__score"}
    assert "running train" in (tiny / ".mlopsdsl/runs" / record["id"] / train["log"]).read_text()
    assert Path(train["outputs"]["model"]).read_text() == "data-1|prepare|train"
    for path in (tiny / ".mlopsdsl", tiny / ".mlopsdsl/runs", tiny / ".mlopsdsl/runs" / record["id"],
                 tiny / ".mlopsdsl/cache"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    code, out, _ = mlopsdsl_run(tiny, "runs")
    assert code == 0 and record["id"] in out and "succeeded" in out


def test_the_gate_skips_below_the_threshold_given_with_p(tiny) -> None:
    code, out, err = mlopsdsl_run(tiny, "run", "tiny.yaml", "-p", "threshold=0.9")
    assert code == 0, out + err
    assert "publish" not in executed(tiny) and "? condition-publish: skipped" in err


def test_the_cache_is_keyed_by_content_and_code(tiny) -> None:
    assert mlopsdsl_run(tiny, "run", "tiny.yaml")[0] == 0
    executed(tiny)
    code, out, err = mlopsdsl_run(tiny, "run", "tiny.yaml")
    assert code == 0, out + err
    # every step cached but the exit handler, which is never cached
    assert executed(tiny) == ["notify"]
    assert records(tiny)[-1]["steps"]["train"]["status"] == "cached"
    # a parameter only the gate reads re-decides the gate; no step reads it, so none reruns
    code, out, err = mlopsdsl_run(tiny, "run", "tiny.yaml", "-p", "threshold=0.7")
    assert code == 0 and executed(tiny) == ["notify"] and "condition-publish: taken" in err, err
    # the step programs are part of the key: an edit reruns every step of the package
    (tiny / "src/tiny/step.py").write_text(STEP + "# changed\n")
    assert mlopsdsl_run(tiny, "run", "tiny.yaml")[0] == 0
    assert len(executed(tiny)) == 7


def test_from_and_only_rerun_what_they_name_and_take_the_rest_from_the_cache(tiny) -> None:
    code, out, err = mlopsdsl_run(tiny, "run", "tiny.yaml", "--only", "train")
    assert code == 1 and "MLD807" in out and "prepare" in out  # nothing cached yet: refused, not rerun
    executed(tiny)
    assert mlopsdsl_run(tiny, "run", "tiny.yaml")[0] == 0
    executed(tiny)
    code, out, err = mlopsdsl_run(tiny, "run", "tiny.yaml", "--only", "train")
    assert code == 0, out + err
    assert executed(tiny) == ["train", "notify"]
    code, out, err = mlopsdsl_run(tiny, "run", "tiny.yaml", "--from", "train")
    assert code == 0, out + err
    ran = executed(tiny)
    assert ran[0] == "train" and sorted(ran[1:]) == ["notify", "publish", "report:a", "report:b", "report:c"]
    code, out, _ = mlopsdsl_run(tiny, "run", "tiny.yaml", "--only", "trian")
    assert code == 2 and "MLD806" in out and "did you mean 'train'" in out


def test_a_failing_step_is_retried_then_a_diagnostic_and_the_exit_handler_runs(tiny) -> None:
    code, out, err = mlopsdsl_run(tiny, "run", "tiny.yaml", "-p", "fail_train=true")
    assert code == 1
    assert "error[MLD803]: step 'train' failed" in out and "asked to fail" in out and "Traceback" not in out + err
    assert executed(tiny) == ["prepare", "train", "train", "notify"]  # retries: 1, then on_exit
    [record] = records(tiny)
    assert record["status"] == "failed" and record["steps"]["train"]["attempts"] == 2


@pytest.mark.parametrize("args, code, expected", [
    (("-p", "treshold=0.3"), "MLD801", "did you mean 'threshold'"),
    (("-p", "threshold=high"), "MLD802", "float parameter"),
    (("-p", "threshold=2"), "MLD802", "outside [0.0, 1.0]"),
    (("--containers",), "MLD804", "neither docker nor podman"),
])
def test_usage_problems_are_diagnostics_with_exit_2(tiny, args, code, expected) -> None:
    status, out, err = mlopsdsl_run(tiny, "run", "tiny.yaml", *args)
    assert status == 2 and code in out and expected in out, out + err
    assert not (tiny / ".mlopsdsl/runs").exists() or not records(tiny)  # nothing ran


def test_a_step_that_needs_a_cluster_is_refused_before_anything_runs(tmp_path) -> None:
    code, out, err = run_cli("run", str(EXAMPLES / "churn/churn.yaml"), cwd=tmp_path)
    assert code == 1 and "MLD805" in out and "Katib" in out and "pipeline.steps.train.tune: null" in out


@pytest.mark.slow
def test_minimal_runs_end_to_end_with_a_model_and_its_mlflow_records(tmp_path) -> None:
    minimal = project_copy("minimal", tmp_path)
    code, out, err = mlopsdsl_run(minimal, "run", "minimal.yaml", "--env", "local")
    assert code == 0, out + err
    [record] = records(minimal)
    assert (Path(record["steps"]["train"]["outputs"]["model"]) / "model.joblib").stat().st_size > 10_000
    assert json.loads(Path(record["steps"]["evaluate"]["outputs"]["metrics"]).read_text())["r2"] > 0.9
    assert registered_versions(minimal, "house-prices") == [1]
    assert tracked_runs(minimal) == 1 and tracked_metrics(minimal)["train_r2"][0] > 0.9


@pytest.mark.slow
def test_churn_runs_end_to_end_and_its_gate_takes_both_branches(tmp_path) -> None:
    """churn's `--env local` keeps `tune` with `engine: optuna`: train-search runs 4 trials of the
    real XGBoost training, train refits with the best trial's values, tuning_report (the fan-in)
    reads every trial, and the gate takes both branches."""
    churn = project_copy("churn", tmp_path)
    run_module(churn, "churn.export", "data/raw", "--days", "3")
    code, out, err = mlopsdsl_run(churn, "run", "churn.yaml", "--env", "local", "-p", "min_accuracy=0.8")
    assert code == 0, out + err
    [passed] = records(churn)
    assert (Path(passed["steps"]["train"]["outputs"]["model"]) / "model.json").stat().st_size > 10_000
    accuracy = json.loads(Path(passed["steps"]["evaluate"]["outputs"]["metrics"]).read_text())["accuracy"]
    assert accuracy >= 0.8 and "? condition-register: taken" in err
    assert passed["steps"]["register"]["status"] == "succeeded"
    assert registered_versions(churn, "churn-classifier") == [1]
    assert registry_alias(churn, "churn-classifier", "staging") == 1 and (churn / "models/v1/model.json").is_file()
    tracked = tracked_metrics(churn, "train")
    assert tracked["cv_auc"][-1] > 0.6 and len(tracked["train_logloss"]) == 5  # 4 Optuna trials, the refit

    steps = passed["steps"]
    search = steps["train-search"]
    trials = json.loads(search["outputs"]["trials"])
    assert [t["number"] for t in trials] == [0, 1, 2, 3] and {t["state"] for t in trials} == {"COMPLETE"}
    assert len({(t["params"]["learning_rate"], t["params"]["max_depth"]) for t in trials}) == 4
    best = max(trials, key=lambda t: t["value"])
    assert best["value"] == max(t["metrics"]["auc"] for t in trials) > 0.6
    assert float(search["outputs"]["best_learning_rate"]) == best["params"]["learning_rate"]
    assert int(search["outputs"]["best_max_depth"]) == best["params"]["max_depth"]
    assert float(search["outputs"]["best_auc"]) == best["value"]
    # the refit trained with the best trial's values: its tuned parameters read the search's outputs
    refit = steps["train"]
    assert refit["inputs"]["train-search__best_learning_rate"] == best["params"]["learning_rate"]
    assert refit["inputs"]["train-search__best_max_depth"] == best["params"]["max_depth"]
    assert refit["outputs"]["validation__auc"] == pytest.approx(best["value"], rel=1e-6)  # and found its AUC again

    fan_in = steps["tuning-report"]
    assert json.loads(fan_in["inputs"]["trials"]) == trials  # the fan-in step's input lists every trial
    report = Path(fan_in["outputs"]["report"]).read_text()
    assert report.count("| COMPLETE |") == 4
    first = report.splitlines()[4]  # best first, under the title, a blank line and the table head
    assert first.startswith(f"| {best['number']} | {best['params']['learning_rate']} | {best['params']['max_depth']} |")

    # the same project above the model's accuracy: the gate holds it back, the exit handler still runs
    code, out, err = mlopsdsl_run(churn, "run", "churn.yaml", "--env", "local", "-p", "min_accuracy=0.99")
    assert code == 0, out + err
    held = records(churn)[-1]
    assert held["status"] == "succeeded" and "? condition-register: skipped" in err
    assert held["steps"].get("register", {}).get("status") != "succeeded"
    assert held["steps"]["on-exit"]["status"] == "succeeded"
