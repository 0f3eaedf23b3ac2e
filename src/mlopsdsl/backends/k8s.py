"""Kubernetes for backends: how every target that writes Kubernetes objects labels, sizes,
places and splits them. Part of the plugin API (docs/plugins.md).

Written once, so a model trains, serves and is watched alike whichever targets wrote its
objects: the same recommended labels select them, a `gpu: {type: nvidia-tesla-t4}` asks for the
same extended resource and lands on the same nodes, and a percent that is not whole is refused
by every target whose field is an integer, with the same tolerance.

Quantities are not parsed here: the IR carries them parsed (`Resources.cpu_cores`,
`Resources.memory_bytes`), from the one definition of the language's value syntax.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Optional

from mlopsdsl.ir import EnvVar, Project, Resources, Serving, Variant

__all__ = [
    "GPU_NODE_LABEL", "GPU_RESOURCE", "MANAGED_BY", "STORAGE_SCHEMES", "container_resources", "gpu_node_selector",
    "gpu_resource", "gpu_toleration", "keys_text", "label_value", "labels", "metadata", "secret_env", "secret_key",
    "secret_name", "secrets_read", "traffic_split", "variant_name", "whole_percent",
]

# The storage URI schemes KServe loads a model from: what its default ClusterStorageContainer
# downloads (charts/kserve-resources/templates/clusterstoragecontainer.yaml: gs, s3, hdfs, webhdfs,
# hf, Azure blob/file and any http(s) URL) and what the controller mounts itself (pvc://, and
# oci:// model cars).
STORAGE_SCHEMES = ("gs", "s3", "hdfs", "webhdfs", "hf", "http", "https", "pvc", "oci")

# The label every object mlopsdsl writes carries (Kubernetes' recommended labels).
MANAGED_BY = {"app.kubernetes.io/managed-by": "mlopsdsl"}

# GPU vendor prefix of `gpu.type` -> the extended resource its device plugin announces; NVIDIA
# when no type is named, as on most clusters.
GPU_RESOURCE = {"amd": "amd.com/gpu", "nvidia": "nvidia.com/gpu", "intel": "gpu.intel.com/i915"}
DEFAULT_GPU = "nvidia"
# The node label `gpu.type` selects on: GKE's, whose accelerator names (nvidia-tesla-t4) the
# language uses. Other clusters relabel with `patches` or set `node_selector` themselves.
GPU_NODE_LABEL = "cloud.google.com/gke-accelerator"

_NOT_IN_LABEL_VALUE = re.compile(r"[^A-Za-z0-9._-]")
# Percent fields of Kubernetes objects are integers; a percent computed in floating point (29%
# read as 28.999999999999996) is still whole.
_PERCENT_NOISE = 1e-6


def secret_name(secret: str) -> str:
    """The Secret a spec's `secrets.NAME` is read from: Secret names are DNS-1123 subdomains and spec
    names identifiers (MLD610), so `wandb_api_key` is read from Secret `wandb-api-key`."""
    return secret.replace("_", "-").lower()


def secret_key(var: EnvVar) -> str:
    """The key of that Secret: `secrets.NAME.KEY` names it, `secrets.NAME` reads the key NAME."""
    return var.secret_key or var.secret or ""


def secret_env(var: EnvVar) -> dict[str, Any]:
    """A container's environment variable read from a Secret's key (`valueFrom.secretKeyRef`)."""
    return {"name": var.name, "valueFrom": {"secretKeyRef": {"name": secret_name(var.secret or ""),
                                                             "key": secret_key(var)}}}


def secrets_read(variables: Iterable[EnvVar]) -> dict[str, list[str]]:
    """Secret -> the keys these variables read from it (for a SETUP note), sorted."""
    found: dict[str, set[str]] = {}
    for var in variables:
        if var.secret:
            found.setdefault(secret_name(var.secret), set()).add(secret_key(var))
    return {name: sorted(keys) for name, keys in sorted(found.items())}


def keys_text(keys: list[str]) -> str:
    return ("key " if len(keys) == 1 else "keys ") + ", ".join(f"`{k}`" for k in keys)


def label_value(text: str) -> str:
    """A label value: at most 63 of [A-Za-z0-9._-], alphanumeric at both ends (`1.0.0+b1` -> `1.0.0-b1`)."""
    return _NOT_IN_LABEL_VALUE.sub("-", text)[:63].strip("._-")


def labels(project: Project, name: str, component: str, version: Optional[str] = "") -> dict[str, str]:
    """The recommended `app.kubernetes.io/*` labels over the project's own (`metadata.labels`).

    `version` is what the object runs ("": the project's; None: none is known, as for an A/B
    variant that declares none: it must never carry the primary's). The user's labels never
    override the ones tools select on.
    """
    standard = {"app.kubernetes.io/name": name, "app.kubernetes.io/component": component,
                "app.kubernetes.io/part-of": project.name, **MANAGED_BY}
    if version is not None:
        standard["app.kubernetes.io/version"] = label_value(version or project.version)
    return dict(sorted({**project.labels, **standard}.items()))


def metadata(project: Project, name: str, namespace: str, component: str, version: Optional[str] = "",
             annotations: Optional[dict[str, str]] = None) -> dict[str, Any]:
    """`metadata` of a namespaced object: name, namespace, `labels(...)`, and annotations when given."""
    meta: dict[str, Any] = {"name": name, "namespace": namespace, "labels": labels(project, name, component, version)}
    if annotations:
        meta["annotations"] = dict(sorted(annotations.items()))
    return meta


def gpu_resource(gpu_type: Optional[str]) -> str:
    """The extended resource of a GPU type (`amd-mi300x` -> `amd.com/gpu`)."""
    for prefix, resource in GPU_RESOURCE.items():
        if gpu_type and gpu_type.lower().startswith(prefix):
            return resource
    return GPU_RESOURCE[DEFAULT_GPU]


def container_resources(res: Resources) -> dict[str, Any]:
    """A container's `resources`: requests and limits as written, GPUs as a limit (the request of an
    extended resource defaults to its limit, and may not differ from it)."""
    requests = {k: v for k, v in (("cpu", res.cpu), ("memory", res.memory)) if v}
    limits = {k: v for k, v in (("cpu", res.cpu_limit), ("memory", res.memory_limit)) if v}
    if res.gpu:
        limits[gpu_resource(res.gpu_type)] = str(res.gpu)
    return {k: v for k, v in (("requests", requests), ("limits", limits)) if v}


def gpu_node_selector(res: Resources) -> dict[str, str]:
    """The nodes a GPU type runs on (empty when no type is named: any node with the resource)."""
    return {GPU_NODE_LABEL: res.gpu_type} if res.gpu and res.gpu_type else {}


def gpu_toleration(res: Resources, tolerations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """GPU node pools are tainted with their resource name: a pod that asks for a GPU type tolerates
    the taint, unless the author's `tolerations` already speak of it."""
    if res.gpu and res.gpu_type:
        key = gpu_resource(res.gpu_type)
        if not any(t.get("key") == key for t in tolerations):
            return [{"effect": "NoSchedule", "key": key, "operator": "Exists"}]
    return []


def whole_percent(percent: float) -> Optional[int]:
    """A percent as an integer field takes it; None when it is not a whole percent."""
    nearest = round(percent)
    return int(nearest) if abs(percent - nearest) < _PERCENT_NOISE else None


def variant_name(serving: Serving, variant: Variant) -> str:
    """The object that serves an A/B variant (monitoring selects the split's pods by these names)."""
    return f"{serving.name}-{variant.name}"


def traffic_split(serving: Serving) -> tuple[list[tuple[str, int]], bool]:
    """(object name, weight) of the primary then each variant, in spec order, and whether every
    weight is a whole percent above 0%: the integer weights summing to 100 that a router takes."""
    weights = [(serving.name, serving.primary_weight)]
    weights += [(variant_name(serving, v), v.weight) for v in serving.variants]
    whole = [(name, whole_percent(weight)) for name, weight in weights]
    ok = all(w is not None and w > 0 for _, w in whole)
    return [(name, w if w is not None else round(weight)) for (name, w), (_, weight) in zip(whole, weights)], ok
