"""KServe target: InferenceServices for the served model and its A/B variants, the A/B
InferenceGraph, the storage ServiceAccount, and the model card.

Output (relative to `--out`), all applied together with `kubectl apply -f OUT/kserve/`:

    kserve/<serving>.yaml             the primary InferenceService (carries the rollout)
    kserve/<serving>-<variant>.yaml   one InferenceService per A/B variant
    kserve/<serving>-graph.yaml       the InferenceGraph splitting traffic (only with variants)
    kserve/<serving>-sa.yaml          ServiceAccount with the storage secret (only with storage_secret)
    kserve/SETUP.md                   what the cluster must provide (also printed after compile)
    model-card.md                     the model card (text, rendered by a sandboxed Jinja2)

What KServe refuses or cannot say is found by `check` (rules.py, over the support matrix in
support.py) before anything is built; the mapping and the rollout sequences are documented in
docs/targets/kserve.md.
"""

from __future__ import annotations

from mlopsdsl.backends.base import Artifact, Backend, decide
from mlopsdsl.backends.kserve import card, rules, setup
from mlopsdsl.backends.kserve import manifests as m
from mlopsdsl.ir import Project

__all__ = ["KServeBackend"]


class KServeBackend(Backend):
    name = "kserve"
    description = "KServe v0.20 InferenceServices, A/B InferenceGraph and the model card"
    decisions = {
        "Step": "n/a: the pipeline is the kubeflow target's; the model card names its steps from the spec",
        **decide("emit", "Serving", "name namespace storage_uri storage_secret framework protocol deployment_mode "
                                    "runtime grpc_port min_replicas max_replicas autoscale_metric autoscale_target "
                                    "resources transformer rollout variants"),
        **decide("n/a: which step made the model is lineage; the InferenceService loads `storage_uri` (MLD614 "
                 "without it)", "Serving", "model_step model_output"),
        "Serving.metrics": "n/a: where the monitoring target reads the service's metrics from",
        "Serving.knative_features": "n/a: what the cluster's Knative allows; it lifts the refusal of a GPU node "
                                    "selector on a serverless predictor, and nothing is written",
    }

    def check(self, project: Project) -> None:
        rules.check(project, self.warn)

    def compile(self, project: Project) -> list[Artifact]:
        artifacts = []
        serving = project.serving
        header = self.header(project)
        if serving is not None:
            def yaml(path: str, document: dict) -> Artifact:
                return Artifact(f"kserve/{path}.yaml", documents=(document,), header=header)

            if serving.storage_secret:
                artifacts.append(yaml(m.service_account_name(serving),
                                      m.service_account(project, serving)))
            artifacts.append(yaml(serving.name, m.inference_service(project, serving, self.unsupported)))
            for variant in serving.variants:
                document = m.inference_service(project, serving, self.unsupported, variant)
                artifacts.append(yaml(document["metadata"]["name"], document))
            if serving.variants:
                artifacts.append(yaml(m.graph_name(serving),
                                      m.inference_graph(project, serving, self.unsupported)))
            artifacts.append(setup.note(project, self.next_steps(project)))
        if project.model is not None:
            artifacts.append(Artifact("model-card.md", format="text", text=card.render_card(project)))
        # One artifact per path, in path order: the output never depends on build order.
        return sorted(artifacts, key=lambda a: a.path)

    def next_steps(self, project: Project) -> list[str]:
        return setup.checklist(project)
