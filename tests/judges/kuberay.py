"""KubeRay v1.7.0 RayJob rules the CRD schema cannot say, ported from
`ray-operator/controllers/ray/utils/validation.go`: `ValidateRayJobMetadata`, `ValidateRayJobSpec`
(with `validateDeletionConfiguration`'s TTL rule) and the parts of `ValidateRayClusterSpec` a
generated RayJob can reach (containers, replica bounds, restart policy in sidecar mode;
the v1.7.0 CRD itself requires both `minReplicas` and `maxReplicas`). The operator rejects a RayJob failing any of them at reconcile
time (the job goes to `ValidationFailed`), so they are as binding as the schema.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

MAX_RAYJOB_NAME = 53 - 6  # MaxRayJobNameLength = MaxRayClusterNameLength - 6 (constant.go)
DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
SUBMISSION_MODES = {"K8sJobMode", "HTTPMode", "InteractiveMode", "SidecarMode"}


def rayjob(job: dict[str, Any]) -> list[str]:
    name = job["metadata"].get("name", "")
    errors = []
    if len(name) > MAX_RAYJOB_NAME:
        errors.append(f".metadata.name: RayJob name should be no more than {MAX_RAYJOB_NAME} characters")
    if not DNS1035.match(name) or len(name) > 63:
        errors.append(".metadata.name: RayJob name should be a valid DNS1035 label")
    spec = job["spec"]
    shutdown = spec.get("shutdownAfterJobFinishes", False)
    mode = spec.get("submissionMode", "K8sJobMode")
    backoff = spec.get("backoffLimit")
    if mode not in SUBMISSION_MODES:  # stricter than the operator, which falls through: the constants of rayjob_types.go
        errors.append(f".spec.submissionMode: {mode!r} is not one of {sorted(SUBMISSION_MODES)}")
    if spec.get("suspend") and not shutdown:
        errors.append(".spec: a RayJob with shutdownAfterJobFinishes set to false is not allowed to be suspended")
    if spec.get("ttlSecondsAfterFinished", 0) < 0:
        errors.append(".spec.ttlSecondsAfterFinished: must be a non-negative integer")
    if not shutdown and spec.get("ttlSecondsAfterFinished", 0) > 0:
        errors.append(".spec: a RayJob with shutdownAfterJobFinishes set to false cannot have TTLSecondsAfterFinished")
    selector = spec.get("clusterSelector") or {}
    if spec.get("rayClusterSpec") is None and not selector:
        errors.append(".spec: one of RayClusterSpec or ClusterSelector must be set")
    if selector and (mode == "SidecarMode" or (backoff or 0) > 0 or spec.get("suspend")):
        errors.append(".spec.clusterSelector: not supported with SidecarMode, backoffLimit > 0 or suspend")
    if mode == "InteractiveMode" and (backoff or 0) > 0:
        errors.append(".spec.backoffLimit: BackoffLimit is incompatible with InteractiveMode")
    cluster = spec.get("rayClusterSpec")
    if mode == "SidecarMode":
        if "submitterPodTemplate" in spec or "submitterConfig" in spec:
            errors.append(".spec: SidecarMode doesn't support SubmitterPodTemplate or SubmitterConfig")
        policy = (cluster or {}).get("headGroupSpec", {}).get("template", {}).get("spec", {}).get("restartPolicy", "")
        if policy not in ("", "Never"):
            errors.append(".spec.rayClusterSpec.headGroupSpec: restartPolicy for head Pod should be Never or unset "
                          "when using SidecarMode")
    try:
        yaml.safe_load(spec.get("runtimeEnvYAML", "") or "")
    except yaml.YAMLError as exc:
        errors.append(f".spec.runtimeEnvYAML: not valid YAML: {exc}")
    for key in ("activeDeadlineSeconds", "preRunningDeadlineSeconds"):
        if key in spec and spec[key] <= 0:
            errors.append(f".spec.{key}: must be a positive integer")
    if backoff is not None and backoff < 0:
        errors.append(".spec.backoffLimit: must be a positive integer")
    if cluster is not None:
        errors += _cluster(cluster)
    return errors


def _cluster(spec: dict[str, Any]) -> list[str]:
    errors = []
    if not spec["headGroupSpec"]["template"]["spec"].get("containers"):
        errors.append(".spec.rayClusterSpec.headGroupSpec: should have at least one container")
    for group in spec.get("workerGroupSpecs", []):
        name = group.get("groupName")
        low, high = group.get("minReplicas"), group.get("maxReplicas")
        if not group["template"]["spec"].get("containers"):
            errors.append(f"worker group {name}: workerGroupSpec should have at least one container")
        if (low is not None and low < 0) or (high is not None and high < 0):
            errors.append(f"worker group {name} has negative minReplicas or maxReplicas")
        if low is not None and high is not None and low > high:
            errors.append(f"worker group {name} has minReplicas {low} greater than maxReplicas {high}")
    return errors
