"""Seldon Core v2 target for mlopsdsl: the serving section as `Model` and `Experiment` resources.

An out-of-core plugin: it is found through the `mlopsdsl.backends` entry point this
distribution declares, and it reads only the public plugin API, `mlopsdsl.ir` and
`mlopsdsl.backends.base` (a test in the core repository keeps it that way).

Output (relative to `--out`), applied together with `kubectl apply -f OUT/seldon/`:

    seldon/<serving>.yaml              the served model's Model (carries the rollout plan)
    seldon/<serving>-<variant>.yaml    one Model per A/B variant
    seldon/<serving>-experiment.yaml   the Experiment splitting traffic (only with variants)

The field mapping, and what is written approximately or refused, is in docs/plugins.md.
"""

from __future__ import annotations

from importlib import metadata as _metadata
from mlopsdsl.backends.base import Artifact, Backend
from mlopsdsl.ir import Project, Serving

from mlopsdsl_seldon import resources as r

__all__ = ["SeldonBackend"]

try:
    __version__ = _metadata.version("mlopsdsl-seldon")
except _metadata.PackageNotFoundError:  # imported from a source tree that was never installed
    __version__ = "0+unknown"

# Names the generated files take beside `<serving>-<variant>`: a variant may not claim them.
_RESERVED_VARIANTS = ("experiment",)


class SeldonBackend(Backend):
    name = "seldon"
    description = "Seldon Core v2 Models and the A/B Experiment (mlops.seldon.io/v1alpha1)"
    ir_major = 1

    def compile(self, project: Project) -> list[Artifact]:
        serving = project.serving
        if serving is None:
            return []
        self._serving_wide(serving)
        header = self.header(project)

        def yaml(document: dict) -> Artifact:
            return Artifact(f"seldon/{document['metadata']['name']}.yaml", documents=(document,), header=header)

        artifacts = [yaml(r.model(project, serving, self))]
        for variant in serving.variants:
            if variant.name in _RESERVED_VARIANTS:
                self.unsupported(f"a variant named '{variant.name}'", serving.span,
                                 "rename the variant: `<serving>-experiment` names the generated Experiment")
                continue
            artifacts.append(yaml(r.model(project, serving, self, variant)))
        if serving.variants:
            artifacts.append(yaml(r.experiment(project, serving, self)))
        # One artifact per path, in path order: the output never depends on build order.
        return sorted(artifacts, key=lambda a: a.path)

    def _serving_wide(self, serving: Serving) -> None:
        """The serving fields no Seldon resource has a place for: refused or approximated, once each."""
        if serving.transformer is not None:
            # Seldon's pre-processing is a Pipeline step that is itself a Model (an artifact on a
            # Server), never a container, so the transformer image is not deployed. The Model is
            # still written (it is what Seldon can serve), and the warning says plainly that
            # clients must now send model features, not the raw requests the transformer took.
            self.approximated(
                f"the transformer container ({serving.transformer.image}) is not deployed: Seldon Core v2 "
                "pre-processes with a Pipeline whose first step is a Model, so requests must carry model "
                "features", serving.span,
                "package the transformer as an MLServer custom model and add a Seldon Pipeline with a patch, "
                "or serve this spec with the kserve target")
        if serving.protocol == "v1":
            self.approximated(
                "Seldon Core v2 serves the Open Inference Protocol (v2) only, over REST and gRPC; "
                "`protocol: v1` clients must call /v2/models/<name>/infer instead of /v1/models/<name>:predict",
                serving.span, "write `protocol: v2` to make the target's protocol explicit")
        if serving.autoscale_metric is not None:
            target = f" {serving.autoscale_target:g}" if serving.autoscale_target is not None else ""
            self.approximated(
                f"autoscaling on {serving.autoscale_metric}{target} becomes Seldon's own model autoscaling "
                f"between minReplicas {serving.min_replicas} and maxReplicas {serving.max_replicas} "
                f"(driven by inference lag and idle time, not by the named metric)", serving.span)
