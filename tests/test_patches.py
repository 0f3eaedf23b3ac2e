"""`patches:`: selection by target, file glob, kind and name; RFC 6902 and RFC 7386; MLD703/MLD704."""

from __future__ import annotations

import pytest

from mlopsdsl import patches
from mlopsdsl.backends.base import Artifact
from mlopsdsl.diagnostics import codes
from mlopsdsl.ir import Patch, Span

SPAN = Span("spec.yaml", 40, 5, 40, 30)
ISVC = {"apiVersion": "serving.kserve.io/v1beta1", "kind": "InferenceService",
        "metadata": {"name": "churn", "labels": {"app": "churn"}},
        "spec": {"predictor": {"containers": ({"name": "kserve-container", "image": "x"},)}}}
SA = {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "churn-sa"}}
ARTIFACTS = [
    Artifact("kserve/churn.yaml", documents=(ISVC, SA)),
    Artifact("kserve/card.md", format="text", text="# card\n"),
    Artifact("kubeflow/pipeline.json", format="json", documents=({"pipelineInfo": {"name": "churn"}},)),
]
TARGET_OF = {"kserve/churn.yaml": "kserve", "kserve/card.md": "kserve", "kubeflow/pipeline.json": "kubeflow"}


def run(*items: Patch, compiled=None):
    return patches.apply(ARTIFACTS, items, TARGET_OF, compiled=compiled)


def patch(**kw) -> Patch:
    kw.setdefault("target", "kserve")
    kw.setdefault("span", SPAN)
    return Patch(**kw)


def docs(result, path="kserve/churn.yaml"):
    return next(a for a in result if a.path == path).documents


def test_json_patch_add_replace_remove_on_the_selected_document():
    ops = ({"op": "add", "path": "/metadata/annotations", "value": {"team": "risk"}},
           {"op": "replace", "path": "/spec/predictor/containers/0/image", "value": "y"},
           {"op": "remove", "path": "/metadata/labels/app"},
           {"op": "add", "path": "/spec/predictor/containers/-", "value": {"name": "sidecar"}})
    result, diagnostics = run(patch(kind="InferenceService", name="churn", json_patch=ops))
    assert diagnostics == []
    isvc, sa = docs(result)
    assert isvc["metadata"] == {"name": "churn", "labels": {}, "annotations": {"team": "risk"}}
    assert isvc["spec"]["predictor"]["containers"] == [{"name": "kserve-container", "image": "y"},
                                                       {"name": "sidecar"}]
    assert sa == SA
    assert ISVC["metadata"]["labels"] == {"app": "churn"}  # the backend's data is never mutated


def test_merge_patch_rfc7386():
    merge = {"metadata": {"labels": {"app": None, "tier": "gold"}}, "spec": {"predictor": {"minReplicas": 2}}}
    result, diagnostics = run(patch(kind="InferenceService", merge=merge))
    assert diagnostics == []
    isvc = docs(result)[0]
    assert isvc["metadata"]["labels"] == {"tier": "gold"}
    assert isvc["spec"]["predictor"]["minReplicas"] == 2 and isvc["spec"]["predictor"]["containers"]


@pytest.mark.parametrize("target,patch_doc,expected", [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
])
def test_merge_patch_rfc7386_appendix_a(target, patch_doc, expected):
    assert patches.merge_patch(target, patch_doc) == expected


def test_file_glob_selects_and_patches_every_document_in_it():
    result, diagnostics = run(patch(file="kserve/*.yaml", merge={"metadata": {"labels": {"x": "1"}}}))
    assert diagnostics == []
    assert all(d["metadata"]["labels"]["x"] == "1" for d in docs(result))


@pytest.mark.parametrize("glob", ["kserve/*.yaml", "*.yaml", "churn.*", "kserve/churn.yaml"])
def test_file_glob_is_relative_to_the_output_or_to_the_target_folder(glob):
    result, diagnostics = run(patch(file=glob, kind="ServiceAccount", merge={"automount": False}))
    assert diagnostics == [] and docs(result)[1]["automount"] is False


def test_json_artifacts_can_be_patched():
    op = ({"op": "replace", "path": "/pipelineInfo/name", "value": "renamed"},)
    result, diagnostics = run(patch(target="kubeflow", json_patch=op))
    assert diagnostics == [] and docs(result, "kubeflow/pipeline.json") == ({"pipelineInfo": {"name": "renamed"}},)


def test_patches_apply_in_order():
    first = patch(kind="ServiceAccount", merge={"metadata": {"labels": {"a": "1"}}})
    second = patch(kind="ServiceAccount", json_patch=({"op": "test", "path": "/metadata/labels/a", "value": "1"},))
    result, diagnostics = run(first, second)
    assert diagnostics == [] and docs(result)[1]["metadata"]["labels"] == {"a": "1"}


@pytest.mark.parametrize("selector", [dict(kind="Deployment"), dict(name="nope"), dict(file="kserve/*.json"),
                                      dict(kind="InferenceService", name="churn-sa")])
def test_selector_matching_nothing_is_mld703(selector):
    result, (diagnostic,) = run(patch(merge={"a": 1}, **selector))
    assert diagnostic.code is codes.PATCH_NO_MATCH and diagnostic.span == SPAN
    assert diagnostic.path == ("patches", 0)
    assert "matches no generated document" in diagnostic.message
    assert "kserve/churn.yaml" in diagnostic.hint
    assert result == ARTIFACTS


@pytest.mark.parametrize("op,reason", [
    ({"op": "test", "path": "/metadata/name", "value": "other"}, "is not equal to tested value"),
    ({"op": "remove", "path": "/metadata/missing"}, "non-existent"),
    ({"op": "replace", "path": "/spec/nothing/here", "value": 1}, "not found"),
    ({"op": "add", "path": "no-slash", "value": 1}, "must start with /"),
    ({"op": "frobnicate", "path": "/a"}, "Unknown operation"),
])
def test_failing_operation_is_mld704_with_the_library_reason(op, reason):
    _, (diagnostic,) = run(patch(kind="InferenceService", json_patch=(op,)))
    assert diagnostic.code is codes.PATCH_FAILED and diagnostic.span == SPAN
    assert reason in diagnostic.message
    assert "kserve/churn.yaml, document 1 (InferenceService churn)" in diagnostic.message


def test_text_artifacts_cannot_be_patched():
    _, (diagnostic,) = run(patch(file="kserve/card.md", merge={"a": 1}))
    assert diagnostic.code is codes.PATCH_FAILED and "text file" in diagnostic.message
    assert "only YAML and JSON" in diagnostic.hint


def test_kind_selector_skips_text_files_of_the_target():
    _, diagnostics = run(patch(kind="ServiceAccount", merge={"a": 1}))
    assert diagnostics == []


def test_patch_for_a_target_not_compiled_is_skipped():
    result, diagnostics = run(patch(kind="Nothing", merge={"a": 1}), compiled=["kubeflow"])
    assert diagnostics == [] and result == ARTIFACTS


def test_target_compiled_but_without_files():
    _, (diagnostic,) = patches.apply([], (patch(merge={"a": 1}),), {}, compiled=["kserve"])
    assert diagnostic.code is codes.PATCH_NO_MATCH and diagnostic.hint == "target 'kserve' wrote no files"
