"""The `churn` project of projects.py, written with kfp's own DSL (run with the judges' venv).

    $CONFORMANCE_VENV/bin/python tests/backends/kfp_dsl/churn.py OUT.yaml
The metrics fields mlopsdsl extracts into output parameters (`metrics__accuracy`) are
declared here as plain output parameters, which is what the generated component exposes.
(No `from __future__ import annotations`: kfp reads the component signatures.)
"""
import sys
from typing import List

from kfp import compiler, dsl, kubernetes
from kfp.dsl import ContainerSpec, Dataset, Input, Metrics, Model, Output, OutputPath

IMAGE = "ghcr.io/acme/churn:1.4.0"
TRACKING = {"MLFLOW_EXPERIMENT_NAME": "churn", "MLFLOW_TRACKING_URI": "http://mlflow.mlops.svc:5000"}


@dsl.container_component
def fetch_reference(data: Output[Dataset]):
    return ContainerSpec(image="iterativeai/cml:0-dvc3-base1", command=[
        "dvc", "get", "--rev", "v3", "https://github.com/acme/churn-data", "data/reference.parquet",
        "-o", data.path])


@dsl.container_component
def ingest(raw: str, table: Output[Dataset]):
    # read only by URI: a string parameter, not an artifact the launcher would download
    return ContainerSpec(image=IMAGE, command=["python", "-m", "churn.ingest", "--src", raw,
                                               "--out", table.path])


@dsl.container_component
def check_reference(ref: Input[Dataset]):
    return ContainerSpec(image=IMAGE, command=["python", "-m", "churn.ref", ref.path])


@dsl.container_component
def train(train: Input[Dataset], learning_rate: float, model: Output[Model]):
    return ContainerSpec(image=IMAGE, command=["python", "-m", "churn.train", "--train", train.path,
                                               "--lr", learning_rate, "--model", model.path])


@dsl.container_component
def evaluate(model: Input[Model], metrics: Output[Metrics], threshold: OutputPath(float),
             metrics__accuracy: OutputPath(float), metrics__f1: OutputPath(float)):
    return ContainerSpec(image=IMAGE, command=["python", "-m", "churn.evaluate", "--model", model.path,
                                               "--metrics", metrics.path, "--threshold", threshold])


@dsl.container_component
def register(model: Input[Model], threshold: float, stage: str):
    return ContainerSpec(image=IMAGE, command=["python", "-m", "churn.register", model.uri,
                                               dsl.ConcatPlaceholder(["--threshold=", threshold]),
                                               "--stage", stage])


@dsl.container_component
def backtest(model: Input[Model], item: str):
    return ContainerSpec(image=IMAGE, command=["python", "-m", "churn.backtest", "--quarter", item,
                                               "--model", model.path])


@dsl.container_component
def notify():
    return ContainerSpec(image=IMAGE, command=["python", "-m", "churn.notify", "--pipeline", "churn"])


def tracked(task, **env):
    for name, value in sorted({**TRACKING, **env}.items()):
        task.set_env_variable(name, value)
    return task


@dsl.pipeline(name="churn", description="Ingest, train, evaluate, gate and register")
def churn(learning_rate: float = 0.05, min_accuracy: float = 0.85):
    done = tracked(notify())
    done.set_caching_options(False)  # the exit step is never cached
    kubernetes.use_secret_as_env(done, secret_name="slack-webhook",
                                 secret_key_to_env={"slack_webhook": "SLACK_WEBHOOK_URL"})
    with dsl.ExitHandler(done):
        reference = fetch_reference()
        ingested = tracked(ingest(raw="s3://acme-ml/churn/raw/"))
        ingested.set_caching_options(False).set_cpu_request("500m").set_memory_request("1Gi")
        ingested.set_retry(num_retries=2)
        tracked(check_reference(ref=reference.outputs["data"]))
        trained = tracked(train(train=ingested.outputs["table"], learning_rate=learning_rate), LOG_LEVEL="info")
        trained.set_cpu_request("4").set_memory_request("8Gi").set_cpu_limit("8").set_memory_limit("16Gi")
        trained.set_accelerator_type("nvidia.com/gpu").set_accelerator_limit(1)
        trained.set_retry(num_retries=3, backoff_duration="30s", backoff_factor=2.0, backoff_max_duration="600s")
        kubernetes.set_timeout(trained, 7200)
        kubernetes.use_secret_as_env(trained, secret_name="wandb-api-key",
                                     secret_key_to_env={"wandb_api_key": "WANDB_API_KEY"})
        kubernetes.add_node_selector(trained, "cloud.google.com/gke-accelerator", "nvidia-tesla-t4")
        kubernetes.add_node_selector(trained, "node.kubernetes.io/instance-type", "g5.xlarge")
        kubernetes.add_toleration(trained, key="nvidia.com/gpu", operator="Exists", effect="NoSchedule")
        kubernetes.add_pod_label(trained, "kueue.x-k8s.io/queue-name", "gpu-team-a")
        kubernetes.add_pod_label(trained, "team", "growth")
        scored = tracked(evaluate(model=trained.outputs["model"]))
        with dsl.If(scored.outputs["metrics__accuracy"] >= min_accuracy):
            tracked(register(model=trained.outputs["model"], threshold=scored.outputs["threshold"], stage="Staging"))
        with dsl.ParallelFor(["2024-Q1", "2024-Q2", "2024-Q3"], parallelism=2) as quarter:
            tracked(backtest(model=trained.outputs["model"], item=quarter))


if __name__ == "__main__":
    compiler.Compiler().compile(churn, sys.argv[1])
