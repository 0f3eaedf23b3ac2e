"""The KServe objects, built as data: InferenceService (serving.kserve.io/v1beta1), its storage
ServiceAccount, and the A/B InferenceGraph (serving.kserve.io/v1alpha1).

Field names and enums follow the KServe v0.20 CRD; the annotation values follow
its admission webhook: the deployment mode is written as `Knative`/`Standard`
(v0.20's names; `Serverless`/`RawDeployment` are deprecated aliases, and the
webhook compares the literal `Standard` when it chooses the HPA validator, so a
raw InferenceService written `RawDeployment` with `scaleMetric: cpu` is refused).
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from mlopsdsl.backends import k8s
from mlopsdsl.backends.kserve import support
from mlopsdsl.ir import EnvVar, Project, Resources, Serving, Span, Transformer, Variant, render

API_VERSION = "serving.kserve.io/v1beta1"
GRAPH_API_VERSION = "serving.kserve.io/v1alpha1"
DEPLOYMENT_MODE = {"serverless": "Knative", "raw": "Standard"}
MODE_ANNOTATION = "serving.kserve.io/deploymentMode"
AUTOSCALER_CLASS = "serving.kserve.io/autoscalerClass"
KNATIVE_CLASS = "autoscaling.knative.dev/class"
TAG_ROUTING = "serving.kserve.io/enable-tag-routing"
# Where the rollout plan is recorded for the deploy workflow and for people reading the manifest.
ROLLOUT_PREFIX = "mlopsdsl.io/rollout-"

# KServe's own container name for custom containers (the transformer): it injects the
# predictor host and model name as arguments into the container with this name.
CONTAINER_NAME = "kserve-container"
PROTOCOL_ENV = "PROTOCOL"
# Knative routes gRPC (HTTP/2 cleartext) only to a container port named h2c; raw mode's Service
# takes KServe's `<protocol>[-<suffix>]` port names (KServe docs, Triton gRPC examples).
GRPC_PORT_NAME = {"serverless": "h2c", "raw": "grpc-port"}
NODE_SELECTOR_FEATURE = "kubernetes.podspec-nodeselector"

Unsupported = Callable[[str, Optional[Span], Optional[str]], None]


def metadata(project: Project, serving: Serving, name: str, component: str,
             version: Optional[str] = "") -> dict[str, Any]:
    """Labels and namespace (`k8s.labels` says what `version` means)."""
    return k8s.metadata(project, name, serving.namespace, component, version)


def env(variables: tuple[EnvVar, ...], unsupported: Unsupported, span: Optional[Span]) -> list[dict[str, Any]]:
    out = []
    for var in variables:
        if var.secret:
            out.append(k8s.secret_env(var))
        elif isinstance(var.value, str) or var.value is None:
            out.append({"name": var.name, "value": var.value or ""})
        else:
            # A run-time value (a pipeline parameter...) has no meaning once the model is served.
            unsupported(f"a run-time expression in the transformer's env var '{var.name}'", span,
                        "serving has no pipeline run: use a literal or a compile-time value")
    return out


def service_account_name(serving: Serving) -> str:
    return f"{serving.name}-sa"


def service_account(project: Project, serving: Serving) -> dict[str, Any]:
    """KServe's storage initializer reads credentials from the secrets attached to the pod's SA."""
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": metadata(project, serving, service_account_name(serving), "storage-credentials"),
        "secrets": [{"name": serving.storage_secret}],
    }


def _autoscaling(serving: Serving, annotations: dict[str, str], predictor: dict[str, Any]) -> None:
    metric, target = serving.autoscale_metric, serving.autoscale_target
    if metric is None:
        return
    if serving.deployment_mode == "raw":
        # Standard mode scales with an HPA on cpu or memory; the support matrix refuses rps/concurrency.
        annotations[AUTOSCALER_CLASS] = "hpa"
    elif metric in ("cpu", "memory"):
        # Knative's default autoscaler (KPA) reads only concurrency and rps; cpu/memory need its HPA class.
        annotations[KNATIVE_CLASS] = "hpa.autoscaling.knative.dev"
    predictor["scaleMetric"] = metric
    if target is not None:
        predictor["scaleTarget"] = int(target)


def _rollout(serving: Serving, annotations: dict[str, str], unsupported: Unsupported) -> Optional[int]:
    """Annotations of the rollout plan, and the canaryTrafficPercent of this apply (None: all traffic)."""
    rollout = serving.rollout
    if rollout.strategy == "direct":
        return None
    if serving.deployment_mode == "raw":
        unsupported(f"a {rollout.strategy} rollout in raw deployment mode", rollout.span,
                    "KServe splits traffic between Knative revisions only: use deployment_mode serverless")
        return None
    # The `latest-`/`prev-` tag URLs let the deploy workflow test the candidate revision alone.
    annotations[TAG_ROUTING] = "true"
    annotations[ROLLOUT_PREFIX + "strategy"] = rollout.strategy
    if rollout.interval is not None:
        annotations[ROLLOUT_PREFIX + "interval"] = f"{rollout.interval:g}s"
    if rollout.analysis is not None:
        annotations[ROLLOUT_PREFIX + "analysis"] = render(rollout.analysis)
    if rollout.strategy == "blue_green":
        return 0
    if any(k8s.whole_percent(step) is None for step in rollout.steps):
        unsupported("a canary step that is not a whole percent", rollout.span,
                    "canaryTrafficPercent is an integer")
    annotations[ROLLOUT_PREFIX + "steps"] = ",".join(f"{round(step)}" for step in rollout.steps)
    first = round(rollout.steps[0]) if rollout.steps else 100
    # A first step of 100% is a promotion at once: the field is left out, as after a promotion.
    return None if first >= 100 else first


def transformer(spec: Transformer, protocol: str, unsupported: Unsupported, span: Optional[Span]) -> dict[str, Any]:
    # `run` is the whole command line (as for pipeline steps), so it is the container's command;
    # KServe appends its own arguments (--model_name, --predictor_host) after it.
    container: dict[str, Any] = {"name": CONTAINER_NAME, "image": spec.image}
    if spec.command:
        container["command"] = list(spec.command)
    variables = env(spec.env, unsupported, span)
    if protocol in ("v1", "v2") and not any(v.name == PROTOCOL_ENV for v in spec.env):
        # KServe reads a custom transformer's protocol from this variable only (v0.20
        # CustomTransformer.GetProtocol, default v1); the InferenceGraph builds its call path from it.
        variables.append({"name": PROTOCOL_ENV, "value": protocol})
    if variables:
        container["env"] = variables
    res = k8s.container_resources(spec.resources)
    if res:
        container["resources"] = res
    return {"containers": [container]}


def inference_service(project: Project, serving: Serving, unsupported: Unsupported,
                      variant: Optional[Variant] = None) -> dict[str, Any]:
    """The primary model's InferenceService, or with `variant` the A/B variant's (no rollout of its own)."""
    name = k8s.variant_name(serving, variant) if variant else serving.name
    annotations = {**project.annotations, MODE_ANNOTATION: DEPLOYMENT_MODE[serving.deployment_mode]}
    predictor: dict[str, Any] = {"minReplicas": serving.min_replicas, "maxReplicas": serving.max_replicas}
    _autoscaling(serving, annotations, predictor)
    canary = None if variant else _rollout(serving, annotations, unsupported)
    if serving.storage_secret:
        predictor["serviceAccountName"] = service_account_name(serving)
    if canary is not None:
        predictor["canaryTrafficPercent"] = canary

    framework = variant.framework if variant else serving.framework
    # A variant of another framework cannot use the primary's runtime: KServe picks one for it.
    runtime = serving.runtime if framework == serving.framework else None
    model: dict[str, Any] = {"modelFormat": {"name": framework}}
    if runtime:
        model["runtime"] = runtime
    model["protocolVersion"] = serving.protocol
    if serving.protocol == "grpc-v2":
        # The spec's port, else the one the runtime's own container args listen on.
        port = serving.grpc_port or support.grpc_port(serving.framework, serving.protocol, serving.runtime)
        if port is None:
            unsupported("grpc-v2 without a known gRPC port", serving.span, "set `serving.grpc_port`")
        else:
            model["ports"] = [{"name": GRPC_PORT_NAME[serving.deployment_mode], "containerPort": port,
                               "protocol": "TCP"}]
    model["storageUri"] = variant.storage_uri if variant else serving.storage_uri
    own = variant.resources if variant and variant.resources != Resources() else serving.resources
    res = k8s.container_resources(own)
    if res:
        model["resources"] = res
    predictor["model"] = model
    if k8s.gpu_node_selector(own):
        if serving.deployment_mode == "serverless" and NODE_SELECTOR_FEATURE not in serving.knative_features:
            unsupported("a GPU type (a nodeSelector) on a serverless predictor", serving.span,
                        f"Knative refuses nodeSelector unless `{NODE_SELECTOR_FEATURE}` is enabled: declare it in "
                        "`serving.knative_features`")
        predictor["nodeSelector"] = k8s.gpu_node_selector(own)
    logger = request_logger(project) if variant is None else None
    if logger:
        predictor["logger"] = logger

    spec: dict[str, Any] = {"predictor": predictor}
    if serving.transformer:
        spec["transformer"] = transformer(serving.transformer, serving.protocol, unsupported, serving.span)
        if canary is not None:
            # Each component has its own revisions: the transformer moves with the predictor.
            spec["transformer"]["canaryTrafficPercent"] = canary
    meta = metadata(project, serving, name, "inference-service", variant.version if variant else "")
    meta["annotations"] = dict(sorted(annotations.items()))
    return {"apiVersion": API_VERSION, "kind": "InferenceService", "metadata": meta, "spec": spec}


def request_logger(project: Project) -> dict[str, Any] | None:
    """KServe's payload logger, when the drift job reads its current sample from the request log.

    Blob-storage mode (kserve/kserve@v0.20.0: LoggerSpec, validateLogger needs path,
    parameters and key): each request is stored as JSON under
    `<url>/<namespace>/<isvc>/predictor/<path>/`, where the drift job reads it."""
    drift = project.monitoring.drift if project.monitoring else None
    log = drift.request_log if drift else None
    if log is None:
        return None
    return {"mode": "request", "url": log.uri,
            "storage": {"key": log.storage_key, "path": log.path, "parameters": {"format": "json"}}}


# --- the A/B split ----------------------------------------------------------------------------
# An InferenceGraph (serving.kserve.io/v1alpha1) whose root Splitter sends each
# request to the primary InferenceService or to one of the variants, by integer weight.
#
# Clients call the graph's URL for the experiment; each InferenceService stays reachable on its
# own URL too (for shadow tests and for the rollout of the primary, which the split does not see:
# the Splitter routes to the primary's service, and KServe splits that again between revisions).


def graph_name(serving: Serving) -> str:
    return f"{serving.name}-graph"


def split(serving: Serving, unsupported: Unsupported) -> list[tuple[str, int]]:
    """(InferenceService name, weight) for the primary then each variant, in spec order; sums to 100."""
    # Splitter weights are integers that must add up to exactly 100 (KServe's router refuses others).
    weights, whole = k8s.traffic_split(serving)
    if not whole:
        unsupported("a variant weight that is not a whole percent above 0%", serving.span,
                    "InferenceGraph Splitter weights are integers; the primary gets 100% minus the variants")
    return weights


def inference_graph(project: Project, serving: Serving, unsupported: Unsupported) -> dict[str, Any]:
    steps = [{"name": name, "serviceName": name, "weight": weight} for name, weight in split(serving, unsupported)]
    meta = metadata(project, serving, graph_name(serving), "inference-graph")
    meta["annotations"] = {MODE_ANNOTATION: DEPLOYMENT_MODE[serving.deployment_mode]}
    return {
        "apiVersion": GRAPH_API_VERSION,
        "kind": "InferenceGraph",
        "metadata": meta,
        "spec": {"nodes": {"root": {"routerType": "Splitter", "steps": steps}}},
    }
