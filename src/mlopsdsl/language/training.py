"""`distributed:` and `tune:` of a step (see docs/language.md, "Distributed training and search")."""

from __future__ import annotations

from mlopsdsl.language.table import SCALAR, Field, Section, any_of, enum, map_of, ref

POSITIVE = {"type": "integer", "minimum": 1}
FRAMEWORKS = {
    "pytorch": "PyTorch DDP (torchrun) on Kubeflow Trainer's built-in `torch-distributed` runtime.",
    "deepspeed": "DeepSpeed (MPI launcher) on Trainer's built-in `deepspeed-distributed` runtime.",
    "mpi": "Horovod over OpenMPI on a generated Trainer runtime (Horovod is unmaintained since 2023).",
    "ray": "A KubeRay RayJob: a Ray cluster that lives as long as the job.",
}
ALGORITHMS = {
    "tpe": "Tree-structured Parzen estimator (Katib: hyperopt).",
    "random": "Random search (Katib: hyperopt).",
    "grid": "Every combination (Katib: Optuna's grid; every float dimension needs a `step`).",
    "bayesian": "Gaussian-process Bayesian optimization (Katib: scikit-optimize `bayesianoptimization`).",
    "cmaes": "CMA evolution strategy (Katib: goptuna).",
    "sobol": "Quasi-random Sobol sequence (Katib: goptuna).",
    "multivariate_tpe": "TPE over all dimensions jointly (Katib: Optuna `multivariate-tpe`).",
    "hyperband": "Hyperband (Katib only).",
}
RANGE = {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2, "x-noun": "a list [low, high]"}

RAY = Section("Ray options", fields={
    "version": Field({"type": "string", "minLength": 1}, "The Ray version of the image (KubeRay's `rayVersion`), "
                     "e.g. `\"2.52.0\"`.", "Distributed.ray_version"),
    "submission": Field(enum({"K8sJobMode": "A submitter Job runs `ray job submit` (KubeRay's default).",
                              "HTTPMode": "The operator submits over the dashboard's HTTP API.",
                              "SidecarMode": "A sidecar in the head pod submits."}),
                        "How KubeRay submits the entrypoint.", "Distributed.submission_mode", default="K8sJobMode"),
    "ttl": Field(ref("duration"), "How long a finished job's cluster is kept.", "Distributed.ttl", default="10m"),
})
DISTRIBUTED = Section("Distributed training", name="distributed",
                      schema={"examples": [{"framework": "pytorch", "workers": 4}]}, fields={
    "framework": Field(enum(FRAMEWORKS), "How the workers cooperate: PyTorch DDP (torchrun), DeepSpeed, Horovod over "
                                         "OpenMPI (MLD740: unmaintained since 2023), or Ray.", "Distributed.framework",
                       required=True),
    "workers": Field(POSITIVE, "How many pods (nodes) train together (Trainer `numNodes`, Ray worker replicas).",
                     "Distributed.workers", required=True),
    "procs_per_worker": Field(POSITIVE, "Processes per pod (torchrun `nproc_per_node`, MPI slots); default: the "
                                        "runtime's (one per GPU); not for `ray` (MLD626).",
                              "Distributed.procs_per_worker"),
    "ray": Field(RAY, "Options of `framework: ray` (MLD626 otherwise): the image's Ray `version` (`\"2.52.0\"`), "
                      "`submission` (`K8sJobMode`, `HTTPMode` or `SidecarMode`), and `ttl`, how long the finished "
                      "cluster is kept.", "Distributed", docs_type="`{version, submission, ttl}`"),
})

_KINDS = {
    "uniform": Field(RANGE, "A float drawn evenly from `[low, high]`.", "SearchParam.low"),
    "loguniform": Field(RANGE, "A float drawn evenly on a log scale (learning rates); `low` > 0.", "SearchParam.low"),
    "int": Field({**RANGE, "items": {"type": "integer"}}, "A whole number in `[low, high]`.", "SearchParam.low"),
    "choice": Field({"type": "array", "items": SCALAR, "minItems": 1}, "One of these values.", "SearchParam.values"),
}
SEARCH_DIMENSION = Section("Search dimension", name="search_dimension", fields={
    **_KINDS,
    "step": Field({"type": "number", "exclusiveMinimum": 0}, "Spacing of the values (grid search needs it for floats).",
                  "SearchParam.step"),
}, schema={"oneOf": [{"required": [k]} for k in _KINDS],
           "x-noun": "a mapping with one of uniform, loguniform, int, choice",
           "examples": [{"loguniform": [0.0001, 0.3]}]})
EARLY_STOPPING = Section("Median stopping", fields={
    "min_trials": Field(POSITIVE, "Completed trials before any is stopped early.", "EarlyStopping.min_trials",
                        default=3),
    "start_step": Field(POSITIVE, "Reports a trial makes before the rule applies.", "EarlyStopping.start_step",
                        default=4),
})
TUNE = Section("Hyperparameter search", name="tune", fields={
    "params": Field(map_of(SEARCH_DIMENSION, ref("identifier"), minProperties=1),
                    "The search space: declared `params` (MLD620) that `run` reads (MLD625), and the values each trial "
                    "may take.", "Tune.params",
                    required=True, docs_type="map param -> `{uniform | loguniform | int | choice, step}`"),
    "objective": Field(Section("Objective", fields={
        "metric": Field({"type": "string", "pattern": r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$",
                         "patternErrorMessage": "not OUTPUT.FIELD; use e.g. metrics.auc"},
                        "A numeric field of one of this step's Metrics outputs: `metrics.auc` (MLD622).", "Tune.field",
                        required=True, docs_type="OUTPUT.FIELD"),
        "goal": Field(enum({"maximize": "Higher is better.", "minimize": "Lower is better."}),
                      "Which way is better.", "Tune.goal", default="maximize"),
    }), "What the search optimizes.", "Tune", required=True, docs_type="`{metric, goal}`"),
    "algorithm": Field(enum(ALGORITHMS), "The search algorithm.", "Tune.algorithm", default="tpe"),
    "engine": Field(enum({
        "katib": "A Katib Experiment: trials are pods of their own (the cluster runs Katib).",
        "optuna": "Optuna inside the search task: trials are subprocesses in the step's image, which must have "
                  "`optuna` (no Katib needed; what a local run uses)."}),
        "Who runs the trials (`optuna` is what a local run under kfp.local uses).", "Tune.engine",
        default="katib"),
    "trials": Field(POSITIVE, "How many trials in all; with `grid` at most the number of combinations (MLD624).",
                    "Tune.trials", required=True),
    "parallel": Field(POSITIVE, "How many trials run at once; at most `trials` (MLD623).", "Tune.parallel",
                      default=1),
    "max_failed": Field({"type": "integer", "minimum": 0},
                        "Stop the search after this many failed trials; at most `trials` (MLD623).", "Tune.max_failed"),
    "early_stopping": Field(any_of({"type": "boolean"}, EARLY_STOPPING),
                            "Stop a trial whose objective is below the median of earlier trials at the same step "
                            "(Katib `medianstop`; Katib only); `true` takes the defaults of `{min_trials, start_step}`.",
                            "Tune.early_stopping",
                            docs_type="bool, or `{min_trials, start_step}`"),
})

VOLUME = Section("Volume", name="volume", schema={
    "oneOf": [{"required": [k]} for k in ("pvc", "config_map", "secret", "empty_dir")],
    "x-noun": "a mapping with one of pvc, config_map, secret, empty_dir",
    "examples": [{"empty_dir": {"medium": "Memory", "size": "16Gi"}}]}, fields={
    "pvc": Field(ref("dns_label"), "A PersistentVolumeClaim (by name) in the run's namespace.", "Volume.source"),
    "config_map": Field(ref("dns_label"), "A ConfigMap (by name), its keys as files.", "Volume.source"),
    "secret": Field(ref("secret_name"), "A Secret by spec name (`gcs_key` is Secret `gcs-key`), its keys as files; "
                                        "never its value.", "Volume.source"),
    "empty_dir": Field(Section("Scratch directory", fields={
        "medium": Field(enum({"Memory": "RAM (tmpfs): what `/dev/shm` needs for PyTorch data loaders."}),
                        "Where the directory lives (default: the node's disk).", "Volume.medium"),
        "size": Field(ref("memory"), "The most it may hold, e.g. `16Gi`.", "Volume.size"),
    }), "A scratch directory that lives as long as the pod.", "Volume.kind", docs_type="`{medium, size}`"),
})

# Step fields; `pipeline.on_exit` takes none of them.
STEP_FIELDS = {
    "volumes": Field(map_of(VOLUME, {"type": "string", "pattern": "^/[^\\s]*$",
                                     "patternErrorMessage": "not an absolute path; use e.g. /dev/shm"}),
                     "Volumes by mount path: `/dev/shm: {empty_dir: {medium: Memory}}`, `/data: {pvc: NAME}`, "
                     "`{config_map: NAME}`, `{secret: NAME}`. In a distributed step, every worker's.", "Step.volumes",
                     on_exit=False, docs_type="map mount path -> `{pvc | config_map | secret | empty_dir}`"),
    "distributed": Field(DISTRIBUTED, "Train on several pods: `{framework, workers}`; the step's `resources` are each "
                                      "worker's.", "Step.distributed", on_exit=False,
                         docs_type="`{framework, workers, procs_per_worker, ray}`"),
    "tune": Field(TUNE, "Search hyperparameters: run the step as trials over `params`, then once more with the best "
                        "values (a Katib Experiment on Kubeflow).", "Step.tune", on_exit=False,
                  docs_type="`{params, objective, algorithm, trials, parallel, max_failed, early_stopping}`"),
}
