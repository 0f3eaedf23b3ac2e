"""Distributed steps in the kubeflow target: the launcher task, the job it creates, its RBAC.

The job manifest is taken from where it runs (the launcher's `--manifest` argument in
pipeline.yaml), named as the API server names a `generateName` object, and judged by the
vendored CRD judges (tests/judges); the whole output also goes through the conformance kit
(the pipeline by KFP's loader, the Role and RoleBinding by kubernetes-validate).
"""

from __future__ import annotations

import json
import subprocess

import pytest
import yaml

from conftest import SHARED
from judges import judge
from mlopsdsl.backends.kubeflow import KubeflowBackend
from mlopsdsl.diagnostics import codes
from mlopsdsl.driver import build_ir
from mlopsdsl.ir import Distributed
import mlopsdsl.launch

SPEC = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: churn, version: 1.0.0, labels: {team: growth}}
params:
  lr: {type: float, default: 0.01}
tracking:
  wandb: {project: churn, api_key: "${{ secrets.wandb_api_key }}"}
pipeline:
  steps:
    prepare:
      image: ghcr.io/acme/churn:1.0.0
      run: [python, -m, churn.prepare, --out, "${{ outputs.train.path }}"]
      outputs: {train: Dataset}
    train:
      image: ghcr.io/acme/churn-train:1.0.0
      run: [python, -m, churn.train, --lr, "${{ params.lr }}", --data, "${{ inputs.train.uri }}",
            --model, "${{ outputs.model.uri }}"]
      inputs: {train: "${{ steps.prepare.outputs.train }}"}
      outputs: {model: Model}
      resources: {cpu: "8", memory: 32Gi, gpu: {count: 4, type: nvidia-l4}}
      node_selector: {pool: gpu}
      timeout: 4h
      env: {HF_TOKEN: "${{ secrets.hf_token }}", NCCL_DEBUG: INFO}
    evaluate:
      image: ghcr.io/acme/churn:1.0.0
      run: [python, -m, churn.evaluate, --model, "${{ inputs.model.path }}"]
      inputs: {model: "${{ steps.train.outputs.model }}"}
environments:
  staging: {namespace: ml-staging}
"""


def project_with(tmp_path, **distributed):
    spec = tmp_path / "churn.yaml"
    spec.write_text(SPEC, encoding="utf-8")
    result = build_ir(str(spec), env="staging")
    assert result.ir is not None, [str(d) for d in result.diagnostics]
    project = result.ir
    steps = tuple(s.model_copy(update={"distributed": Distributed(**distributed)}) if s.name == "train" else s
                  for s in project.pipeline.steps)
    return project.model_copy(update={"pipeline": project.pipeline.model_copy(update={"steps": steps})})


def compile_(project):
    backend = KubeflowBackend()
    return {a.path: a for a in backend.compile(project)}, backend.diagnostics


def launched_jobs(pipeline) -> dict[str, dict]:
    out = {}
    for label, executor in pipeline["deploymentSpec"]["executors"].items():
        command = executor["container"]["command"]
        if command[:2] == ["python3", "-c"]:
            job = json.loads(command[command.index("--manifest") + 1])
            job["metadata"]["name"] = job["metadata"].pop("generateName") + "x7k2p"  # as the API server does
            out[label] = job
    return out


@pytest.mark.parametrize("framework, kind", [("pytorch", "TrainJob"), ("deepspeed", "TrainJob"),
                                             ("mpi", "TrainJob"), ("ray", "RayJob")])
def test_each_framework_emits_a_job_its_judge_accepts(tmp_path, framework, kind):
    project = project_with(tmp_path, framework=framework, workers=3, procs_per_worker=4)
    artifacts, diagnostics = compile_(project)
    assert not [d for d in diagnostics if d.code.severity.value == "error"]
    pipeline = artifacts["kubeflow/pipeline.yaml"].documents[0]
    jobs = launched_jobs(pipeline)
    assert list(jobs) == ["exec-train"]
    job = jobs["exec-train"]
    assert job["kind"] == kind
    runtimes = list(artifacts["kubeflow/training-runtimes.yaml"].documents) if framework == "mpi" else []
    assert judge([*runtimes, job]) == []
    # the launcher is the shipped module, verbatim
    command = pipeline["deploymentSpec"]["executors"]["exec-train"]["container"]["command"]
    assert command[2] == open(mlopsdsl.launch.__file__, encoding="utf-8").read()
    # KFP placeholders travel inside the manifest and are resolved in the launcher's argv
    text = json.dumps(job)
    assert "{{$.inputs.artifacts['train'].uri}}" in text and "{{$.outputs.artifacts['model'].uri}}" in text
    assert "{{$.inputs.parameters['lr']}}" in text
    rbac = artifacts["kubeflow/launcher-rbac.yaml"].documents
    assert rbac[0]["kind"] == "Role" and rbac[0]["metadata"]["namespace"] == "ml-staging"
    assert {"create", "delete", "get"} == set(rbac[0]["rules"][0]["verbs"])


def test_pytorch_trainjob_carries_workers_resources_secrets_and_scheduling(tmp_path):
    artifacts, _ = compile_(project_with(tmp_path, framework="pytorch", workers=2))
    pipeline, platform = artifacts["kubeflow/pipeline.yaml"].documents
    job = launched_jobs(pipeline)["exec-train"]
    trainer = job["spec"]["trainer"]
    assert job["spec"]["runtimeRef"]["name"] == "torch-distributed"
    assert trainer["numNodes"] == 2 and "numProcPerNode" not in trainer
    assert trainer["resourcesPerNode"] == {"limits": {"nvidia.com/gpu": "4"}, "requests": {"cpu": "8", "memory": "32Gi"}}
    env = {e["name"]: e for e in trainer["env"]}
    assert env["HF_TOKEN"] == {"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {"name": "hf-token", "key": "hf_token"}}}
    assert env["WANDB_API_KEY"]["valueFrom"]["secretKeyRef"]["name"] == "wandb-api-key"
    assert env["NCCL_DEBUG"] == {"name": "NCCL_DEBUG", "value": "INFO"}
    assert job["spec"]["activeDeadlineSeconds"] == 4 * 3600
    patch = job["spec"]["runtimePatches"][0]["trainingRuntimeSpec"]["template"]["spec"]["replicatedJobs"][0]
    pod = patch["template"]["spec"]["template"]["spec"]
    assert pod["nodeSelector"] == {"cloud.google.com/gke-accelerator": "nvidia-l4", "pool": "gpu"}
    assert {"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"} in pod["tolerations"]
    # the launcher pod itself asks for no GPU and holds no secret
    launcher = pipeline["deploymentSpec"]["executors"]["exec-train"]["container"]
    assert "resources" not in launcher and "env" not in launcher
    assert platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-train"] == {
        "activeDeadlineSeconds": "14400"}


def test_rayjob_shuts_down_with_a_ttl_and_a_declared_submission_mode(tmp_path):
    artifacts, _ = compile_(project_with(tmp_path, framework="ray", workers=4, ttl=120, submission_mode="HTTPMode"))
    job = launched_jobs(artifacts["kubeflow/pipeline.yaml"].documents[0])["exec-train"]
    spec = job["spec"]
    assert spec["shutdownAfterJobFinishes"] is True and spec["ttlSecondsAfterFinished"] == 120
    assert spec["submissionMode"] == "HTTPMode"
    assert spec["entrypoint"].startswith('python -m churn.train --lr "{{$.inputs.parameters[\'lr\']}}" --data ')
    workers = spec["rayClusterSpec"]["workerGroupSpecs"][0]
    assert workers["replicas"] == workers["minReplicas"] == workers["maxReplicas"] == 4
    assert len(job["metadata"]["name"]) <= 47


def test_horovod_warns_that_it_is_unmaintained_and_generates_its_runtime(tmp_path):
    artifacts, diagnostics = compile_(project_with(tmp_path, framework="mpi", workers=2))
    assert [d.code for d in diagnostics] == [codes.HOROVOD_UNMAINTAINED]
    (runtime,) = artifacts["kubeflow/training-runtimes.yaml"].documents
    assert runtime["metadata"]["name"] == "churn-train-horovod"
    assert runtime["spec"]["mlPolicy"]["mpi"]["mpiImplementation"] == "OpenMPI"
    assert judge([runtime]) == []


def test_a_local_path_in_a_distributed_step_is_refused_with_the_span(tmp_path):
    project = project_with(tmp_path, framework="pytorch", workers=2)
    steps = []
    for step in project.pipeline.steps:
        if step.name == "evaluate":
            step = step.model_copy(update={"distributed": Distributed(framework="pytorch", workers=2)})
        steps.append(step)
    project = project.model_copy(update={"pipeline": project.pipeline.model_copy(update={"steps": tuple(steps)})})
    artifacts, diagnostics = compile_(project)
    (error,) = [d for d in diagnostics if d.code == codes.UNSUPPORTED]
    assert "inputs.model.path" in error.message and "uri" in (error.hint or "")
    assert error.span.line > 1


def test_the_whole_output_passes_the_conformance_kit(tmp_path):
    if SHARED is None or not (SHARED / "conformance" / "check-output").exists():
        pytest.skip("shared conformance kit is not present")
    out = tmp_path / "out"
    artifacts, _ = compile_(project_with(tmp_path, framework="pytorch", workers=2))
    from mlopsdsl.serialize import to_bytes as serialize

    for artifact in artifacts.values():
        path = out / artifact.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(serialize(artifact))
    done = subprocess.run([str(SHARED / "conformance" / "check-output"), str(out)], capture_output=True, text=True)
    if done.returncode == 2:
        pytest.skip(done.stderr.strip())
    assert done.returncode == 0, done.stdout
    assert "PASS" in done.stdout and "launcher-rbac.yaml" in done.stdout


def test_rbac_and_runtimes_documents_round_trip_as_yaml(tmp_path):
    artifacts, _ = compile_(project_with(tmp_path, framework="mpi", workers=2))
    from mlopsdsl.serialize import to_bytes as serialize

    for path in ("kubeflow/launcher-rbac.yaml", "kubeflow/training-runtimes.yaml"):
        docs = [d for d in yaml.safe_load_all(serialize(artifacts[path])) if d]
        assert docs == [json.loads(json.dumps(d)) for d in artifacts[path].documents]


@pytest.mark.parametrize("arg", ["plain", "with space", "it's", "{{$.inputs.parameters['lr']}}",
                                 "--x={{$.inputs.artifacts['d'].uri}}/a b$HOME\"`q`\\"])
def test_entrypoint_words_survive_the_shell(arg):
    from mlopsdsl.backends.kubeflow.jobs import shell_word

    done = subprocess.run(["sh", "-c", f"printf %s {shell_word(arg)}"], capture_output=True, text=True, env={})
    assert done.stdout == arg


@pytest.mark.parametrize("framework, path, value, reason", [
    ("pytorch", ("spec", "trainer", "numWorkers"), 2, "'numWorkers' was unexpected"),
    ("pytorch", ("spec", "runtimeRef", "name"), "pytorch-distributed", "unsupported runtime"),
    ("pytorch", ("metadata", "name"), "Churn_train", "RFC 1035"),
    ("ray", ("spec", "shutdownAfterJobFinishes"), False, "cannot have TTLSecondsAfterFinished"),
    ("ray", ("spec", "rayClusterSpec", "workerGroupSpecs", 0, "minReplicas"), 9, "greater than maxReplicas"),
])
def test_the_judge_fails_our_job_when_one_field_is_wrong(tmp_path, framework, path, value, reason):
    artifacts, _ = compile_(project_with(tmp_path, framework=framework, workers=3))
    job = launched_jobs(artifacts["kubeflow/pipeline.yaml"].documents[0])["exec-train"]
    node = job
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    assert any(reason in error for _, error in judge([job]))


@pytest.mark.parametrize("example, kinds", [("vision/defects.yaml", {"TrainJob"}), ("churn/churn.yaml", {"Experiment"})])
def test_the_examples_launch_jobs_their_judges_accept(example, kinds):
    from conftest import EXAMPLES

    result = build_ir(str(EXAMPLES / example), env="staging")
    assert result.ir is not None, [str(d) for d in result.diagnostics]
    backend = KubeflowBackend()
    artifacts = {a.path: a for a in backend.compile(result.ir)}
    assert not [d for d in backend.diagnostics if d.code.severity.value == "error"]
    jobs = launched_jobs(artifacts["kubeflow/pipeline.yaml"].documents[0])
    assert {job["kind"] for job in jobs.values()} == kinds
    assert judge(list(jobs.values())) == []
    assert any("launcher-rbac.yaml" in line for line in backend.next_steps(result.ir))


VOLUMES = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: vision, version: 1.0.0}
defaults:
  image: ghcr.io/acme/vision:1.0.0
pipeline:
  steps:
    train:
      run: [torchrun, train.py]
      volumes:
        /dev/shm: {empty_dir: {medium: Memory, size: 16Gi}}
        /data: {pvc: training-data}
        /etc/app: {config_map: app-config}
        /secrets/gcs: {secret: gcs_key}
    ddp:
      run: [torchrun, train.py]
      distributed: {framework: FRAMEWORK, workers: 2}
      volumes:
        /dev/shm: {empty_dir: {medium: Memory}}
        /data: {pvc: training-data}
"""


@pytest.mark.parametrize("framework", ["pytorch", "ray"])
def test_volumes_reach_the_platform_spec_and_every_worker(tmp_path, framework):
    spec = tmp_path / "vision.yaml"
    spec.write_text(VOLUMES.replace("FRAMEWORK", framework), encoding="utf-8")
    result = build_ir(str(spec))
    assert result.ir is not None, [str(d) for d in result.diagnostics]
    artifacts, diagnostics = compile_(result.ir)
    assert not diagnostics
    pipeline, platform = artifacts["kubeflow/pipeline.yaml"].documents
    # the form kfp-kubernetes 2.17 writes (empty_dir_mount, mount_pvc, use_*_as_volume)
    config = platform["platforms"]["kubernetes"]["deploymentSpec"]["executors"]["exec-train"]
    assert config["emptyDirMounts"] == [{"medium": "Memory", "mountPath": "/dev/shm", "sizeLimit": "16Gi",
                                         "volumeName": "dev-shm"}]
    assert config["pvcMount"] == [{"constant": "training-data", "mountPath": "/data",
                                   "pvcNameParameter": {"runtimeValue": {"constant": "training-data"}}}]
    assert config["secretAsVolume"][0]["secretName"] == "gcs-key"
    assert config["configMapAsVolume"][0]["configMapName"] == "app-config"
    job = launched_jobs(pipeline)["exec-ddp"]
    assert judge([job]) == []
    text = json.dumps(job)
    assert '"emptyDir": {"medium": "Memory"}' in text and '"claimName": "training-data"' in text
    assert '{"mountPath": "/dev/shm", "name": "dev-shm"}' in text
