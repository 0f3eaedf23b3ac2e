"""The A/B split: an InferenceGraph (serving.kserve.io/v1alpha1) whose root Splitter sends each
request to the primary InferenceService or to one of the variants, by integer weight.

Clients call the graph's URL for the experiment; each InferenceService stays reachable on its
own URL too (for shadow tests and for the rollout of the primary, which the split does not see:
the Splitter routes to the primary's service, and KServe splits that again between revisions).
"""

from __future__ import annotations

from typing import Any

from mlopsdsl.backends.kserve.isvc import DEPLOYMENT_MODE, MODE_ANNOTATION, Unsupported, metadata
from mlopsdsl.ir import Project, Serving

API_VERSION = "serving.kserve.io/v1alpha1"


def graph_name(serving: Serving) -> str:
    return f"{serving.name}-graph"


def split(serving: Serving, unsupported: Unsupported) -> list[tuple[str, int]]:
    """(InferenceService name, weight) for the primary then each variant, in spec order; sums to 100."""
    weights = [(serving.name, serving.primary_weight)]
    weights += [(f"{serving.name}-{v.name}", v.weight) for v in serving.variants]
    # Splitter weights are integers that must add up to exactly 100 (KServe's router refuses others).
    if any(w != int(w) or w <= 0 for _, w in weights):
        unsupported("a variant weight that is not a whole percent above 0%", serving.span,
                    "InferenceGraph Splitter weights are integers; the primary gets 100% minus the variants")
    return [(name, int(weight)) for name, weight in weights]


def inference_graph(project: Project, serving: Serving, unsupported: Unsupported) -> dict[str, Any]:
    steps = [{"name": name, "serviceName": name, "weight": weight} for name, weight in split(serving, unsupported)]
    meta = metadata(project, serving, graph_name(serving), "inference-graph")
    meta["annotations"] = {MODE_ANNOTATION: DEPLOYMENT_MODE[serving.deployment_mode]}
    return {
        "apiVersion": API_VERSION,
        "kind": "InferenceGraph",
        "metadata": meta,
        "spec": {"nodes": {"root": {"routerType": "Splitter", "steps": steps}}},
    }
