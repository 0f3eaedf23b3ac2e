"""Kubeflow backend: judged by KFP itself (shared/conformance/check-output), deterministic,
refusing what KFP refuses, and never importing kfp."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlopsdsl import driver
from mlopsdsl.backends.kubeflow import KubeflowBackend
from mlopsdsl.backends.kubeflow.conditions import ConditionError, to_cel
from mlopsdsl.backends.kubeflow.components import _gigabytes
from mlopsdsl.ir import Resources
from mlopsdsl.ir.expr import Compare, ItemRef, Lit, Logic, Not, ParamRef, StepOutputRef, Template
from mlopsdsl.ir.models import EnvVar, ForEach, Input, Output, Param, Pipeline
from mlopsdsl.serialize import to_bytes

from .kfp_dsl.projects import PROJECTS, churn, minimal, step

REPO = Path(__file__).resolve().parents[2]
SHARED = next((p for p in (REPO / ".." / "shared", Path("/work/shared")) if (p / "conformance").is_dir()), None)
GOLDEN = REPO / "tests" / "golden" / "kubeflow"
EXAMPLES = sorted((REPO / "examples").glob("*/*.yaml"))


def compile_project(project):
    backend = KubeflowBackend()
    artifacts = backend.compile(project)
    return backend, artifacts


def write(artifacts, out: Path) -> Path:
    for artifact in artifacts:
        target = out / artifact.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(to_bytes(artifact))
    return out


def judge(out: Path) -> str:
    if SHARED is None:
        pytest.skip("shared/conformance is not beside the checkout")
    result = subprocess.run([str(SHARED / "conformance" / "check-output"), str(out)],
                            capture_output=True, text=True, timeout=300)
    if result.returncode == 2:
        pytest.skip(result.stderr.strip())
    assert result.returncode == 0, result.stdout
    return result.stdout


@pytest.mark.parametrize("name", sorted(PROJECTS))
def test_kfp_judges_the_hand_built_projects(name: str, tmp_path: Path) -> None:
    backend, artifacts = compile_project(PROJECTS[name]())
    assert backend.diagnostics == []
    # one pipeline file (and the SETUP note when its steps read Secrets)
    assert [a.path for a in artifacts if a.path != "kubeflow/SETUP.md"] == ["kubeflow/pipeline.yaml"]
    assert "PASS" in judge(write(artifacts, tmp_path))


@pytest.mark.parametrize("spec", EXAMPLES, ids=lambda p: p.parent.name)
def test_kfp_judges_the_examples(spec: Path, tmp_path: Path) -> None:
    result = driver.build_ir(str(spec))
    assert result.ir is not None, [d.message for d in result.diagnostics][:3]
    backend, artifacts = compile_project(result.ir)
    errors = [d for d in backend.diagnostics if d.code.severity.value == "error"]
    assert errors == []
    judge(write(artifacts, tmp_path))
    # The judge does not read placeholders: a node's repr in a container's command is a lowering bug
    # (an expression written with str() instead of a placeholder) that only this catches.
    leaked = [arg for document in artifacts[0].documents
              for executor in document.get("deploymentSpec", {}).get("executors", {}).values()
              for arg in executor.get("container", {}).get("command", []) + executor.get("container", {}).get("args", [])
              if "kind='" in arg or "Expr(" in arg]
    assert leaked == []


def test_output_is_deterministic_and_matches_golden() -> None:
    first = to_bytes(compile_project(churn())[1][0])
    assert first == to_bytes(compile_project(churn())[1][0])
    golden = GOLDEN / "churn" / "pipeline.yaml"
    if os.environ.get("MLOPSDSL_REGEN_GOLDEN") and not os.environ.get("CI"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(first)
    assert golden.read_bytes() == first, "regenerate with MLOPSDSL_REGEN_GOLDEN=1 after checking the diff"


def test_kfp_is_never_imported() -> None:
    code = ("import sys; sys.path.insert(0, 'tests')\n"
            "import mlopsdsl.backends.kubeflow as k\n"
            "from backends.kfp_dsl.projects import churn\n"
            "from mlopsdsl.serialize import to_bytes\n"
            "to_bytes(k.KubeflowBackend().compile(churn())[0])\n"
            "assert not [m for m in sys.modules if m == 'kfp' or m.startswith('kfp.')], 'kfp imported'\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    # and no module imports it at module level (a script kfp runs, inside a string, is fine)
    for path in (REPO / "src" / "mlopsdsl").rglob("*.py"):
        for node in ast.parse(path.read_text()).body:
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            assert not [n for n in names if n.split(".")[0] == "kfp"], f"{path}:{node.lineno}"


def _spec(project) -> dict:
    return compile_project(project)[1][0].documents[0]


def test_minimal_wiring() -> None:
    spec = _spec(minimal())
    tasks = spec["root"]["dag"]["tasks"]
    assert tasks["train"]["dependentTasks"] == ["ingest", "validate"]
    assert tasks["train"]["inputs"]["parameters"] == {
        "learning_rate": {"componentInputParameter": "learning_rate"},
        "max_depth": {"componentInputParameter": "max_depth"}}
    command = spec["deploymentSpec"]["executors"]["exec-train"]["container"]["command"]
    assert "--depth={{$.inputs.parameters['max_depth']}}" in command
    assert spec["root"]["inputDefinitions"]["parameters"]["max_depth"] == {
        "defaultValue": 6, "isOptional": True, "parameterType": "NUMBER_INTEGER"}
    assert spec["schemaVersion"] == "2.1.0" and spec["sdkVersion"].startswith("mlopsdsl-")


def test_secrets_are_names_never_values() -> None:
    platform = compile_project(churn())[1][0].documents[1]
    config = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-train"]
    assert config["secretAsEnv"][0]["secretName"] == "wandb-api-key"
    assert config["activeDeadlineSeconds"] == "7200"
    container = _spec(churn())["deploymentSpec"]["executors"]["exec-train"]["container"]
    assert "WANDB_API_KEY" not in {e["name"] for e in container["env"]}


def _pipeline_with(*steps, params=()) -> object:
    from mlopsdsl.ir import Project
    return Project(name="p", version="0.1.0", spec_path="p.yaml", params=params,
                   pipeline=Pipeline(name="p", steps=steps))


ACC = StepOutputRef(type="float", step="gate", output="m", field="acc")
GATE = step("gate", 3, outputs=(Output(name="m", type="Metrics", fields={"acc": "float"}),
                                 Output(name="model", type="Model")))


def _codes(project) -> list[tuple[str, int]]:
    backend, _ = compile_project(project)
    return [(d.code.code, d.span.line) for d in backend.diagnostics]


def test_refuses_reading_a_conditional_steps_output() -> None:
    cond = step("cond", 7, outputs=(Output(name="o", type="Dataset"),), depends_on=("gate",),
                when=Compare(type="bool", op=">", left=ACC, right=Lit(type="float", value=0.5)))
    use = step("use", 11, inputs=(Input(name="d", type="Dataset",
                                        source=StepOutputRef(type="Dataset", step="cond", output="o")),),
               depends_on=("cond",))
    after = step("later", 15, after=("cond",), depends_on=("cond",))
    assert _codes(_pipeline_with(GATE, cond, use, after)) == [("MLD707", 11), ("MLD707", 15)]


def test_refuses_fan_in_from_a_loop() -> None:
    loop = step("loop", 7, outputs=(Output(name="o", type="Dataset"),),
                for_each=ForEach(items=Lit(type="list[int]", value=[1, 2])))
    use = step("use", 11, inputs=(Input(name="d", type="Dataset",
                                        source=StepOutputRef(type="Dataset", step="loop", output="o")),),
               depends_on=("loop",))
    assert _codes(_pipeline_with(loop, use)) == [("MLD707", 11)]
    ok = step("ok", 11, after=("loop",), depends_on=("loop",))  # ordering after a loop is fine
    assert _codes(_pipeline_with(loop, ok)) == []


def test_unsupported_constructs_are_reported_at_the_step() -> None:
    env = step("env", 9, env=(EnvVar(name="X", value=Template(parts=(ParamRef(type="str", name="p"),))),))
    assert _codes(_pipeline_with(env, params=(Param(name="p", type="str", default="a"),))) == [("MLD701", 9)]


def test_size_warning_before_the_etcd_limit() -> None:
    chain = [step(f"s{i:04d}", i, depends_on=(f"s{i - 1:04d}",) if i else ()) for i in range(1500)]
    assert ("MLD702", 0) in _codes(_pipeline_with(*chain))
    assert _codes(_pipeline_with(*chain[:100])) == []


def test_loop_over_a_param_list_and_item_fields(tmp_path: Path) -> None:
    loop = step("per_item", 5, command=("run", Template(parts=(ItemRef(type="str", field="q"),))),
                for_each=ForEach(items=Lit(type="list[dict]", value=[{"q": "a"}, {"q": "b"}]), parallelism=1))
    spec = _spec(_pipeline_with(loop))
    task = spec["components"]["comp-for-loop-per-item"]["dag"]["tasks"]["per-item"]
    assert task["inputs"]["parameters"]["item__q"]["parameterExpressionSelector"] == 'parseJson(string_value)["q"]'
    judge(write(compile_project(_pipeline_with(loop))[1], tmp_path))


def _cel(expr) -> str:
    types = {"i": "NUMBER_INTEGER", "d": "NUMBER_DOUBLE", "s": "STRING", "b": "BOOLEAN"}
    return to_cel(expr, lambda node: (f"pipelinechannel--{node.name}", types[node.name]))


def test_cel_follows_kfps_casts() -> None:
    i, d, s = ParamRef(type="int", name="i"), ParamRef(type="float", name="d"), ParamRef(type="str", name="s")
    assert _cel(Compare(type="bool", op=">=", left=d, right=Lit(type="int", value=3))) == \
        "inputs.parameter_values['pipelinechannel--d'] >= double(3)"
    assert _cel(Compare(type="bool", op="<", left=i, right=d)) == \
        "double(int(inputs.parameter_values['pipelinechannel--i'])) < inputs.parameter_values['pipelinechannel--d']"
    both = Logic(type="bool", op="and", operands=(
        Compare(type="bool", op="==", left=s, right=Lit(type="str", value="it's")),
        Not(type="bool", operand=ParamRef(type="bool", name="b"))))
    assert _cel(both) == ("(inputs.parameter_values['pipelinechannel--s'] == 'it\\'s') && "
                          "!(inputs.parameter_values['pipelinechannel--b'])")
    with pytest.raises(ConditionError):
        _cel(d)


def test_quantities_as_kfp_converts_them() -> None:
    # The IR parses them once (the language's parsers); kfp's deprecated numbers are cores and decimal GB.
    res = Resources(cpu="500m", cpu_limit="4", memory="1Gi", memory_limit="4G")
    assert (res.cpu_cores, res.cpu_limit_cores) == (0.5, 4.0)
    assert _gigabytes(res.memory_bytes) == 1.073741824 and _gigabytes(res.memory_limit_bytes) == 4.0
    assert _gigabytes(Resources(memory="512Mi").memory_bytes) == 0.536870912 and Resources().cpu_cores is None
