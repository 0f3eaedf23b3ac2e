"""The shared Kubernetes layer (`mlopsdsl.backends.k8s`): one way to label, size, place and split
what every target writes, and no target keeps a copy of its own."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO

from mlopsdsl.backends import k8s
from mlopsdsl.ir import Project, Resources, Serving, Variant

PROJECT = Project(name="churn", version="1.0.0+build.7", spec_path="churn.yaml", labels={"team": "growth", "app.kubernetes.io/name": "mine"})


def test_recommended_labels_win_over_the_users_and_versions_are_label_values():
    labels = k8s.labels(PROJECT, "churn-api", "inference-service")
    assert labels == {"app.kubernetes.io/component": "inference-service", "app.kubernetes.io/managed-by": "mlopsdsl",
                      "app.kubernetes.io/name": "churn-api", "app.kubernetes.io/part-of": "churn",
                      "app.kubernetes.io/version": "1.0.0-build.7", "team": "growth"}
    assert list(labels) == sorted(labels)
    assert "app.kubernetes.io/version" not in k8s.labels(PROJECT, "b", "model", version=None)
    assert k8s.labels(PROJECT, "b", "model", version="2.0")["app.kubernetes.io/version"] == "2.0"
    assert k8s.label_value("-" + "a" * 70) == "a" * 62


def test_metadata_carries_annotations_only_when_given():
    assert "annotations" not in k8s.metadata(PROJECT, "x", "ml", "model")
    assert k8s.metadata(PROJECT, "x", "ml", "model", annotations={"b": "2", "a": "1"})["annotations"] == {"a": "1",
                                                                                                            "b": "2"}


@pytest.mark.parametrize("gpu_type,resource", [(None, "nvidia.com/gpu"), ("nvidia-tesla-t4", "nvidia.com/gpu"),
                                               ("AMD-mi300x", "amd.com/gpu"), ("intel-max-1550", "gpu.intel.com/i915"),
                                               ("tpu-v5", "nvidia.com/gpu")])
def test_a_gpu_type_names_its_vendors_extended_resource(gpu_type, resource):
    assert k8s.gpu_resource(gpu_type) == resource


def test_container_resources_request_gpus_as_a_limit_and_place_them_by_type():
    res = Resources(cpu="500m", memory="1Gi", memory_limit="2Gi", gpu=2, gpu_type="nvidia-l4")
    assert k8s.container_resources(res) == {"requests": {"cpu": "500m", "memory": "1Gi"},
                                            "limits": {"memory": "2Gi", "nvidia.com/gpu": "2"}}
    assert k8s.container_resources(Resources()) == {}
    assert k8s.gpu_node_selector(res) == {k8s.GPU_NODE_LABEL: "nvidia-l4"}
    assert k8s.gpu_node_selector(Resources(gpu=1)) == {} == k8s.gpu_node_selector(Resources(gpu_type="nvidia-l4"))
    assert k8s.gpu_toleration(res, []) == [{"effect": "NoSchedule", "key": "nvidia.com/gpu", "operator": "Exists"}]
    assert k8s.gpu_toleration(res, [{"key": "nvidia.com/gpu", "operator": "Equal", "value": "x"}]) == []


def test_quantities_are_parsed_once_in_the_ir_by_the_languages_parsers():
    res = Resources(cpu="250m", cpu_limit="2", memory="1.5Gi", memory_limit="1G")
    assert (res.cpu_cores, res.cpu_limit_cores, res.memory_bytes, res.memory_limit_bytes) == (
        0.25, 2.0, 1610612736, 10**9)
    assert Resources().memory_bytes is None and res == Resources(**res.model_dump())  # not IR data


@pytest.mark.parametrize("percent,whole", [(29.0, 29), (28.999999999999996, 29), (12.5, None), (0.0, 0),
                                           (100.0, 100), (99.9999, None)])
def test_whole_percent_tolerates_float_noise_only(percent, whole):
    assert k8s.whole_percent(percent) == whole


def test_traffic_split_names_the_variants_objects_and_says_whether_the_weights_are_whole():
    serving = Serving(name="api", namespace="ml", framework="sklearn", storage_uri="s3://m",
                      variants=(Variant(name="b", storage_uri="s3://b", framework="sklearn", weight=30),))
    assert k8s.traffic_split(serving) == ([("api", 70), ("api-b", 30)], True)
    halves = serving.model_copy(update={"variants": (Variant(name="b", storage_uri="s3://b", framework="sklearn", weight=12.5),)})
    assert k8s.traffic_split(halves)[1] is False


# What only the shared layer may say: a backend that writes one of these itself keeps a copy.
KUBERNETES_FACTS = ("app.kubernetes.io/", "nvidia.com/gpu", "amd.com/gpu", "gke-accelerator")
KUBERNETES_HELPERS = {"label_value", "gpu_resource", "gpu_toleration", "_whole", "whole_percent", "traffic_split",
                      "container_resources", "worker_resources", "cpu_float", "memory_float"}
BACKEND_SOURCES = sorted([*(REPO / "src" / "mlopsdsl" / "backends").rglob("*.py"),
                          *(REPO / "backends").glob("*/src/**/*.py")])


@pytest.mark.parametrize("path", [p for p in BACKEND_SOURCES if p.name != "k8s.py"],
                         ids=lambda p: str(p.relative_to(REPO)))
def test_no_backend_keeps_its_own_copy_of_a_kubernetes_helper(path: Path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    copies = [(node.lineno, node.value) for node in ast.walk(tree) if isinstance(node, ast.Constant)
              and isinstance(node.value, str) and any(fact in node.value for fact in KUBERNETES_FACTS)]
    copies += [(node.lineno, node.name) for node in ast.walk(tree)
               if isinstance(node, ast.FunctionDef) and node.name in KUBERNETES_HELPERS]
    assert copies == [], "use mlopsdsl.backends.k8s"


def test_the_copy_scan_sees_a_copy(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('def _whole(p):\n    return True\nGPU = "nvidia.com/gpu"\n', encoding="utf-8")
    tree = ast.parse(module.read_text())
    assert {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)} & KUBERNETES_HELPERS
    assert any(isinstance(n, ast.Constant) and "nvidia.com/gpu" in str(n.value) for n in ast.walk(tree))
