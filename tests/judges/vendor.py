"""Regenerate the vendored schemas from upstream checkouts (see SOURCES.md for tags and commits).

    python tests/judges/vendor.py --trainer DIR --kuberay DIR --katib DIR

Each DIR is a git clone; the files are read at the pinned tag with `git show`, so the working
tree's state does not matter. Descriptions are dropped (they are most of the bytes and judge
nothing); everything else, including the CEL `x-kubernetes-validations`, is kept as upstream wrote it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import yaml

HERE = Path(__file__).parent / "schemas"
TRAINER_TAG, KUBERAY_TAG, KATIB_TAG = "v2.3.0", "v1.7.0", "v0.19.0"
CRDS = {  # output name -> (repo option, tag, path)
    "trainer.kubeflow.org_v1alpha1_TrainJob.json":
        ("trainer", TRAINER_TAG, "manifests/base/crds/trainer.kubeflow.org_trainjobs.yaml"),
    "trainer.kubeflow.org_v1alpha1_ClusterTrainingRuntime.json":
        ("trainer", TRAINER_TAG, "manifests/base/crds/trainer.kubeflow.org_clustertrainingruntimes.yaml"),
    "ray.io_v1_RayJob.json": ("kuberay", KUBERAY_TAG, "ray-operator/config/crd/bases/ray.io_rayjobs.yaml"),
}
# Upstream's own objects, kept verbatim: a judge that refuses them is wrong, not they.
SAMPLES = {
    "torch_distributed.yaml": ("trainer", TRAINER_TAG, "manifests/base/runtimes/torch_distributed.yaml"),
    "deepspeed_distributed.yaml": ("trainer", TRAINER_TAG, "manifests/base/runtimes/deepspeed_distributed.yaml"),
    "ray-job.pytorch-mnist.yaml": ("kuberay", KUBERAY_TAG,
                                   "ray-operator/config/samples/pytorch-mnist/ray-job.pytorch-mnist.yaml"),
    "katib-random.yaml": ("katib", KATIB_TAG, "examples/v1beta1/hp-tuning/random.yaml"),
    "katib-trainjob-pytorch.yaml": ("katib", KATIB_TAG, "examples/v1beta1/kubeflow-trainer/trainjob-pytorch.yaml"),
}
KATIB_SWAGGER = "api/openapi-spec/swagger.json"
KATIB_ROOT = "v1beta1.Experiment"


def strip(node, *, names: bool = False):
    """Drop `description` annotations; under `properties` the keys are field names and all stay."""
    if isinstance(node, dict):
        return {k: strip(v, names=k == "properties" and not names) for k, v in node.items()
                if names or k != "description"}
    if isinstance(node, list):
        return [strip(x) for x in node]
    return node


def show(repo: Path, tag: str, path: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "show", f"{tag}:{path}"], check=True,
                          capture_output=True, text=True).stdout


def crd_schema(text: str) -> dict:
    crd = yaml.safe_load(text)
    (version,) = [v for v in crd["spec"]["versions"] if v.get("storage")]  # the version we emit
    return {"group": crd["spec"]["group"], "kind": crd["spec"]["names"]["kind"], "version": version["name"],
            "scope": crd["spec"]["scope"], "openAPIV3Schema": strip(version["schema"]["openAPIV3Schema"])}


def katib_closure(text: str) -> dict:
    """The Experiment definition and every definition it references, transitively."""
    schemas = json.loads(text)["components"]["schemas"]

    def refs(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    yield value.rsplit("/", 1)[-1]
                else:
                    yield from refs(value)
        elif isinstance(node, list):
            for item in node:
                yield from refs(item)

    seen: set[str] = set()
    stack = [KATIB_ROOT]
    while stack:
        name = stack.pop()
        if name not in seen:
            seen.add(name)
            stack.extend(refs(schemas[name]))
    return {"root": KATIB_ROOT, "schemas": {name: strip(schemas[name]) for name in sorted(seen)}}


def write(name: str, data: dict) -> None:
    (HERE / name).write_text(json.dumps(data, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser()
    for option in ("trainer", "kuberay", "katib"):
        parser.add_argument(f"--{option}", type=Path, required=True)
    args = parser.parse_args()
    for name, (repo, tag, path) in CRDS.items():
        write(name, crd_schema(show(getattr(args, repo), tag, path)))
    for name, (repo, tag, path) in SAMPLES.items():
        (HERE.parent / "samples" / name).write_text(show(getattr(args, repo), tag, path), encoding="utf-8")
    write("kubeflow.org_v1beta1_Experiment.json", katib_closure(show(args.katib, KATIB_TAG, KATIB_SWAGGER)))


if __name__ == "__main__":
    main()
