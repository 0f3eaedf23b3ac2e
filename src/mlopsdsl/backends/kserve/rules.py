"""What the KServe target refuses, checked before anything is built (`KServeBackend.check`).

The support matrix and the admission rules are in `support.py`; this module reads
them off the IR and reports each broken rule at the value it is about, with the
rule's own code (MLD60x/61x), so `validate` says exactly what `compile --target
kserve` would refuse.
"""

from __future__ import annotations

from typing import Callable, Optional

from mlopsdsl.backends.base import codes
from mlopsdsl.backends.kserve import support
from mlopsdsl.ir import Project, Serving, Span

# (code, message, span, hint)
Report = Callable[[codes.Code, str, Span, Optional[str]], None]

LABEL_MAX = 63
# KServe names the predictor's Knative service `<isvc>-predictor` and revisions `<isvc>-predictor-00001`;
# the transformer likewise: the longest derived name must stay a 63-character DNS label.
DERIVED_SUFFIX = len("-transformer-00001")
# `<serving>-graph` and `<serving>-sa` name generated objects: a variant may not take them.
RESERVED_VARIANTS = ("graph", "sa")


def check(project: Project, report: Report) -> None:
    serving = project.serving
    if serving is None:
        return
    for problem in support.check_serving(
            serving.framework, serving.protocol, serving.runtime, serving.deployment_mode, serving.rollout.strategy,
            variant_frameworks=[v.framework for v in serving.variants],
            autoscale_metric=serving.autoscale_metric, autoscale_target=serving.autoscale_target) + \
            support.check_deployment(
                serving.framework, serving.protocol, serving.runtime, serving.deployment_mode,
                min_replicas=serving.min_replicas, max_replicas=serving.max_replicas,
                node_selector_at=_gpu_type_path(serving), knative_features=serving.knative_features,
                declared_grpc_port=serving.grpc_port, variant_frameworks=[v.framework for v in serving.variants]):
        report(problem.code, problem.message, project.locate(*problem.path), problem.hint)
    if not serving.storage_uri:
        # KServe accepts `storageUri: ""` and starts a server with no model in it: refuse instead.
        report(codes.STORAGE_URI_REQUIRED, "`serving` has no `storage_uri`: the InferenceService would load its "
               "model from an empty URI", project.locate("serving", key=True),
               "set `serving.storage_uri` to where the pipeline publishes the model "
               "(e.g. s3://bucket/models/NAME/${{ metadata.version }}/)")
    _names(project, serving, report)


def _names(project: Project, serving: Serving, report: Report) -> None:
    longest = LABEL_MAX - DERIVED_SUFFIX
    named = [(serving.name, ("serving", "name"), "the serving name")]
    for i, variant in enumerate(serving.variants):
        where = ("serving", "variants", i, "name")
        if variant.name in RESERVED_VARIANTS:
            report(codes.UNSUPPORTED, f"target 'kserve' does not support a variant named '{variant.name}'",
                   project.locate(*where), "rename the variant: the name is taken by a generated object")
        full = f"{serving.name}-{variant.name}"
        named.append((full, where, f"variant service '{full}'"))
    for name, where, what in named:
        if len(name) > longest:
            report(codes.NAME_TOO_LONG, f"{what} '{name}' is {len(name)} characters; at most {longest} fit once "
                   f"generated suffixes are added", project.locate(*where), f"shorten it to {longest} characters")


def _gpu_type_path(serving: Serving) -> Optional[tuple[str | int, ...]]:
    """Where a GPU type (which becomes a nodeSelector) is written, if anywhere."""
    if serving.resources.gpu and serving.resources.gpu_type:
        return ("serving", "resources", "gpu", "type")
    for i, variant in enumerate(serving.variants):
        if variant.resources.gpu and variant.resources.gpu_type:
            return ("serving", "variants", i, "resources", "gpu", "type")
    return None
