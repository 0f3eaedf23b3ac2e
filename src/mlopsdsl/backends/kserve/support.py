"""What KServe v0.20 can serve: the support matrix, as data, and the rules the target applies.

The KServe target's `check` calls `check_serving` and `check_deployment` and
turns each `Problem` into a MLD60x/61x diagnostic at the value it is about, so a
spec that KServe would refuse at admission, or silently serve wrong, fails at
`validate` time (which runs the built-in targets' checks) and not at all for a
compile that does not target KServe (`--target seldon`).

The runtime table is read from the ClusterServingRuntimes KServe v0.20 installs
by default (`config/runtimes/kustomization.yaml`): each runtime's
`supportedModelFormats` (with `autoSelect` and `priority`) and
`protocolVersions`. KServe picks a runtime for an InferenceService that names
none by filtering the auto-selectable runtimes on model format and protocol
and taking the highest priority; `auto_runtime` does the same, so a message can
name the runtime the cluster would pick.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

from mlopsdsl.backends.base import codes

__all__ = [
    "FRAMEWORKS", "MODEL_FORMATS", "PROTOCOLS", "RUNTIMES", "Problem", "Runtime",
    "auto_runtime", "check_autoscaling", "check_deployment", "check_serving", "grpc_port", "runtimes_for",
]

PROTOCOLS = ("v1", "v2", "grpc-v2")

# The language's framework names are KServe's modelFormat names, on purpose:
# the backend writes `framework` into `modelFormat.name` unchanged. `custom`
# has no built-in runtime; the user's own ServingRuntime must list `custom`
# among its supportedModelFormats.
MODEL_FORMATS: dict[str, str] = {f: f for f in (
    "sklearn", "xgboost", "lightgbm", "pytorch", "tensorflow", "onnx", "huggingface", "triton", "custom")}
FRAMEWORKS = tuple(MODEL_FORMATS)


@dataclass(frozen=True)
class Runtime:
    name: str
    formats: dict[str, Optional[int]]  # model format -> priority when auto-selected; None: only when named
    protocols: tuple[str, ...]  # as the runtime declares them (grpc-v1 included where declared)
    grpc_port: Optional[int] = None  # the container port its gRPC server listens on, where it serves grpc-v2


# Only the runtimes that serve one of our frameworks; ordered as KServe lists them.
RUNTIMES: dict[str, Runtime] = {r.name: r for r in (
    Runtime("kserve-sklearnserver", {"sklearn": 1}, ("v1", "v2")),
    Runtime("kserve-xgbserver", {"xgboost": 1}, ("v1", "v2")),
    Runtime("kserve-lgbserver", {"lightgbm": 1}, ("v1", "v2")),
    Runtime("kserve-mlserver", {"sklearn": 2, "xgboost": 2, "lightgbm": 2}, ("v2",)),
    # predictiveserver sets autoSelect: false: it serves only when named.
    Runtime("kserve-predictiveserver", {"sklearn": None, "xgboost": None, "lightgbm": None}, ("v1", "v2")),
    # TorchServe's inference gRPC port (KServe's samples' config.properties: grpc_inference_port=7070).
    Runtime("kserve-torchserve", {"pytorch": 2}, ("v1", "v2", "grpc-v2"), grpc_port=7070),
    Runtime("kserve-tensorflow-serving", {"tensorflow": 2}, ("v1", "grpc-v1")),
    # Triton lists pytorch without autoSelect: TorchScript models need `runtime: kserve-tritonserver`.
    # Its container args: --grpc-port=9000 --http-port=8080.
    Runtime("kserve-tritonserver", {"tensorflow": 1, "onnx": 1, "triton": 1, "pytorch": None}, ("v2", "grpc-v2"),
            grpc_port=9000),
    Runtime("kserve-huggingfaceserver", {"huggingface": 1}, ("v2", "v1")),
    Runtime("kserve-huggingfaceserver-multinode", {"huggingface": 2}, ("v2", "v1")),
)}


@dataclass(frozen=True)
class Problem:
    """One broken rule. `path` is the document path the checker positions it on, from the root
    (``("serving", "variants", 1, "weight")``; the primary's framework is ``("model", "framework")``)."""

    code: codes.Code
    message: str
    hint: Optional[str]
    path: tuple[str | int, ...]


def runtimes_for(framework: str, protocol: Optional[str] = None, *, named: bool = True) -> list[str]:
    """Runtimes that serve `framework` (over `protocol` if given); `named=False`: auto-selectable only."""
    found = []
    for runtime in RUNTIMES.values():
        if framework not in runtime.formats:
            continue
        if not named and runtime.formats[framework] is None:
            continue
        if protocol is None or protocol in runtime.protocols:
            found.append(runtime.name)
    return found


def auto_runtime(framework: str, protocol: str) -> Optional[str]:
    """The runtime KServe picks when none is named: highest priority wins, ties keep list order."""
    best: tuple[int, str] | None = None
    for name in runtimes_for(framework, protocol, named=False):
        priority = RUNTIMES[name].formats[framework] or 0
        if best is None or priority > best[0]:
            best = (priority, name)
    return best[1] if best else None


def _check_runtime(framework: str, protocol: str, runtime: Optional[str],
                   where: tuple[str | int, ...]) -> list[Problem]:
    if runtime is not None and runtime not in RUNTIMES:
        # A ServingRuntime of the user's own: nothing is known about it, and
        # KServe checks the pair when it reconciles.
        return []
    if runtime is None:
        if framework == "custom":
            return [Problem(codes.SERVING_UNSERVABLE, "framework 'custom' has no built-in KServe runtime",
                            "name your ServingRuntime with `runtime:`; it must list the model format 'custom'",
                            where)]
        if auto_runtime(framework, protocol):
            return []
        able = runtimes_for(framework)
        protocols = [p for p in PROTOCOLS if any(p in RUNTIMES[name].protocols for name in able)]
        return [Problem(codes.SERVING_PROTOCOL,
                        f"no KServe runtime serves '{framework}' over protocol {protocol}",
                        f"use protocol {' or '.join(protocols)}" if protocols else None, ("serving", "protocol"))]
    spec = RUNTIMES[runtime]
    if framework not in spec.formats:
        able = runtimes_for(framework)
        hint = f"runtimes that serve '{framework}': {', '.join(able)}" if able else None
        return [Problem(codes.SERVING_UNSERVABLE, f"runtime '{runtime}' cannot serve framework '{framework}'",
                        hint, ("serving", "runtime"))]
    if protocol not in spec.protocols:
        usable = [p for p in spec.protocols if p in PROTOCOLS]
        return [Problem(codes.SERVING_PROTOCOL, f"runtime '{runtime}' does not support protocol {protocol}",
                        f"it speaks {', '.join(usable)}", ("serving", "protocol"))]
    return []


def check_autoscaling(deployment_mode: str, metric: Optional[str], target: Optional[float]) -> list[Problem]:
    """Which metrics each autoscaler reads (KServe v0.20 admission webhook)."""
    if metric is None:
        return []
    if deployment_mode == "raw" and metric in ("rps", "concurrency"):
        return [Problem(codes.SERVING_AUTOSCALE_METRIC,
                        f"autoscaling on '{metric}' needs deployment_mode serverless (Knative's autoscaler)",
                        "raw mode scales with a HorizontalPodAutoscaler on cpu or memory",
                        ("serving", "autoscaling", "metric"))]
    if target is not None and (target != int(target) or target < 1):
        return [Problem(codes.SERVING_AUTOSCALE_METRIC, f"autoscaling target {target:g} must be a whole number >= 1",
                        None, ("serving", "autoscaling", "target"))]
    if metric == "cpu" and target is not None and target > 100:
        return [Problem(codes.SERVING_AUTOSCALE_METRIC,
                        f"a cpu autoscaling target is a utilisation percent in 1-100, not {target:g}",
                        None, ("serving", "autoscaling", "target"))]
    return []


def check_serving(framework: str, protocol: str = "v1", runtime: Optional[str] = None,
                  deployment_mode: str = "serverless", rollout_strategy: str = "direct", *,
                  variant_frameworks: Iterable[Optional[str]] = (), autoscale_metric: Optional[str] = None,
                  autoscale_target: Optional[float] = None) -> list[Problem]:
    """Every serving rule at once; an empty list means KServe can serve the spec as written.

    Variants are InferenceServices of their own: one with the primary's
    framework reuses the named runtime, one with another framework gets the
    runtime KServe auto-selects.
    """
    problems = _check_runtime(framework, protocol, runtime, ("model", "framework"))
    for i, variant_framework in enumerate(variant_frameworks):
        if variant_framework and variant_framework != framework:
            where: tuple[str | int, ...] = ("serving", "variants", i, "framework")
            problems += [Problem(p.code, f"variant: {p.message}", p.hint, where)
                         for p in _check_runtime(variant_framework, protocol, None, where)]
    if deployment_mode == "raw" and rollout_strategy in ("canary", "blue_green"):
        problems.append(Problem(
            codes.ROLLOUT_NEEDS_KNATIVE,
            f"a {rollout_strategy.replace('_', '/')} rollout needs deployment_mode serverless: KServe splits and "
            "tags traffic between revisions with Knative, and raw mode has no revisions",
            "set `deployment_mode: serverless`, or use `strategy: direct` "
            "(raw mode replaces pods with a rolling update)",
            ("serving", "rollout", "strategy")))
    problems += check_autoscaling(deployment_mode, autoscale_metric, autoscale_target)
    return problems


def grpc_port(framework: str, protocol: str, runtime: Optional[str]) -> Optional[int]:
    """The port gRPC requests must reach: the named runtime's, else the auto-selected one's (None: unknown)."""
    if protocol != "grpc-v2":
        return None
    name = runtime if runtime is not None else auto_runtime(framework, protocol)
    spec = RUNTIMES.get(name) if name else None
    return spec.grpc_port if spec else None


def _graph_protocol(framework: str, protocol: str, runtime: Optional[str]) -> Optional[str]:
    """The protocol KServe's InferenceGraph calls a model's InferenceService with (v0.20
    `GetPredictorEndpoint`): a named runtime's first REST protocol, else the declared one."""
    spec = RUNTIMES.get(runtime) if runtime else None
    if spec is None:
        return protocol
    return next((p for p in spec.protocols if p in ("v1", "v2")), None)


def check_deployment(framework: str, protocol: str, runtime: Optional[str], deployment_mode: str, *,
                     min_replicas: int, max_replicas: int,
                     node_selector_at: Optional[tuple[str | int, ...]] = None,
                     knative_features: Iterable[str] = (), declared_grpc_port: Optional[int] = None,
                     variant_frameworks: Iterable[Optional[str]] = ()) -> list[Problem]:
    """What KServe or Knative would refuse at admission, or deploy broken, beyond the support matrix."""
    problems = []
    if min_replicas > max_replicas:
        problems.append(Problem(codes.REPLICA_BOUNDS, f"`replicas.min` ({min_replicas}) is above `replicas.max` "
                                f"({max_replicas}); KServe refuses minReplicas > maxReplicas",
                                None, ("serving", "replicas", "min")))
    if (node_selector_at and deployment_mode == "serverless"
            and "kubernetes.podspec-nodeselector" not in tuple(knative_features)):
        problems.append(Problem(codes.KNATIVE_NODE_SELECTOR,
                                "a GPU `type` becomes a nodeSelector, which Knative refuses by default",
                                "enable `kubernetes.podspec-nodeselector` in Knative's config-features and declare it: "
                                "`serving.knative_features: [kubernetes.podspec-nodeselector]`; or use "
                                "`deployment_mode: raw`", node_selector_at))
    if protocol == "grpc-v2" and declared_grpc_port is None and grpc_port(framework, protocol, runtime) is None:
        problems.append(Problem(codes.GRPC_PORT_REQUIRED,
                                f"which port serves gRPC is unknown for runtime '{runtime or framework}'",
                                "set `serving.grpc_port` to the container port the model server's gRPC listens on",
                                ("serving", "protocol")))
    frameworks = [f for f in variant_frameworks]
    if frameworks:
        if protocol == "grpc-v2":
            problems.append(Problem(codes.GRAPH_PROTOCOL, "the A/B InferenceGraph calls models over REST only, "
                                    "not grpc-v2", "use protocol v1 or v2 for an A/B split", ("serving", "variants")))
        else:
            called = _graph_protocol(framework, protocol, runtime)
            if called != protocol:
                problems.append(Problem(codes.GRAPH_PROTOCOL,
                                        f"the A/B InferenceGraph would call '{runtime}' over {called or 'no REST protocol'}, "
                                        f"not {protocol}: KServe takes a named runtime's first listed protocol",
                                        "leave `runtime` out so KServe selects one for the protocol", ("serving", "runtime")))
    return problems
