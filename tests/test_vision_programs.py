"""The vision example's step programs (examples/vision/src/defects) against the spec that runs them.

The programs train for real on CPUs in tests/execution/test_vision.py (`--env local`). What the
cluster's commands need is proven here: every file byte-compiles, and every command the compiled
pipeline runs (the TrainJob's command inside the launcher's manifest included) and CI's test
command parse with their program's own argument parser, in a process where importing torch,
torchvision, onnxruntime, Pillow or fsspec fails, so no module needs them to be imported (a CI
job or a parse costs no torch import) and a renamed flag or a value outside `choices` fails here.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import EXAMPLES, run_cli

SRC = EXAMPLES / "vision/src"
SPEC = EXAMPLES / "vision/defects.yaml"
PLACEHOLDER = re.compile(r"\{\{\$\.(inputs|outputs)\.(parameters|artifacts)\['([^']+)'\][^}]*\}\}")
HEAVY = ("torch", "torchvision", "onnxruntime", "onnx", "PIL", "fsspec")

# Parse each (module, argv) with the module's parser(), with the heavy packages unimportable.
PARSE = """\
import importlib, json, sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in HEAVY:
            raise ImportError(f"{name} is blocked: a step program imported it at module level")
sys.meta_path.insert(0, Block())
for module, argv in json.loads(sys.argv[1]):
    print(module, json.dumps(vars(importlib.import_module(module).parser().parse_args(argv)), sort_keys=True))
""".replace("HEAVY", repr(HEAVY))


def parse(commands: list[tuple[str, list[str]]]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    return subprocess.run([sys.executable, "-c", PARSE, json.dumps(commands)], capture_output=True, text=True,
                          env=env, timeout=120)


def invocation(argv: list[str]) -> tuple[str, list[str]] | None:
    """(module, its arguments) from `python -m defects.X ...` or `torchrun [opts] -m defects.X ...`."""
    for i in range(len(argv) - 1):
        if argv[i] == "-m" and argv[i + 1].startswith("defects."):
            return argv[i + 1], argv[i + 2:]
    return None


@pytest.fixture(scope="module")
def compiled(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("vision")
    code, stdout, stderr = run_cli("compile", str(SPEC), "--out", str(out), "--target", "kubeflow")
    assert code == 0, stdout + stderr
    pipeline, *_ = yaml.safe_load_all((out / "kubeflow/pipeline.yaml").read_text(encoding="utf-8"))
    return pipeline


def commands(pipeline: dict) -> dict[str, tuple[str, list[str]]]:
    """Each executor's program and argv, placeholders replaced by values of their kind: a param's
    default, a loop item, a path for an artifact or an output file."""
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    defaults = {name: p["default"] for name, p in spec["params"].items()}
    defaults |= {"item": "pcb", "num_images": 1200}

    def value(match: re.Match) -> str:
        direction, kind, name = match.groups()
        if kind == "parameters" and direction == "inputs":
            found = defaults[name]
            return str(found).lower() if isinstance(found, bool) else str(found)
        return f"/tmp/{direction}/{name}"

    found = {}
    for name, executor in pipeline["deploymentSpec"]["executors"].items():
        argv = list(executor["container"].get("command", [])) + list(executor["container"].get("args", []))
        if "--manifest" in argv:  # a launcher: the program is the job's own command
            job = json.loads(argv[argv.index("--manifest") + 1])
            argv = job["spec"]["trainer"]["command"]
        program = invocation([PLACEHOLDER.sub(value, a) for a in argv])
        if program is not None:
            found[name] = program
    return found


def test_every_program_byte_compiles() -> None:
    files = sorted(SRC.rglob("*.py"))
    assert len(files) >= 10
    for path in files:
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_every_command_of_the_pipeline_and_ci_parses_with_its_program_without_torch(compiled) -> None:
    programs = commands(compiled)
    spec = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    named = {step["run"][step["run"].index("-m") + 1] for step in [*spec["pipeline"]["steps"].values(),
                                                                     spec["pipeline"]["on_exit"]]}
    assert {module for module, _ in programs.values()} == named  # every step's program was found and parsed
    ci = [invocation(line.split()) for line in spec["ci"]["github"]["test"]]
    done = parse([*programs.values(), *(c for c in ci if c)])
    assert done.returncode == 0, done.stderr[-3000:]
    parsed = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert len(parsed) == len(named) + 1  # and CI's smoke export
    train = json.loads(parsed["defects.train"])
    assert train["backbone"] == spec["params"]["backbone"]["default"] and train["num_images"] == 1200
    assert train["checkpoint"] == "/tmp/outputs/checkpoint"


def test_the_distributed_step_starts_under_torchrun(compiled) -> None:
    """Trainer's torch-distributed runtime sets torchrun's PET_* variables; RANK and WORLD_SIZE,
    which train.py's init_process_group reads, exist only under torchrun."""
    launcher = compiled["deploymentSpec"]["executors"]["exec-train"]["container"]
    argv = [*launcher.get("command", []), *launcher.get("args", [])]
    job = json.loads(argv[argv.index("--manifest") + 1])
    assert job["kind"] == "TrainJob" and job["spec"]["runtimeRef"]["name"] == "torch-distributed"
    assert job["spec"]["trainer"]["command"][:3] == ["torchrun", "-m", "defects.train"]
    source = (SRC / "defects/train.py").read_text(encoding="utf-8")
    for needed in ("init_process_group", "DistributedSampler", "DistributedDataParallel", "set_epoch",
                   '"nccl" if cuda else "gloo"'):
        assert needed in source


@pytest.mark.parametrize("program, argv, error", [
    ("defects.train", ["--epochs", "2", "--lr", "0.1", "--train", "a", "--val", "b", "--num-images", "9",
                       "--checkpoint", "c", "--backbone", "vit_huge"], "invalid choice: 'vit_huge'"),
    ("defects.export_onnx", ["--checkpoint", "a", "--image-size", "big", "--out", "b"], "invalid int value"),
    ("defects.evaluate", ["--model", "a", "--test", "b", "--metrics", "c", "--matrix", "d"],
     "required: --confusion"),  # a renamed flag
])
def test_a_command_that_does_not_match_its_program_fails_the_parse(program, argv, error) -> None:
    done = parse([(program, argv)])
    assert done.returncode != 0 and error in done.stderr


def test_a_program_importing_torch_at_module_level_fails_the_parse(tmp_path) -> None:
    (tmp_path / "defects").mkdir()
    (tmp_path / "defects/__init__.py").write_text("")
    (tmp_path / "defects/eager.py").write_text("import torch\ndef parser(): pass\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", PARSE, json.dumps([("defects.eager", [])])], capture_output=True,
                          text=True, env=env, timeout=60)
    assert done.returncode != 0 and "torch is blocked" in done.stderr
