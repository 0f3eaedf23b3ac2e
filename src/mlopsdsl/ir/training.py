"""The IR of distributed training, hyperparameter search and pod volumes on a step.

Decided values only: `workers` and counts are integers, durations are seconds,
a search space is typed. Which custom resource a framework becomes (Kubeflow
Trainer's TrainJob, KubeRay's RayJob, Katib's Experiment) is the backend's
business; the IR says what the user asked for.
"""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import BaseModel, ConfigDict

from mlopsdsl.expr.units import parse_duration
from mlopsdsl.language import default
from mlopsdsl.source import Span

Framework = Literal["pytorch", "deepspeed", "mpi", "ray"]
SubmissionMode = Literal["K8sJobMode", "HTTPMode", "SidecarMode"]


class _IR(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)


class Distributed(_IR):
    """A step that runs on several pods. The step's `resources`, `node_selector`, `tolerations`,
    `env` and `volumes` are each worker's; the pipeline task that launches the job needs none."""

    framework: Framework
    workers: int  # nodes (Trainer numNodes) or Ray worker replicas
    procs_per_worker: Optional[int] = None  # processes per node (torchrun nproc / MPI slots); None: the runtime's
    # seconds a finished RayJob's cluster is kept for inspection
    ttl: float = parse_duration(default("pipeline.steps.*.distributed.ray.ttl")).seconds
    submission_mode: SubmissionMode = default("pipeline.steps.*.distributed.ray.submission")  # how KubeRay submits
    ray_version: Optional[str] = None  # the Ray version of the image (KubeRay's rayVersion)
    span: Optional[Span] = None


class SearchParam(_IR):
    """One dimension of the search space: a pipeline parameter the trials vary."""

    name: str  # a `params:` name
    kind: Literal["uniform", "loguniform", "int", "choice"]
    low: Optional[float] = None
    high: Optional[float] = None
    step: Optional[float] = None  # for int (and grid search over floats)
    values: tuple[Union[bool, int, float, str], ...] = ()  # for choice


class EarlyStopping(_IR):
    min_trials: int = default("pipeline.steps.*.tune.early_stopping.min_trials")  # completed trials before a stop
    start_step: int = default("pipeline.steps.*.tune.early_stopping.start_step")  # reports before the rule applies


class Tune(_IR):
    params: tuple[SearchParam, ...]
    output: str  # the step's Metrics output holding the objective
    field: str  # the metrics field that is the objective
    goal: Literal["maximize", "minimize"]
    algorithm: Literal["tpe", "random", "grid", "bayesian", "cmaes", "sobol", "multivariate_tpe", "hyperband"]
    trials: int
    parallel: int = default("pipeline.steps.*.tune.parallel")
    max_failed: Optional[int] = None
    early_stopping: Optional[EarlyStopping] = None
    engine: Literal["katib", "optuna"] = default("pipeline.steps.*.tune.engine")  # Katib, or Optuna in the task
    span: Optional[Span] = None


class Volume(_IR):
    """A volume mounted into the step's pod (and every worker of a distributed step)."""

    name: str  # DNS-1123, the pod volume's name
    mount_path: str
    kind: Literal["pvc", "empty_dir", "config_map", "secret"]
    source: Optional[str] = None  # the PVC, ConfigMap or Secret name
    medium: Optional[Literal["Memory"]] = None  # empty_dir in RAM (/dev/shm)
    size: Optional[str] = None  # empty_dir sizeLimit
    span: Optional[Span] = None
