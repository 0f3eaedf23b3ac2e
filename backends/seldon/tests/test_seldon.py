"""The Seldon target judged by Seldon's own CRD schemas (tests/schemas, see SOURCES.md) and by the
rules the CRDs cannot say: DNS names, Seldon's replica rule, weights that add up to 100, and an
Experiment whose candidates are Models written beside it.

No conftest here: the core's tests/conftest.py is imported as `conftest`, and a second one
under that name would collide when both folders run in one pytest session.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import jsonschema
import pytest
import yaml

from mlopsdsl.driver import build_ir
from mlopsdsl.ir import Project, Resources, Rollout, Serving, Transformer, Variant
from mlopsdsl_seldon import SeldonBackend
from mlopsdsl_seldon.resources import REQUIREMENTS

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
SCHEMAS = HERE / "schemas"
EXAMPLES = sorted((REPO / "examples").glob("*/*.yaml"))
DNS_1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _validator(kind: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / "k8s" / f"mlops.seldon.io_v1alpha1_{kind}.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


VALIDATORS = {kind: _validator(kind) for kind in ("Model", "Experiment")}


def judge(documents: list[dict]) -> None:
    """Every document valid under its CRD schema, and the rules the schema does not carry."""
    models = {}
    for doc in documents:
        errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                  for e in VALIDATORS[doc["kind"]].iter_errors(doc)]
        assert not errors, f"{doc['kind']} {doc['metadata']['name']}: {errors}"
        meta = doc["metadata"]
        assert DNS_1123_LABEL.match(meta["name"]) and len(meta["name"]) <= 63, meta["name"]
        assert DNS_1123_LABEL.match(meta["namespace"]) and len(meta["namespace"]) <= 63, meta["namespace"]
        if doc["kind"] == "Model":
            spec = doc["spec"]
            low, high = spec.get("minReplicas", 0), spec.get("maxReplicas", 2**32 - 1)
            # Seldon's own rule (operator/internal/utils.go GetValidatedScalingSpec).
            assert low <= spec["replicas"] <= high, spec
            assert spec.get("requirements") or spec.get("server"), "the scheduler needs requirements or a server"
            models[meta["name"]] = meta["namespace"]
    for doc in documents:
        if doc["kind"] == "Experiment":
            spec = doc["spec"]
            names = [c["name"] for c in spec["candidates"]]
            assert sum(c["weight"] for c in spec["candidates"]) == 100
            assert all(c["weight"] > 0 for c in spec["candidates"])
            assert spec["default"] in names and len(set(names)) == len(names)
            assert all(models.get(n) == doc["metadata"]["namespace"] for n in names), (names, models)


def compile_ir(project: Project) -> tuple[list[dict], list]:
    backend = SeldonBackend()
    artifacts = backend.compile(project)
    # the resources as YAML, and the SETUP note (what the cluster must hold) as text
    assert all(a.path.startswith("seldon/") and a.format == ("text" if a.path == "seldon/SETUP.md" else "yaml")
               for a in artifacts)
    assert [a.path for a in artifacts] == sorted({a.path for a in artifacts})
    return [d for a in artifacts for d in a.documents], backend.diagnostics


def codes_of(diagnostics) -> list[str]:
    return sorted(str(d.code) for d in diagnostics)


def environments(spec: Path) -> list[str | None]:
    result = build_ir(str(spec))
    assert result.ir is not None, result.diagnostics
    return [None] + [e.name for e in result.ir.environments]


CASES = [(spec, env) for spec in EXAMPLES for env in environments(spec)]


@pytest.mark.parametrize("spec,env", CASES, ids=[f"{s.parent.name}-{e or 'none'}" for s, e in CASES])
def test_every_example_compiles_to_valid_seldon(spec, env):
    project = build_ir(str(spec), env=env).ir
    documents, diagnostics = compile_ir(project)
    assert not [d for d in diagnostics if d.is_error]
    if project.serving.transformer is not None:  # not deployed, and said so
        assert any(str(d.code) == "MLD708" and "transformer" in d.message for d in diagnostics)
    judge(documents)
    serving = project.serving
    assert {d["metadata"]["namespace"] for d in documents} == {serving.namespace}
    assert len(documents) == 1 + len(serving.variants) + (1 if serving.variants else 0)


def test_churn_maps_field_by_field():
    project = build_ir(str(REPO / "examples/churn/churn.yaml"), env="production").ir
    project = project.model_copy(update={"serving": project.serving.model_copy(update={"transformer": None})})
    docs = {d["metadata"]["name"]: d for d in compile_ir(project)[0]}
    primary, challenger = docs["churn-api"]["spec"], docs["churn-api-challenger"]["spec"]
    assert primary == {"storageUri": "s3://acme-ml/models/churn/1.4.0/", "requirements": ["xgboost"],
                       "secretName": "s3-model-reader", "replicas": 4, "minReplicas": 4, "maxReplicas": 20,
                       "memory": "2Gi"}
    assert challenger["requirements"] == ["lightgbm"]
    assert challenger["storageUri"] == "s3://acme-ml/models/churn-lgbm/1.0.0/"
    assert docs["churn-api-experiment"]["spec"] == {
        "default": "churn-api", "candidates": [{"name": "churn-api", "weight": 80},
                                               {"name": "churn-api-challenger", "weight": 20}]}
    notes = docs["churn-api"]["metadata"]["annotations"]
    assert notes["mlopsdsl.io/rollout-steps"] == "10,50,100" and notes["mlopsdsl.io/rollout-strategy"] == "canary"


def test_cli_writes_the_minimal_example_and_it_is_valid(tmp_path):
    exe = shutil.which("mlopsdsl") or sys.executable
    args = [exe] if exe.endswith("mlopsdsl") else [exe, "-m", "mlopsdsl"]
    run = subprocess.run([*args, "compile", str(REPO / "examples/minimal/minimal.yaml"), "--target", "seldon",
                          "--out", str(tmp_path / "out"), "--format", "concise"],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert "MLD708" in run.stdout + run.stderr  # protocol v1 and the unset storage URI are said, not hidden
    files = sorted((tmp_path / "out" / "seldon").glob("*.yaml"))
    assert [f.name for f in files] == ["house-prices-api.yaml"]
    judge([d for f in files for d in yaml.safe_load_all(f.read_text())])


# --- hand-built IR: the refusals and approximations one by one -------------------------------------

def project(**serving) -> Project:
    fields = {"name": "api", "namespace": "ml", "storage_uri": "s3://b/m/", "framework": "sklearn",
              "protocol": "v2", **serving}
    return Project(name="p", version="1.0.0", spec_path="spec.yaml", serving=Serving(**fields))


@pytest.mark.parametrize("framework", sorted(REQUIREMENTS))
def test_every_framework_has_requirements(framework):
    documents, diagnostics = compile_ir(project(framework=framework))
    assert documents[0]["spec"]["requirements"] == list(REQUIREMENTS[framework])
    assert diagnostics == []
    judge(documents)


def test_custom_framework_names_its_server_or_is_refused():
    documents, diagnostics = compile_ir(project(framework="custom", runtime="my-server"))
    assert documents[0]["spec"]["server"] == "my-server" and diagnostics == []
    assert codes_of(compile_ir(project(framework="custom"))[1]) == ["MLD701"]


def test_clean_serving_has_no_diagnostics_and_no_rollout_annotations():
    documents, diagnostics = compile_ir(project())
    assert diagnostics == [] and "annotations" not in documents[0]["metadata"]
    assert documents[0]["spec"] == {"storageUri": "s3://b/m/", "requirements": ["sklearn"], "replicas": 1}


@pytest.mark.parametrize("serving,fragment", [
    ({"protocol": "v1"}, "Open Inference Protocol"),
    ({"autoscale_metric": "rps", "autoscale_target": 5.0, "max_replicas": 3}, "autoscaling on rps"),
    ({"resources": Resources(cpu="1", gpu=1, gpu_type="nvidia-tesla-t4")}, "nvidia-tesla-t4"),
    ({"runtime": "kserve-sklearnserver"}, "ServingRuntime"),
    ({"rollout": Rollout(strategy="canary", steps=(10.0, 100.0), interval=60.0)}, "canary"),
    ({"rollout": Rollout(strategy="blue_green")}, "blue/green"),
    ({"storage_uri": ""}, "no storage URI"),
    ({"transformer": Transformer(image="t:1")}, "transformer container (t:1) is not deployed"),
])
def test_approximations_are_warnings_and_the_output_stays_valid(serving, fragment):
    documents, diagnostics = compile_ir(project(**serving))
    assert codes_of(diagnostics) == ["MLD708"] and fragment in diagnostics[0].message
    assert not diagnostics[0].is_error
    judge(documents)


@pytest.mark.parametrize("serving,fragment", [
    ({"variants": (Variant(name="b", storage_uri="s3://b/b/", weight=12.5, framework="sklearn"),)}, "weight"),
    ({"variants": (Variant(name="experiment", storage_uri="s3://b/e/", weight=10, framework="sklearn"),)},
     "experiment"),
])
def test_what_seldon_cannot_say_is_refused(serving, fragment):
    diagnostics = compile_ir(project(**serving))[1]
    assert codes_of(diagnostics) == ["MLD701"] and fragment in diagnostics[0].message


def test_variant_resources_fall_back_to_the_served_model():
    variants = (Variant(name="b", storage_uri="s3://b/b/", weight=30, framework="onnx"),
                Variant(name="c", storage_uri="s3://b/c/", weight=10, framework="sklearn",
                        resources=Resources(memory="1Gi")))
    documents, _ = compile_ir(project(variants=variants, resources=Resources(memory="3Gi")))
    judge(documents)
    memory = {d["metadata"]["name"]: d["spec"].get("memory") for d in documents if d["kind"] == "Model"}
    assert memory == {"api": "3Gi", "api-b": "3Gi", "api-c": "1Gi"}


def test_output_is_deterministic():
    spec = REPO / "examples/churn/churn.yaml"
    first, second = (compile_ir(build_ir(str(spec), env="staging").ir)[0] for _ in range(2))
    assert yaml.safe_dump_all(first) == yaml.safe_dump_all(second)


def test_registered_through_the_entry_point_with_the_distribution_version():
    (point,) = [ep for ep in metadata.entry_points(group="mlopsdsl.backends") if ep.name == "seldon"]
    assert point.value == "mlopsdsl_seldon:SeldonBackend" and point.load() is SeldonBackend
    assert point.dist.name == "mlopsdsl-seldon" and point.dist.version == metadata.version("mlopsdsl-seldon")


@pytest.mark.skipif(not Path("/work/shared/conformance/schemas/build.py").is_file()
                    and not (REPO.parent / "shared/conformance/schemas/build.py").is_file(),
                    reason="the shared conformance kit (build.py) is not beside this checkout")
def test_schemas_are_what_build_py_makes_of_the_recorded_crds(tmp_path):
    build = next(p for p in (REPO.parent / "shared/conformance/schemas/build.py",
                             Path("/work/shared/conformance/schemas/build.py")) if p.is_file())
    crds = sorted(str(p) for p in (SCHEMAS / "crds").glob("*.yaml"))
    subprocess.run([sys.executable, str(build), "-o", str(tmp_path), *crds], check=True, capture_output=True)
    for built in sorted((tmp_path / "k8s").glob("*.json")):
        assert built.read_text() == (SCHEMAS / "k8s" / built.name).read_text(), built.name
