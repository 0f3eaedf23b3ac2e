"""Kubeflow Trainer v2.3.0 admission rules a CRD schema cannot say, ported from its Go sources.

- `pkg/webhooks/trainjob_webhook.go`: the runtime a TrainJob names must exist (`unsupported
  runtime`); then the runtime's ML-policy plugin validates the job:
  `pkg/runtime/framework/plugins/torch/torch.go` (torchrun's reserved `PET_*` env names) and
  `.../mpi/mpi.go` (OpenMPI's reserved `OMPI_MCA_*` names; `numNodes >= 2` with
  `runLauncherAsNode` needs both a `launcher` and a `node` replicated job).
- `pkg/webhooks/trainingruntime_webhook.go` `validateReplicatedJobs` (also used for
  ClusterTrainingRuntime): a replicated job labelled as a TrainJob ancestor has `replicas: 1` and
  the container that ancestor expects (`node` for the trainer).
Names and constants are from `pkg/constants/constants.go` at the same tag.
"""

from __future__ import annotations

from typing import Any

ANCESTOR_LABEL = "trainer.kubeflow.org/trainjob-ancestor-step"
ANCESTOR_CONTAINERS = {"trainer": "node", "dataset-initializer": "dataset-initializer",
                       "model-initializer": "model-initializer"}
TORCH_RESERVED_ENV = {"PET_NNODES", "PET_NPROC_PER_NODE", "PET_NODE_RANK", "PET_MASTER_ADDR", "PET_MASTER_PORT"}
MPI_RESERVED_ENV = {"OMPI_MCA_orte_default_hostfile", "OMPI_MCA_plm_rsh_args",
                    "OMPI_MCA_orte_keep_fqdn_hostnames", "OMPI_MCA_orte_set_default_slots"}

# The ClusterTrainingRuntimes manifests/base/runtimes installs at v2.3.0: name -> (policy, replicated jobs).
BUILTIN_RUNTIMES: dict[str, dict[str, Any]] = {
    "torch-distributed": {"mlPolicy": {"torch": {}}, "jobs": ["node"]},
    "torch-distributed-with-cache": {"mlPolicy": {"torch": {}}, "jobs": ["dataset-initializer", "node"]},
    "deepspeed-distributed": {"mlPolicy": {"mpi": {"runLauncherAsNode": True}}, "jobs": ["node", "launcher"]},
    "mlx-distributed": {"mlPolicy": {"mpi": {"runLauncherAsNode": True}}, "jobs": ["node", "launcher"]},
    "jax-distributed": {"mlPolicy": {"jax": {}}, "jobs": ["node"]},
    "xgboost-distributed": {"mlPolicy": {"xgboost": {}}, "jobs": ["node"]},
    "torchtune-llama3.2-1b": {"mlPolicy": {"torch": {}}, "jobs": ["dataset-initializer", "model-initializer", "node"]},
    "torchtune-llama3.2-3b": {"mlPolicy": {"torch": {}}, "jobs": ["dataset-initializer", "model-initializer", "node"]},
    "torchtune-qwen2.5-1.5b": {"mlPolicy": {"torch": {}}, "jobs": ["dataset-initializer", "model-initializer", "node"]},
}


def runtime_entry(runtime: dict[str, Any]) -> dict[str, Any]:
    """A ClusterTrainingRuntime document as the TrainJob rules need it."""
    return {"mlPolicy": runtime["spec"].get("mlPolicy", {}),
            "jobs": [job["name"] for job in runtime["spec"]["template"]["spec"]["replicatedJobs"]]}


def replicated_jobs(runtime: dict[str, Any]) -> list[str]:
    errors = []
    for index, job in enumerate(runtime["spec"]["template"]["spec"].get("replicatedJobs", [])):
        ancestor = job["template"].get("metadata", {}).get("labels", {}).get(ANCESTOR_LABEL)
        if ancestor not in ANCESTOR_CONTAINERS:
            continue
        where = f".spec.template.spec.replicatedJobs[{index}]"
        if job.get("replicas", 1) != 1:
            errors.append(f"{where}.replicas: must be 1 for a replicated job labelled {ancestor}")
        containers = job["template"]["spec"]["template"]["spec"].get("containers", [])
        if not any(c.get("name") == ANCESTOR_CONTAINERS[ancestor] for c in containers):
            errors.append(f"{where}: must have a container named {ANCESTOR_CONTAINERS[ancestor]}")
    return errors


def trainjob(job: dict[str, Any], runtimes: dict[str, dict[str, Any]]) -> list[str]:
    ref = job["spec"]["runtimeRef"]
    if ref.get("kind", "ClusterTrainingRuntime") != "ClusterTrainingRuntime" or ref["name"] not in runtimes:
        return [f".spec.runtimeRef: unsupported runtime: {ref.get('kind', 'ClusterTrainingRuntime')} {ref['name']!r}"]
    policy = runtimes[ref["name"]]["mlPolicy"]
    trainer = job["spec"].get("trainer") or {}
    env_names = {env["name"] for env in trainer.get("env", [])}
    errors = []
    for name, reserved in (("torch", TORCH_RESERVED_ENV), ("mpi", MPI_RESERVED_ENV)):
        if name in policy and env_names & reserved:
            errors.append(f".spec.trainer.env: must not have reserved envs, invalid envs configured: "
                          f"{sorted(env_names & reserved)}")
    mpi = policy.get("mpi")
    if mpi is not None and trainer.get("numNodes", 1) >= 2 and mpi.get("runLauncherAsNode"):
        if not {"launcher", "node"} <= set(runtimes[ref["name"]]["jobs"]):
            errors.append(".spec.trainer.numNodes: must have 1 when MPI trainingRuntime with enabled "
                          "runLauncherAsNode does not have either launcher and node")
    return errors
