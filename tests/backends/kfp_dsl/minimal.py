"""The `minimal` project of projects.py, written with kfp's own DSL (run with the judges' venv).

    $CONFORMANCE_VENV/bin/python tests/backends/kfp_dsl/minimal.py OUT.yaml
(No `from __future__ import annotations`: kfp reads the component signatures.)
"""
import sys

from kfp import compiler, dsl
from kfp.dsl import ContainerSpec, Dataset, Input, Model, Output

IMAGE = "ghcr.io/acme/churn:1.4.0"


@dsl.container_component
def ingest(raw: Output[Dataset]):
    return ContainerSpec(image=IMAGE, command=["python", "-m", "churn.ingest", "--out", raw.path])


@dsl.container_component
def validate(data: Input[Dataset]):
    return ContainerSpec(image=IMAGE, command=["python", "-m", "churn.validate", data.path])


@dsl.container_component
def train(data: Input[Dataset], learning_rate: float, max_depth: int, model: Output[Model]):
    return ContainerSpec(image=IMAGE, command=[
        "python", "-m", "churn.train", "--data", data.path, "--lr", learning_rate,
        dsl.ConcatPlaceholder(["--depth=", max_depth]), "--model", model.path])


@dsl.pipeline(name="minimal", description="A minimal pipeline")
def minimal(learning_rate: float = 0.05, max_depth: int = 6, balanced: bool = True, device: str = "cuda"):
    raw = ingest()
    checked = validate(data=raw.outputs["raw"])
    train(data=raw.outputs["raw"], learning_rate=learning_rate, max_depth=max_depth).after(checked)


if __name__ == "__main__":
    compiler.Compiler().compile(minimal, sys.argv[1])
