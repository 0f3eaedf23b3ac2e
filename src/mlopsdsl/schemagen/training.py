"""`distributed:` and `tune:` of a step (see docs/language.md, "Distributed training and search")."""

from __future__ import annotations

from mlopsdsl.schemagen.kit import Schema, enum, field, map_of, obj, ref

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


def _dimension() -> Schema:
    kinds = {
        "uniform": field(RANGE, "A float drawn evenly from `[low, high]`."),
        "loguniform": field(RANGE, "A float drawn evenly on a log scale (learning rates); `low` > 0."),
        "int": field({**RANGE, "items": {"type": "integer"}}, "A whole number in `[low, high]`."),
        "choice": field({"type": "array", "items": {"type": ["string", "number", "boolean"]}, "minItems": 1},
                        "One of these values."),
    }
    return obj({**kinds, "step": field({"type": "number", "exclusiveMinimum": 0},
                                       "Spacing of the values (grid search needs it for floats).")},
               title="Search dimension", oneOf=[{"required": [k]} for k in kinds],
               **{"x-noun": "a mapping with one of uniform, loguniform, int, choice"},
               examples=[{"loguniform": [0.0001, 0.3]}])


def defs() -> dict[str, Schema]:
    return {
        "distributed": obj({
            "framework": field(enum(FRAMEWORKS), "How the workers cooperate."),
            "workers": field(POSITIVE, "How many pods (nodes) train together."),
            "procs_per_worker": field(POSITIVE, "Processes per pod (torchrun `nproc_per_node`, MPI slots); "
                                                "default: the runtime's (one per GPU)."),
            "ray": field(obj({
                "version": field({"type": "string", "minLength": 1}, "The Ray version of the image "
                                 "(KubeRay's `rayVersion`), e.g. `\"2.52.0\"`."),
                "submission": field(enum({"K8sJobMode": "A submitter Job runs `ray job submit` (KubeRay's default).",
                                          "HTTPMode": "The operator submits over the dashboard's HTTP API.",
                                          "SidecarMode": "A sidecar in the head pod submits."}),
                                    "How KubeRay submits the entrypoint (default `K8sJobMode`)."),
                "ttl": field(ref("duration"), "How long a finished job's cluster is kept (default `10m`)."),
            }, title="Ray options"), "Options of `framework: ray`."),
        }, required=("framework", "workers"), title="Distributed training",
            examples=[{"framework": "pytorch", "workers": 4}]),
        "search_dimension": _dimension(),
        "volume": obj({
            "pvc": field(ref("dns_label"), "A PersistentVolumeClaim (by name) in the run's namespace."),
            "config_map": field(ref("dns_label"), "A ConfigMap (by name), its keys as files."),
            "secret": field(ref("secret_name"), "A Secret by spec name (`gcs_key` is Secret `gcs-key`), its keys as "
                                                "files; never its value."),
            "empty_dir": field(obj({
                "medium": field(enum({"Memory": "RAM (tmpfs): what `/dev/shm` needs for PyTorch data loaders."}),
                                "Where the directory lives (default: the node's disk)."),
                "size": field(ref("memory"), "The most it may hold, e.g. `16Gi`."),
            }, title="Scratch directory"), "A scratch directory that lives as long as the pod."),
        }, title="Volume", oneOf=[{"required": [k]} for k in ("pvc", "config_map", "secret", "empty_dir")],
            **{"x-noun": "a mapping with one of pvc, config_map, secret, empty_dir"},
            examples=[{"empty_dir": {"medium": "Memory", "size": "16Gi"}}]),
        "tune": obj({
            "params": field(map_of(ref("search_dimension"), ref("identifier"), minProperties=1),
                            "The search space: declared `params` and the values each trial may take."),
            "objective": field(obj({
                "metric": field({"type": "string", "pattern": r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$",
                                 "patternErrorMessage": "not OUTPUT.FIELD; use e.g. metrics.auc"},
                                "A numeric field of one of this step's Metrics outputs: `metrics.auc`."),
                "goal": field(enum({"maximize": "Higher is better.", "minimize": "Lower is better."}),
                              "Which way is better (default `maximize`)."),
            }, required=("metric",), title="Objective"), "What the search optimizes."),
            "algorithm": field(enum(ALGORITHMS), "The search algorithm (default `tpe`)."),
            "engine": field(enum({
                "katib": "A Katib Experiment: trials are pods of their own (the cluster runs Katib).",
                "optuna": "Optuna inside the search task: trials are subprocesses in the step's image, which "
                          "must have `optuna` (no Katib needed; what a local run uses).",
            }), "Who runs the trials (default `katib`)."),
            "trials": field(POSITIVE, "How many trials in all."),
            "parallel": field(POSITIVE, "How many trials run at once (default 1)."),
            "max_failed": field({"type": "integer", "minimum": 0}, "Stop the search after this many failed trials."),
            "early_stopping": field({"anyOf": [{"type": "boolean"}, obj({
                "min_trials": field(POSITIVE, "Completed trials before any is stopped early (default 3)."),
                "start_step": field(POSITIVE, "Reports a trial makes before the rule applies (default 4)."),
            }, title="Median stopping")]}, "Stop a trial whose objective is below the median of earlier trials "
                                           "at the same step (Katib `medianstop`)."),
        }, required=("params", "objective", "trials"), title="Hyperparameter search"),
    }


STEP_FIELDS = {
    "volumes": lambda: field(map_of(ref("volume"), {"type": "string", "pattern": "^/[^\\s]*$",
                                                    "patternErrorMessage": "not an absolute path; use e.g. /dev/shm"}),
                             "Volumes by mount path: `/dev/shm: {empty_dir: {medium: Memory}}`, `/data: {pvc: NAME}`, "
                             "`{config_map: NAME}`, `{secret: NAME}`. In a distributed step, every worker's."),
    "distributed": lambda: field(ref("distributed"), "Train on several pods: `{framework, workers}`; the "
                                 "step's `resources` are each worker's."),
    "tune": lambda: field(ref("tune"), "Search hyperparameters: run the step as trials over `params`, then once "
                          "more with the best values (a Katib Experiment on Kubeflow)."),
}
