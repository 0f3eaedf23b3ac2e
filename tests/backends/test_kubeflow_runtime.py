"""What makes a compiled pipeline behave right at run time, not only parse: caching that cannot
replay stale data or a stale exit step, data read by URI that is not copied into the pod, and
resources that keep the defaults' requests. Each of these failed on the code before issue 15."""

from __future__ import annotations

import textwrap

from mlopsdsl import driver
from mlopsdsl.backends.kubeflow import KubeflowBackend
from mlopsdsl.diagnostics import codes

from conftest import EXAMPLES

SPEC = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: p, version: 0.1.0}
data:
  lake: {uri: "s3://lake/events/", format: parquet}
  pinned: {dvc: {repo: "https://github.com/acme/d", path: d.csv, rev: v1}, format: csv}
defaults:
  image: ghcr.io/acme/p:1
  resources: {cpu: 500m, memory: 1Gi}
pipeline:
  steps:
    by_uri:
      run: [python, -m, p.scan, --src, "${{ inputs.lake.uri }}", --out, "${{ outputs.o.path }}"]
      inputs: {lake: "${{ data.lake }}"}
      outputs: {o: Dataset}
    by_text:
      run: [python, -m, p.scan, "${{ data.lake.uri }}"]
    by_path:
      run: [python, -m, p.copy, "${{ inputs.lake.path }}", "${{ inputs.ref.path }}"]
      inputs: {lake: "${{ data.lake }}", ref: "${{ data.pinned }}"}
    downstream:
      run: [python, -m, p.train, "${{ inputs.o.path }}"]
      inputs: {o: "${{ steps.by_uri.outputs.o }}"}
    pinned_only:
      run: [python, -m, p.ref, "${{ inputs.ref.path }}"]
      inputs: {ref: "${{ data.pinned }}"}
    gpu:
      run: [python, -m, p.gpu]
      resources: {gpu: 1, memory: 2Gi}
  on_exit:
    run: [python, -m, p.notify]
"""


def compile_spec(tmp_path, text: str = SPEC, env=None) -> tuple[dict, object]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(textwrap.dedent(text))
    result = driver.build_ir(str(spec), env=env)
    assert result.ir is not None, [d.message for d in result.diagnostics]
    backend = KubeflowBackend()
    [artifact] = backend.compile(result.ir)
    assert backend.diagnostics == []
    return artifact.documents[0], result.ir


def tasks(pipeline: dict) -> dict:
    found = dict(pipeline["root"]["dag"]["tasks"])
    for component in pipeline["components"].values():
        found.update(component.get("dag", {}).get("tasks", {}))
    return found


def test_the_exit_step_is_never_cached(tmp_path) -> None:
    pipeline, ir = compile_spec(tmp_path)
    assert ir.pipeline.on_exit.cache is True  # defaults say cache; the exit step still must not
    assert pipeline["root"]["dag"]["tasks"]["on-exit"]["cachingOptions"] == {}


def test_the_churn_exit_step_is_never_cached() -> None:
    result = driver.build_ir(str(EXAMPLES / "churn/churn.yaml"))
    artifact = KubeflowBackend().compile(result.ir)[0]  # (+ launcher RBAC for the tuned step)
    assert artifact.documents[0]["root"]["dag"]["tasks"]["on-exit"]["cachingOptions"] == {}


def test_data_read_only_by_uri_is_a_string_not_an_artifact(tmp_path) -> None:
    pipeline, _ = compile_spec(tmp_path)
    task = tasks(pipeline)["by-uri"]
    assert task["inputs"] == {"parameters": {"lake": {"runtimeValue": {"constant": "s3://lake/events/"}}}}
    assert "dependentTasks" not in task
    command = pipeline["deploymentSpec"]["executors"]["exec-by-uri"]["container"]["command"]
    assert "{{$.inputs.parameters['lake']}}" in command
    assert pipeline["components"]["comp-by-uri"]["inputDefinitions"] == {
        "parameters": {"lake": {"parameterType": "STRING"}}}


def test_mutable_data_is_imported_anew_and_its_readers_are_not_cached(tmp_path) -> None:
    pipeline, _ = compile_spec(tmp_path)
    everything = tasks(pipeline)
    importers = [name for name in everything if name.startswith("importer-")]
    assert importers == ["importer-lake"]  # only by_path reads the lake as an artifact
    assert everything["importer-lake"]["cachingOptions"] == {}
    assert pipeline["deploymentSpec"]["executors"]["exec-importer-lake"]["importer"]["reimport"] is True
    for reader in ("by-uri", "by-text", "by-path"):
        assert everything[reader]["cachingOptions"] == {}, reader
    # a pinned DVC revision cannot change under the cache key: its readers keep caching
    assert everything["fetch-pinned"]["cachingOptions"] == {"enableCache": True}
    assert everything["pinned-only"]["cachingOptions"] == {"enableCache": True}
    # downstream of a re-run import, the input artifact is new, so the cache key is new too
    assert everything["downstream"]["cachingOptions"] == {"enableCache": True}


def test_gpu_keeps_the_defaults_requests(tmp_path) -> None:
    pipeline, ir = compile_spec(tmp_path)
    resources = ir.pipeline.step("gpu").resources
    assert (resources.cpu, resources.memory, resources.gpu) == ("500m", "2Gi", 1)  # the step's memory wins
    container = pipeline["deploymentSpec"]["executors"]["exec-gpu"]["container"]["resources"]
    assert container["resourceCpuRequest"] == "500m" and container["resourceMemoryRequest"] == "2Gi"
    assert container["accelerator"]["resourceCount"] == "1"


UNATTENDED = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: p, version: 0.1.0}
params:
  lr: {type: float}
  depth: {type: int, default: 3}
pipeline:
  steps:
    train: {image: x, run: [python, t.py, "${{ params.lr }}", "${{ params.depth }}"]}
"""


def _codes(tmp_path, text: str) -> list[str]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    return [str(d.code) for d in driver.check_file(str(spec)).diagnostics]


def test_a_param_without_default_is_fine_when_only_people_start_runs(tmp_path) -> None:
    assert _codes(tmp_path, UNATTENDED) == []


def test_a_param_without_default_is_an_error_when_a_push_starts_the_run(tmp_path) -> None:
    ci = "ci:\n  github:\n    on: {push: {branches: [main]}}\n    train: {on_branch: main}\n"
    found = driver.check_file(str(_write(tmp_path, UNATTENDED + ci))).diagnostics
    assert [(str(d.code), d.span.line) for d in found] == [(codes.PARAM_NEEDS_DEFAULT.code, 5)]
    assert "ci.github.train" in found[0].message and found[0].hint.startswith("give it a `default:`")


def _write(tmp_path, text: str):
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    return spec


def test_an_environment_removes_a_field_with_null(tmp_path) -> None:
    # churn's own local environment now switches tune to Optuna; here it removes it, as it once did
    lines = (EXAMPLES / "churn/churn.yaml").read_text(encoding="utf-8").splitlines(keepends=True)
    tune_sets = [i for i, line in enumerate(lines) if line.startswith("      pipeline.steps.train.tune.")]
    assert tune_sets, "churn's local environment no longer sets tune"
    lines[tune_sets[0]:tune_sets[-1] + 1] = ["      pipeline.steps.train.tune: null\n"]
    # without tune there are no trials: the fan-in step that reads them goes too
    report = next(i for i, line in enumerate(lines) if line.startswith("    tuning_report:"))
    del lines[report:lines.index("    evaluate:\n")]
    spec = tmp_path / "churn.yaml"
    spec.write_text("".join(lines), encoding="utf-8")
    (tmp_path / "components").symlink_to(EXAMPLES / "churn/components")
    base = driver.build_ir(str(spec)).ir
    local = driver.build_ir(str(spec), env="local").ir
    assert base.pipeline.step("train").tune is not None
    assert local.pipeline.step("train").tune is None  # `pipeline.steps.train.tune: null`
    churn_local = driver.build_ir(str(EXAMPLES / "churn/churn.yaml"), env="local").ir
    assert churn_local.pipeline.step("train").tune.engine == "optuna"


def test_step_limits_reach_the_container_and_merge_with_the_defaults(tmp_path) -> None:
    text = SPEC.replace("resources: {gpu: 1, memory: 2Gi}",
                        "resources: {gpu: 1, memory: 2Gi, limits: {cpu: '2', memory: 3Gi}}")
    pipeline, ir = compile_spec(tmp_path, text)
    resources = ir.pipeline.step("gpu").resources
    assert (resources.cpu, resources.cpu_limit, resources.memory_limit) == ("500m", "2", "3Gi")
    container = pipeline["deploymentSpec"]["executors"]["exec-gpu"]["container"]["resources"]
    assert container["resourceCpuLimit"] == "2" and container["resourceMemoryLimit"] == "3Gi"
    assert container["resourceCpuRequest"] == "500m"


def test_a_step_limit_below_its_request_is_refused_where_it_is_written(tmp_path) -> None:
    text = SPEC.replace("resources: {gpu: 1, memory: 2Gi}", "resources: {gpu: 1, memory: 2Gi, limits: {memory: 1Gi}}")
    spec = tmp_path / "spec.yaml"
    spec.write_text(text)
    [problem] = [d for d in driver.check_file(str(spec)).diagnostics if d.code == codes.BAD_QUANTITY]
    assert "limit 1Gi is below the request 2Gi" in problem.message
    assert problem.span.line == text.splitlines().index(
        "      resources: {gpu: 1, memory: 2Gi, limits: {memory: 1Gi}}") + 1
