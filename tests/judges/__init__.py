"""Judges for the custom resources mlopsdsl emits that the shared conformance kit does not know.

`judge(documents)` checks each TrainJob, ClusterTrainingRuntime (Kubeflow Trainer v2.3.0), RayJob
(KubeRay v1.7.0) and Experiment (Katib v0.19.0) against the vendored upstream schema (strict:
unknown fields fail; CEL rules evaluated) and the ported admission/controller rules, and returns
`(kind/name, error)` pairs; an empty list is a pass. An Experiment's trial resource is judged too
when it is one of these kinds. Sources, tags and commits: SOURCES.md.
"""

from __future__ import annotations

from typing import Any

from . import katib, kuberay, trainer
from .openapi import crd, swagger

KINDS = {
    ("trainer.kubeflow.org/v1alpha1", "TrainJob"): "trainer.kubeflow.org_v1alpha1_TrainJob.json",
    ("trainer.kubeflow.org/v1alpha1", "ClusterTrainingRuntime"):
        "trainer.kubeflow.org_v1alpha1_ClusterTrainingRuntime.json",
    ("ray.io/v1", "RayJob"): "ray.io_v1_RayJob.json",
}
EXPERIMENT = ("kubeflow.org/v1beta1", "Experiment")


SERVED = {kind: api_version for api_version, kind in [*KINDS, EXPERIMENT]}


def knows(doc: dict[str, Any]) -> bool:
    """A kind we judge, at any version (a version we do not know is then an error, not a pass)."""
    return doc.get("kind") in SERVED and str(doc.get("apiVersion", "")).split("/")[0] == SERVED[doc["kind"]].split("/")[0]


def judge(documents: list[dict[str, Any]]) -> list[tuple[str, str]]:
    runtimes = dict(trainer.BUILTIN_RUNTIMES)
    runtimes.update({d["metadata"]["name"]: trainer.runtime_entry(d) for d in documents
                     if (d.get("apiVersion"), d.get("kind")) == ("trainer.kubeflow.org/v1alpha1",
                                                                  "ClusterTrainingRuntime")})
    found: list[tuple[str, str]] = []
    for doc in documents:
        if knows(doc):
            label = f"{doc['kind']}/{doc.get('metadata', {}).get('name')}"
            found += [(label, error) for error in _one(doc, runtimes)]
    return found


def _one(doc: dict[str, Any], runtimes: dict[str, dict[str, Any]]) -> list[str]:
    key = (doc["apiVersion"], doc["kind"])
    if doc["apiVersion"] != SERVED[doc["kind"]]:
        return [f".apiVersion: {doc['apiVersion']} is not served for {doc['kind']} (the judged version is "
                f"{SERVED[doc['kind']]})"]
    if key == EXPERIMENT:
        errors = swagger("kubeflow.org_v1beta1_Experiment.json", *EXPERIMENT).errors(doc)
        if errors:
            return errors
        errors = katib.experiment(doc)
        trial = katib.trial_spec(doc)
        if not errors and trial is not None and knows(trial):
            errors += [f"trialSpec: {e}" for e in _one(trial, runtimes)]
        return errors
    errors = crd(KINDS[key]).errors(doc)
    if errors:  # the rules read fields the schema guarantees
        return errors
    if doc["kind"] == "TrainJob":
        return trainer.trainjob(doc, runtimes)
    if doc["kind"] == "ClusterTrainingRuntime":
        return trainer.replicated_jobs(doc)
    return kuberay.rayjob(doc)
