"""The examples run: each compiles for `--env local` and runs end to end under KFP's own local
orchestrator with its real step programs (examples/<name>/src/), training a real model on a
small data set, recording it in MLflow, and taking the gates on the metrics it computed."""

from __future__ import annotations

import json
import re

import pytest

from conftest import EXAMPLES
from .kit import (compile_pipeline, kfp_local_run, project_copy, registered_versions, registry_alias, run_module,
                  tracked_metrics, tracked_runs)

pytestmark = pytest.mark.slow


def test_minimal_trains_a_model_and_reuses_the_cache_on_a_second_run(tmp_path) -> None:
    project = project_copy("minimal", tmp_path)
    pipeline = compile_pipeline(EXAMPLES / "minimal/minimal.yaml", tmp_path / "out")
    first = kfp_local_run(pipeline, project, cache=True)
    assert first.returncode == 0, first.output[-3000:]
    [model] = first.outputs("train", "model")
    assert (model / "model.joblib").stat().st_size > 10_000
    [metrics] = first.outputs("evaluate", "metrics")
    assert json.loads(metrics.read_text())["r2"] > 0.9
    assert registered_versions(project, "house-prices") == [1]
    assert tracked_runs(project) == 1 and tracked_metrics(project)["train_r2"][0] > 0.9  # train's MLflow run

    second = kfp_local_run(pipeline, project, cache=True)
    assert second.returncode == 0, second.output[-3000:]
    # docs/targets/kubeflow.md: a cached step with the same command and inputs is not run again
    assert [second.executed(task) for task in ("prepare", "train", "evaluate")] == [0, 0, 0], second.output
    assert registered_versions(project, "house-prices") == [1]


@pytest.fixture(scope="module")
def churn(tmp_path_factory):
    """The churn project with three days of CRM export, compiled for `--env local`."""
    tmp = tmp_path_factory.mktemp("churn")
    project = project_copy("churn", tmp)
    run_module(project, "churn.export", "data/raw", "--days", "3")
    return project, compile_pipeline(EXAMPLES / "churn/churn.yaml", tmp / "out")


def test_churn_registers_a_model_that_passes_the_gate(churn) -> None:
    project, pipeline = churn
    run = kfp_local_run(pipeline, project, "min_accuracy=0.8", cache=True, root=project / "runs")
    assert run.returncode == 0, run.output[-4000:]
    [metrics] = run.outputs("evaluate", "metrics")
    accuracy = json.loads(metrics.read_text())["accuracy"]
    assert accuracy >= 0.8 and run.decisions == {"condition-register": True}
    [model] = run.outputs("train", "model")
    assert (model / "model.json").stat().st_size > 10_000
    assert run.executed("backtest") == 4 and len(run.outputs("backtest", "report")) == 4
    versions = registered_versions(project, "churn-classifier")
    assert versions, run.output[-3000:]
    assert registry_alias(project, "churn-classifier", "staging") == versions[-1]  # `stage: Staging`
    tracked = tracked_metrics(project, "train")
    assert tracked["cv_auc"][-1] > 0.6 and tracked["train_logloss"][-1] < 0.7  # train's MLflow run, real numbers
    # the registered version's files are published under their own immutable prefix
    assert (project / f"models/v{versions[-1]}/model.json").is_file()
    assert run.executed("on-exit") == 1 and "notify: pipeline churn finished" in run.output


def test_churn_gate_holds_back_a_model_below_the_bar(churn) -> None:
    project, pipeline = churn
    before = registered_versions(project, "churn-classifier")
    # the same cache as the passing run: ingest reads a `uri:` source, so it and everything
    # downstream run again (docs/targets/kubeflow.md "What caching reuses"), and so does on_exit
    run = kfp_local_run(pipeline, project, "min_accuracy=0.99", cache=True, root=project / "runs")
    assert run.returncode == 0, run.output[-4000:]
    assert run.decisions == {"condition-register": False}
    assert [run.executed(t) for t in ("ingest", "validate", "features", "train", "evaluate")] == [1] * 5
    assert run.executed("on-exit") == 1 and "notify: pipeline churn finished" in run.output
    assert run.executed("register") == 0 and registered_versions(project, "churn-classifier") == before
    assert tracked_runs(project) >= 1  # train still logged its run


def test_churn_bad_data_fails_after_retries_and_the_exit_handler_still_runs(churn, tmp_path) -> None:
    project, pipeline = churn
    bad = tmp_path / "bad"
    bad.mkdir()
    good = (project / "data/raw/day-2024-06-01.csv").read_text().splitlines()
    good[1] = good[1].replace(good[1].split(",")[1], "-40", 1)  # a negative tenure
    (bad / "day-2024-06-01.csv").write_text("\n".join(good) + "\n")
    failing = compile_pipeline_with_raw(pipeline, bad)
    run = kfp_local_run(failing, project, root=project / "run-fail")
    assert run.returncode == 1 and "RESULT failed" in run.output
    assert run.executed("validate") == 3, run.output  # the first attempt and `retries: 2`
    assert run.executed("train") == 0
    assert run.executed("on-exit") == 1 and "notify: pipeline churn finished" in run.output


def compile_pipeline_with_raw(pipeline, raw_dir):
    """The same compiled pipeline reading another export directory (the URI is a constant in it)."""
    text = pipeline.read_text()
    assert "- data/raw/\n" in text
    failing = pipeline.with_name("pipeline-bad-data.yaml")
    failing.write_text(text.replace("- data/raw/\n", f"- {raw_dir}/\n"))
    return failing


def test_churn_validate_reports_drift_of_a_shifted_export(tmp_path) -> None:
    project = project_copy("churn", tmp_path)
    run_module(project, "churn.export", "data/raw", "--days", "2")
    run_module(project, "churn.export", "data/shifted", "--days", "1", "--shift", "1", "--seed", "40")
    (project / "data/shifted/day-2024-06-01.csv").rename(project / "data/raw/day-2024-06-09.csv")
    run_module(project, "churn.ingest", "--src", "data/raw", "--out", "raw.csv")
    report = run_module(project, "churn.validate", "--data", "raw.csv", "--report", "report.md")
    psi = {line.split("|")[1].strip(): float(line.split("|")[2]) for line in report.splitlines()
           if line.startswith("| ") and line.split("|")[2].strip()[:1].isdigit()}
    assert set(psi) == {"tenure", "monthly_charges", "contract"}
    assert psi["monthly_charges"] > 0.2 and psi["tenure"] > 0.1  # the shifted day drifted


def test_churn_validate_sees_no_drift_between_days_of_one_distribution(tmp_path) -> None:
    project = project_copy("churn", tmp_path)
    run_module(project, "churn.export", "data/raw", "--days", "3")
    run_module(project, "churn.ingest", "--src", "data/raw", "--out", "raw.csv")
    report = run_module(project, "churn.validate", "--data", "raw.csv", "--report", "report.md")
    psi = [float(line.split("|")[2]) for line in report.splitlines()
           if line.startswith("| ") and line.split("|")[2].strip()[:1].isdigit()]
    assert len(psi) == 3 and max(psi) < 0.1


def test_churn_tunes_with_optuna_and_refits_on_the_best_values(churn) -> None:
    """`--env local` keeps churn's `tune` with `engine: optuna` (no Katib): 4 trials of the real
    XGBoost training, 5-fold CV AUC as the objective, then train refits with the best values."""
    project, pipeline = churn
    run = kfp_local_run(pipeline, project, "min_accuracy=0.8", root=project / "run-tune")
    assert run.returncode == 0, run.output[-4000:]
    trials = re.findall(r"mlopsdsl\.search: trial (\d+) \{'learning_rate': ([0-9.e-]+), 'max_depth': (\d+)\}: ok",
                        run.output)
    assert sorted(int(n) for n, _, _ in trials) == [0, 1, 2, 3]
    [best] = re.findall(r"best trial \d+: \{'learning_rate': ([0-9.e-]+), 'max_depth': (\d+)\} auc=([0-9.]+)",
                        run.output)
    assert float(best[2]) > 0.6
    [search_out] = run.outputs("train-search", "best_learning_rate")
    assert float(search_out.read_text()) == float(best[0])
    assert run.executed("train") == 1 and run.executed("train-search") == 1


def test_churn_retraining_publishes_a_new_version_and_never_touches_the_served_one(churn) -> None:
    """What serving loads (a published `models/v<N>/`) stays byte-identical when the pipeline
    retrains and registers again: the new model goes to a prefix of its own."""
    project, pipeline = churn
    first = kfp_local_run(pipeline, project, "min_accuracy=0.8", root=project / "retrain")
    assert first.returncode == 0, first.output[-4000:]
    served = registered_versions(project, "churn-classifier")[-1]
    live = {p.name: p.read_bytes() for p in (project / f"models/v{served}").iterdir()}
    second = kfp_local_run(pipeline, project, "min_accuracy=0.8", root=project / "retrain")
    assert second.returncode == 0, second.output[-4000:]
    assert second.executed("train") == 1 and second.decisions == {"condition-register": True}
    assert registered_versions(project, "churn-classifier")[-1] == served + 1
    assert {p.name: p.read_bytes() for p in (project / f"models/v{served}").iterdir()} == live
    assert (project / f"models/v{served + 1}/model.json").is_file()
    # each run's model artifact is its own: the second run wrote a new file, the first's is intact
    [model_1], [model_2] = first.outputs("train", "model"), second.outputs("train", "model")
    assert model_1 != model_2 and (model_1 / "model.json").read_bytes() == live["model.json"]
