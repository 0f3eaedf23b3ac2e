"""The vision example end to end on this machine's CPUs (`--env local`): generated camera images,
PyTorch DDP training under torchrun (two gloo ranks, as the Trainer's PET_* variables would start
them), the ONNX export, onnxruntime evaluation of what ships, one report per product line, the
recall/precision gate, publishing and MLflow records; under kfp-local-run and `mlopsdsl run`.

torch is pinned in the `examples` extra (2.13.0, a CPU wheel here); training is 8 epochs of a tiny
CNN on 480 images of 32 px, and a 1-epoch model is the one the gate holds back.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import onnxruntime
import pytest
import torch  # the examples extra (README's test command) installs it: no skip

from conftest import EXAMPLES, run_cli
from .kit import (QUIET, compile_pipeline, kfp_local_run, project_copy, python_shim, registered_versions,
                  run_module, tracked_metrics)

MODEL = "defect-detector"
EPOCHS = 8  # the local environment's params.epochs.default


def passes_gate(metrics: dict) -> bool:
    """The spec's `when` for publish, with the default min_recall."""
    return metrics["recall"] >= 0.97 and metrics["precision"] >= 0.9


def project(tmp: Path) -> Path:
    root = project_copy("vision", tmp)
    run_module(root, "defects.generate", "data", "--count", "480", "--size", "32")
    return root


def check_model(checkpoint: Path, onnx: Path, epochs: int) -> None:
    saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    assert saved["backbone"] == "tiny" and saved["epoch"] == epochs - 1
    session = onnxruntime.InferenceSession(str(onnx / "model.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["image"] and [o.name for o in session.get_outputs()] == ["logits"]


@pytest.fixture(scope="module")
def vision(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("vision")
    return project(tmp), compile_pipeline(EXAMPLES / "vision/defects.yaml", tmp / "out")


@pytest.mark.slow
def test_vision_trains_with_ddp_exports_onnx_and_publishes_a_model_that_passes_the_gate(vision) -> None:
    root, pipeline = vision
    run = kfp_local_run(pipeline, root, root=root / "runs")
    assert run.returncode == 0, run.output[-4000:]
    assert f"epoch {EPOCHS}/{EPOCHS}" in run.output and "on 2 process(es)" in run.output  # two DDP ranks
    [checkpoint], [onnx] = run.outputs("train", "checkpoint"), run.outputs("export", "onnx")
    check_model(checkpoint, onnx, EPOCHS)
    [metrics] = run.outputs("evaluate", "metrics")
    measured = json.loads(metrics.read_text())
    assert passes_gate(measured) and run.decisions == {"condition-publish": True}, measured
    assert len(run.outputs("line-report", "report")) == 4  # one per product line
    assert (root / "models/2.1.0/model.onnx").is_file()  # published under the version
    assert registered_versions(root, MODEL) == [1]
    train = tracked_metrics(root, "train")
    assert len(train["val_accuracy"]) == EPOCHS and train["val_accuracy"][-1] >= 0.9
    assert tracked_metrics(root, "evaluate")["test_recall"] == [measured["recall"]]
    assert run.executed("on-exit") == 1 and "cleanup_scratch: removed 0 file(s)" in run.output


@pytest.mark.slow
def test_vision_gate_holds_back_an_undertrained_model(vision) -> None:
    root, pipeline = vision
    before = registered_versions(root, MODEL)
    run = kfp_local_run(pipeline, root, "epochs=1", root=root / "runs-1")
    assert run.returncode == 0, run.output[-4000:]
    [metrics] = run.outputs("evaluate", "metrics")
    measured = json.loads(metrics.read_text())
    assert not passes_gate(measured) and run.decisions == {"condition-publish": False}, measured
    [checkpoint], [onnx] = run.outputs("train", "checkpoint"), run.outputs("export", "onnx")
    check_model(checkpoint, onnx, 1)
    assert run.executed("publish") == 0 and registered_versions(root, MODEL) == before
    assert run.executed("on-exit") == 1


@pytest.mark.slow
def test_vision_runs_end_to_end_under_mlopsdsl_run(tmp_path) -> None:
    root = project(tmp_path)
    env = {**QUIET, "PYTHONPATH": str(root / "src"),
           "PATH": f"{python_shim(root.parent)}{os.pathsep}{os.environ['PATH']}"}
    code, out, err = run_cli("run", "defects.yaml", "--env", "local", "--plain", cwd=root, env=env, timeout=900)
    assert code == 0, out + err
    [path] = (root / ".mlopsdsl/runs").glob("*/run.json")
    steps = json.loads(path.read_text())["steps"]
    check_model(Path(steps["train"]["outputs"]["checkpoint"]), Path(steps["export"]["outputs"]["onnx"]), EPOCHS)
    measured = json.loads(Path(steps["evaluate"]["outputs"]["metrics"]).read_text())
    assert passes_gate(measured) and "? condition-publish: taken" in err
    assert steps["publish"]["status"] == "succeeded" and registered_versions(root, MODEL) == [1]
    assert sorted(name for name in steps if name.startswith("line-report")) == [
        "line-report", "line-report-2", "line-report-3", "line-report-4"]
    assert len(tracked_metrics(root, "train")["val_accuracy"]) == EPOCHS
    assert steps["on-exit"]["status"] == "succeeded"
