"""The kfp-kubernetes platform spec: the second YAML document of `pipeline.yaml`.

KFP's PipelineSpec cannot say "read this env var from a Secret", "schedule on
these nodes" or "kill after N seconds"; kfp-kubernetes adds them as a
`KubernetesExecutorConfig` per executor under
`platforms.kubernetes.deploymentSpec.executors`. We write the same fields, in
the same form, as `kfp.kubernetes.use_secret_as_env`, `add_node_selector`,
`add_toleration` and `set_timeout` do in kfp-kubernetes 2.17 (a secret's name is
also given as `secretNameParameter.runtimeValue.constant`, as kfp writes it).
"""

from __future__ import annotations

from typing import Any

from mlopsdsl.backends import k8s
from mlopsdsl.ir import EnvVar, Step

_TOLERATION_FIELDS = ("key", "operator", "value", "effect")


def executor_config(step: Step, secret_env: list[EnvVar]) -> dict[str, Any]:
    """The KubernetesExecutorConfig of one step; empty when it needs none."""
    config: dict[str, Any] = {}
    if step.timeout:
        # int64 fields are strings in protobuf JSON; kfp writes them that way.
        config["activeDeadlineSeconds"] = str(int(step.timeout))
    labels = node_labels(step)
    if labels:
        config["nodeSelector"] = {"labels": labels}
    if step.pod_labels:  # as kfp.kubernetes.add_pod_label writes them
        config["podMetadata"] = {"labels": dict(sorted(step.pod_labels.items()))}
    secrets = secrets_as_env(secret_env)
    if secrets:
        config["secretAsEnv"] = secrets
    tolerations = _tolerations(step)
    if tolerations:
        config["tolerations"] = tolerations
    config.update(_volumes(step))
    return config


def _volumes(step: Step) -> dict[str, Any]:
    """`volumes:` in the form kfp-kubernetes 2.17's mount_pvc, use_secret_as_volume,
    use_config_map_as_volume and empty_dir_mount write."""
    out: dict[str, list[dict[str, Any]]] = {}
    for volume in step.volumes:
        if volume.kind == "pvc":
            out.setdefault("pvcMount", []).append({
                "constant": volume.source, "mountPath": volume.mount_path,
                "pvcNameParameter": {"runtimeValue": {"constant": volume.source}}})
        elif volume.kind == "secret":
            name = k8s.secret_name(volume.source or "")
            out.setdefault("secretAsVolume", []).append({
                "mountPath": volume.mount_path, "optional": False, "secretName": name,
                "secretNameParameter": {"runtimeValue": {"constant": name}}})
        elif volume.kind == "config_map":
            out.setdefault("configMapAsVolume", []).append({
                "configMapName": volume.source, "configMapNameParameter": {"runtimeValue": {"constant": volume.source}},
                "mountPath": volume.mount_path, "optional": False})
        else:
            mount = {"mountPath": volume.mount_path, "volumeName": volume.name}
            if volume.medium:
                mount["medium"] = volume.medium
            if volume.size:
                mount["sizeLimit"] = volume.size
            out.setdefault("emptyDirMounts", []).append(dict(sorted(mount.items())))
    return out


def pod_volumes(step: Step) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The same `volumes:` as pod spec `volumes` and container `volumeMounts` (for the jobs' workers)."""
    volumes, mounts = [], []
    for volume in step.volumes:
        if volume.kind == "pvc":
            source = {"persistentVolumeClaim": {"claimName": volume.source}}
        elif volume.kind == "secret":
            source = {"secret": {"secretName": k8s.secret_name(volume.source or "")}}
        elif volume.kind == "config_map":
            source = {"configMap": {"name": volume.source}}
        else:
            source = {"emptyDir": {k: v for k, v in (("medium", volume.medium), ("sizeLimit", volume.size)) if v}}
        volumes.append({"name": volume.name, **source})
        mounts.append({"mountPath": volume.mount_path, "name": volume.name})
    return volumes, mounts


def node_labels(step: Step) -> dict[str, str]:
    # the author's own selector wins over the GPU type's label
    return dict(sorted({**k8s.gpu_node_selector(step.resources), **step.node_selector}.items()))


def secrets_as_env(env: list[EnvVar]) -> list[dict[str, Any]]:
    by_secret: dict[str, list[dict[str, str]]] = {}
    for var in env:
        assert var.secret is not None
        by_secret.setdefault(k8s.secret_name(var.secret), []).append(
            {"envVar": var.name, "secretKey": k8s.secret_key(var)})
    return [{"keyToEnv": sorted(keys, key=lambda k: k["envVar"]), "optional": False, "secretName": name,
             "secretNameParameter": {"runtimeValue": {"constant": name}}}
            for name, keys in sorted(by_secret.items())]


def _tolerations(step: Step) -> list[dict[str, Any]]:
    result: list[dict[str, Any]] = []
    for toleration in step.tolerations:
        entry = {f: toleration[f] for f in _TOLERATION_FIELDS if toleration.get(f) is not None}
        if toleration.get("tolerationSeconds") is not None:
            entry["tolerationSeconds"] = str(int(toleration["tolerationSeconds"]))
        result.append(dict(sorted(entry.items())))
    return result + k8s.gpu_toleration(step.resources, result)
