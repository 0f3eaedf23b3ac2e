"""The Seldon Core v2 objects, built as data: `Model` and `Experiment` (mlops.seldon.io/v1alpha1).

Field names follow the v2 CRDs (operator/config/crd/bases in SeldonIO/seldon-core, branch
v2; the copies this plugin is tested against are in tests/schemas/). Everything the serving
section says that a Model or an Experiment has no field for is decided here, once, in the
tables below and the three functions that read them: it is either written in Seldon's
nearest form with an MLD708 warning that says what differs (`approximated`), or refused
with MLD701 (`unsupported`) when no Seldon form means the same thing.

A Seldon Model carries less than a KServe predictor: cpu, GPUs and the serving image
belong to the Server a Model is scheduled on, which the platform team runs. The Model
says what it needs (`requirements`, `memory`) and the scheduler picks a Server.
"""

from __future__ import annotations

from typing import Any, Optional, Protocol

from mlopsdsl.backends import k8s
from mlopsdsl.ir import Project, Resources, Serving, Span, Variant, render

API_VERSION = "mlops.seldon.io/v1alpha1"

# model.framework -> the requirement tags a Server's capabilities must include. From Seldon's
# "Inference Artifacts" table (docs-gb/models/inference-artifacts.md) and the capabilities the
# default Servers announce (k8s/yaml/components.yaml): MLServer serves the first four, Triton
# the rest. `custom` has no tag: it names its Server through `runtime` instead.
REQUIREMENTS: dict[str, tuple[str, ...]] = {
    "sklearn": ("sklearn",),
    "xgboost": ("xgboost",),
    "lightgbm": ("lightgbm",),
    "huggingface": ("huggingface",),
    "pytorch": ("pytorch",),
    "tensorflow": ("tensorflow",),
    "onnx": ("onnx",),
    "triton": ("triton",),
}

# Where the rollout plan is recorded, under the same keys the KServe target uses, so one
# deploy workflow can read either target's manifests.
ROLLOUT_PREFIX = "mlopsdsl.io/rollout-"

class Reporter(Protocol):
    """What the builders need from the backend: the two ways to report."""

    def unsupported(self, feature: str, span: Optional[Span], hint: Optional[str] = None) -> None: ...

    def approximated(self, message: str, span: Optional[Span], hint: Optional[str] = None) -> None: ...


def experiment_name(serving: Serving) -> str:
    return f"{serving.name}-experiment"


def metadata(project: Project, serving: Serving, name: str, component: str) -> dict[str, Any]:
    return k8s.metadata(project, name, serving.namespace, component, annotations=project.annotations)


def _placement(spec: dict[str, Any], serving: Serving, framework: str, report: Reporter) -> None:
    """`requirements` (or `server` for a custom image): how Seldon's scheduler finds a Server."""
    if framework == "custom":
        if serving.runtime:
            # The user's own Server, by name: the nearest thing to KServe's own ServingRuntime.
            spec["server"] = serving.runtime
        else:
            report.unsupported("framework 'custom' without a `runtime`", serving.span,
                               "name the Seldon Server that runs your image in `serving.runtime`")
        return
    spec["requirements"] = list(REQUIREMENTS[framework])
    if serving.runtime:
        report.approximated(
            f"`runtime: {serving.runtime}` names a KServe ServingRuntime; Seldon schedules the model "
            f"on any Server whose capabilities include {', '.join(REQUIREMENTS[framework])}",
            serving.span, "to pin a Server, add `spec.server` with a `patches` entry for target seldon")


def _server_side(res: Resources, name: str, report: Reporter, span: Optional[Span]) -> None:
    """cpu, limits and GPUs are properties of the Seldon Server, not of a Model: say so, once."""
    server_side = [label for label, value in (
        ("cpu", res.cpu), ("cpu limit", res.cpu_limit), ("memory limit", res.memory_limit),
        (f"{res.gpu} GPU" + ("s" if res.gpu > 1 else ""), res.gpu),
        ("GPU type " + str(res.gpu_type), res.gpu_type)) if value]
    if server_side:
        report.approximated(
            f"Model '{name}' carries only a memory request; the Seldon Server it is scheduled on decides "
            f"the rest, so {', '.join(server_side)} from the spec are not written", span,
            "size the Server (its podSpec), or steer GPU models to a GPU Server with an "
            "`extraCapabilities` tag added to the Model's requirements through `patches`")


def model(project: Project, serving: Serving, report: Reporter, variant: Optional[Variant] = None) -> dict[str, Any]:
    """The served model's Model, or with `variant` an A/B candidate's (same replicas, own artifact)."""
    name = k8s.variant_name(serving, variant) if variant else serving.name
    storage_uri = variant.storage_uri if variant else serving.storage_uri
    spec: dict[str, Any] = {"storageUri": storage_uri}
    if not storage_uri:
        # The pipeline's artifact store decides the URI at run time; KServe writes "" the same way.
        report.approximated(
            f"Model '{name}' has no storage URI: `serving.storage_uri` is not set, so `storageUri` is "
            f"written empty and Seldon cannot load the model until it is filled in", serving.span,
            "set `serving.storage_uri`, or fill it in at deploy time (a `patches` entry for target seldon)")
    _placement(spec, serving, variant.framework if variant else serving.framework, report)
    if serving.storage_secret:
        # Seldon's agent downloads with rclone: the Secret must hold an rclone remote (docs/plugins.md).
        spec["secretName"] = serving.storage_secret
    # Seldon's own scaling rule (operator/internal/utils.go): min <= replicas <= max.
    spec["replicas"] = serving.min_replicas
    if serving.max_replicas > serving.min_replicas:
        spec["minReplicas"] = serving.min_replicas
        spec["maxReplicas"] = serving.max_replicas
    res = variant.resources if variant and variant.resources != Resources() else serving.resources
    memory = res.memory or res.memory_limit
    if memory:
        spec["memory"] = memory
    _server_side(res, name, report, serving.span)
    meta = metadata(project, serving, name, "model")
    if not variant:
        annotations = _rollout(serving, report)
        if annotations:
            meta["annotations"] = dict(sorted({**meta.get("annotations", {}), **annotations}.items()))
    return {"apiVersion": API_VERSION, "kind": "Model", "metadata": meta, "spec": spec}


def _rollout(serving: Serving, report: Reporter) -> dict[str, str]:
    """The rollout plan as annotations; Seldon itself swaps a Model's version when the new one is ready."""
    rollout = serving.rollout
    if rollout.strategy == "direct":
        return {}
    annotations = {ROLLOUT_PREFIX + "strategy": rollout.strategy}
    if rollout.interval is not None:
        annotations[ROLLOUT_PREFIX + "interval"] = f"{rollout.interval:g}s"
    if rollout.analysis is not None:
        annotations[ROLLOUT_PREFIX + "analysis"] = render(rollout.analysis)
    if rollout.strategy == "canary":
        annotations[ROLLOUT_PREFIX + "steps"] = ",".join(f"{step:g}" for step in rollout.steps)
        what = "a canary rollout: Seldon has no per-revision traffic split, so a new version takes all traffic"
    else:
        what = "a blue/green rollout: Seldon switches to the new version itself"
    report.approximated(
        f"{what} as soon as it is loaded; the plan is kept as `{ROLLOUT_PREFIX}*` annotations, and the "
        f"interval and analysis are not enforced by Seldon", rollout.span,
        "gate the apply in the deploy workflow, or run the new version as an A/B variant (an Experiment)")
    return annotations


def split(serving: Serving, report: Reporter) -> list[tuple[str, int]]:
    """(Model name, weight) for the primary then each variant, in spec order; sums to 100."""
    # Seldon's weights are int32.
    weights, whole = k8s.traffic_split(serving)
    if not whole:
        report.unsupported("a variant weight that is not a whole percent above 0%", serving.span,
                           "Experiment candidate weights are integers; the primary gets 100% minus the variants")
    return weights


def experiment(project: Project, serving: Serving, report: Reporter) -> dict[str, Any]:
    """The A/B split: the primary is the `default`, so its endpoint is the experiment's endpoint."""
    candidates = [{"name": name, "weight": weight} for name, weight in split(serving, report)]
    return {
        "apiVersion": API_VERSION,
        "kind": "Experiment",
        "metadata": metadata(project, serving, experiment_name(serving), "experiment"),
        "spec": {"default": serving.name, "candidates": candidates},
    }
