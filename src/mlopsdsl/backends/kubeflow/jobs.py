"""A distributed step -> the custom resource its launcher creates (TrainJob or RayJob).

Kubeflow Trainer v2.3.0 (`trainer.kubeflow.org/v1alpha1`): PyTorch DDP and DeepSpeed use the
built-in ClusterTrainingRuntimes `torch-distributed` and `deepspeed-distributed`; Horovod (MPI)
has no built-in runtime any more, so one ClusterTrainingRuntime is generated per Horovod step
(its pods run the step's image) with Trainer's MPI policy. KubeRay v1.7.0 (`ray.io/v1`): a RayJob
whose cluster lives as long as the job (`shutdownAfterJobFinishes`, then a TTL).

Every name here is checked against the vendored CRDs in tests/judges (see SOURCES.md there); the
Trainer API is alpha and renames fields between minor versions, so the pin matters.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from mlopsdsl.backends import k8s
from mlopsdsl.ir import Step


TRAINER = "trainer.kubeflow.org/v1alpha1"
RAY = "ray.io/v1"
MANAGER = "mlopsdsl"  # runtimePatches[].manager: who owns the patch (Trainer's list-map key)
# framework -> built-in runtime (manifests/base/runtimes at v2.3.0); mpi is generated
BUILTIN_RUNTIME = {"pytorch": "torch-distributed", "deepspeed": "deepspeed-distributed"}
RAY_IMAGE_DEFAULT_VERSION = "2.52.0"  # KubeRay v1.7.0's samples; a rayVersion must match the image's Ray
MPI_SSH_PATH = "/root/.ssh"  # where Trainer mounts the generated SSH keys (MPI policy sshAuthMountPath)

# Names a job derived from a step starts with: generateName adds 5 characters. RayJob names
# are at most 47 (KubeRay MaxRayJobNameLength); TrainJob names are DNS-1035 labels (<= 63).
NAME_ROOM = {"TrainJob": 63 - 5, "RayJob": 47 - 5}


def generate_name(project: str, step_id: str, kind: str) -> str:
    base = f"{project}-{step_id}"[: NAME_ROOM[kind] - 1].rstrip("-")
    return base + "-"


def runtime_name(project: str, step: Step) -> str:
    assert step.distributed is not None
    if step.distributed.framework == "mpi":
        return f"{project}-{step.id}-horovod"[:63].rstrip("-")
    return BUILTIN_RUNTIME[step.distributed.framework]


def job_labels(step: Step) -> dict[str, str]:
    """A submitted job's labels: the step's `pod_labels` (a Kueue queue admits the job by them), ours over them."""
    return dict(sorted({**step.pod_labels, **k8s.MANAGED_BY, "mlopsdsl/step": step.id}.items()))


def trainjob(project: str, step: Step, command: list[str], env: list[dict[str, Any]],
             pod: dict[str, Any], mounts: list[dict[str, Any]]) -> dict[str, Any]:
    """`pod` holds pod-level fields (nodeSelector, tolerations, volumes) for the trainer's pods."""
    dist = step.distributed
    assert dist is not None
    trainer: dict[str, Any] = {"command": command, "image": step.image, "numNodes": dist.workers}
    if dist.procs_per_worker is not None:
        trainer["numProcPerNode"] = dist.procs_per_worker
    if env:
        trainer["env"] = env
    resources = k8s.container_resources(step.resources)
    if resources:
        trainer["resourcesPerNode"] = resources
    spec: dict[str, Any] = {"runtimeRef": {"apiGroup": "trainer.kubeflow.org", "kind": "ClusterTrainingRuntime",
                                           "name": runtime_name(project, step)},
                            "trainer": trainer}
    if step.timeout:
        spec["activeDeadlineSeconds"] = int(step.timeout)
    if pod or mounts:
        # The trainer's pods are the runtime's `node` replicated job (its container is `node` too),
        # and for MPI the launcher runs the training command as well.
        jobs = ["node", "launcher"] if dist.framework in ("deepspeed", "mpi") else ["node"]
        pod_spec = dict(pod)
        if mounts:
            pod_spec["containers"] = [{"name": "node", "volumeMounts": mounts}]
        spec["runtimePatches"] = [{"manager": MANAGER, "trainingRuntimeSpec": {"template": {"spec": {
            "replicatedJobs": [{"name": job, "template": {"spec": {"template": {"spec": pod_spec}}}}
                               for job in jobs]}}}}]
    return {"apiVersion": TRAINER, "kind": "TrainJob",
            "metadata": {"generateName": generate_name(project, step.id, "TrainJob"),
                         "labels": job_labels(step)},
            "spec": spec}


def horovod_runtime(project: str, step: Step, labels: dict[str, str]) -> dict[str, Any]:
    """Trainer's MPI policy with OpenMPI: a launcher that runs the command (mpirun) and nodes that run sshd.

    The image must carry OpenMPI, Horovod and an sshd that accepts the keys Trainer mounts at
    MPI_SSH_PATH (the `horovod/horovod` images do).
    """
    dist = step.distributed
    assert dist is not None
    node = {"name": "node", "image": step.image, "command": ["/usr/sbin/sshd", "-De"]}
    launcher = {"name": "node", "image": step.image}
    return {
        "apiVersion": TRAINER, "kind": "ClusterTrainingRuntime",
        "metadata": {"name": runtime_name(project, step), "labels": {
            **labels, **k8s.MANAGED_BY, "trainer.kubeflow.org/framework": "horovod"}},
        "spec": {
            "mlPolicy": {"numNodes": 1, "mpi": {"mpiImplementation": "OpenMPI",
                                                "numProcPerNode": dist.procs_per_worker or 1,
                                                "runLauncherAsNode": False, "sshAuthMountPath": MPI_SSH_PATH}},
            "template": {"spec": {
                "network": {"publishNotReadyAddresses": True},
                "successPolicy": {"operator": "All", "targetReplicatedJobs": ["launcher"]},
                "replicatedJobs": [
                    {"name": "launcher",
                     "dependsOn": [{"name": "node", "status": "Ready"}],
                     "template": {"metadata": {"labels": {"trainer.kubeflow.org/trainjob-ancestor-step": "trainer"}},
                                  "spec": {"template": {"spec": {"containers": [launcher]}}}}},
                    {"name": "node",
                     "template": {"spec": {"template": {"spec": {"containers": [{
                         **node, "readinessProbe": {"tcpSocket": {"port": 22}, "initialDelaySeconds": 5}}]}}}}},
                ]}},
        },
    }


# sh special characters inside double quotes; `$` only where it could expand (KFP's `{{$.` cannot).
_DOUBLE_QUOTED = re.compile(r'[\\"`]|\$(?!\.)')


def shell_word(arg: str) -> str:
    """One argument of the RayJob entrypoint (a shell line). An argument holding a KFP placeholder
    is double-quoted, so the placeholder's own single quotes stay as KFP wrote them and KFP can
    still find and replace it; any other argument is quoted as shlex does."""
    if "{{$." not in arg:
        return shlex.quote(arg)
    return '"' + _DOUBLE_QUOTED.sub(lambda m: "\\" + m.group(0), arg) + '"'


def rayjob(project: str, step: Step, command: list[str], env: list[dict[str, Any]],
           pod: dict[str, Any], mounts: list[dict[str, Any]]) -> dict[str, Any]:
    dist = step.distributed
    assert dist is not None
    resources = k8s.container_resources(step.resources)

    def container(name: str) -> dict[str, Any]:
        out: dict[str, Any] = {"name": name, "image": step.image}
        if env:
            out["env"] = env
        if resources:
            out["resources"] = resources
        if mounts:
            out["volumeMounts"] = mounts
        return out

    spec: dict[str, Any] = {
        "entrypoint": " ".join(map(shell_word, command)),
        "submissionMode": dist.submission_mode,
        "shutdownAfterJobFinishes": True,
        "ttlSecondsAfterFinished": int(dist.ttl),
        "rayClusterSpec": {
            "rayVersion": dist.ray_version or RAY_IMAGE_DEFAULT_VERSION,
            "headGroupSpec": {"rayStartParams": {}, "template": {"spec": {
                **pod, "containers": [container("ray-head")]}}},
            "workerGroupSpecs": [{"groupName": "workers", "replicas": dist.workers, "minReplicas": dist.workers,
                                  "maxReplicas": dist.workers, "rayStartParams": {},
                                  "template": {"spec": {**pod, "containers": [container("ray-worker")]}}}],
        },
    }
    if step.timeout:
        spec["activeDeadlineSeconds"] = int(step.timeout)
    return {"apiVersion": RAY, "kind": "RayJob",
            "metadata": {"generateName": generate_name(project, step.id, "RayJob"),
                         "labels": job_labels(step)},
            "spec": spec}
