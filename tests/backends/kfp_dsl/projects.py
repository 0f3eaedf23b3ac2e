"""Hand-built IR projects for the Kubeflow backend tests, each paired with `<name>.py` here:
the same pipeline written with kfp's own DSL, which the differential test compiles with kfp.

Built by hand (not from a spec) so these tests do not depend on the front end; once
`mlopsdsl.driver.build_ir` exists the examples are compiled from their specs as well.
"""

from __future__ import annotations

from mlopsdsl.ir import Project
from mlopsdsl.ir.expr import (Compare, DataRef, ItemRef, ListExpr, Lit, ParamRef, PathRef, StepOutputRef,
                              Template)
from mlopsdsl.ir.models import (DataSource, DvcSource, EnvVar, ForEach, Input, Output, Param, Pipeline,
                                Resources, Retry, Step, Tracking)
from mlopsdsl.source import Span

IMAGE = "ghcr.io/acme/churn:1.4.0"


def span(line: int) -> Span:
    return Span("churn.yaml", line, 7, line, 20)


def path(direction: str, name: str, attr: str = "path") -> Template:
    return Template(parts=(PathRef(type="str", direction=direction, name=name, attr=attr),))


def step(name: str, line: int, **kw) -> Step:
    kw.setdefault("image", IMAGE)
    kw.setdefault("command", ("python", "-m", f"churn.{name}"))
    return Step(name=name, id=name.replace("_", "-"), span=span(line), **kw)


def minimal() -> Project:
    """Params, three steps, artifacts, a data edge and an `after` edge."""
    ingest = step("ingest", 10, command=("python", "-m", "churn.ingest", "--out", path("output", "raw")),
                  outputs=(Output(name="raw", type="Dataset"),))
    validate = step("validate", 14, command=("python", "-m", "churn.validate", path("input", "data")),
                    inputs=(Input(name="data", type="Dataset",
                                  source=StepOutputRef(type="Dataset", step="ingest", output="raw")),),
                    depends_on=("ingest",))
    train = step("train", 18,
                 command=("python", "-m", "churn.train", "--data", path("input", "data"),
                          "--lr", Template(parts=(ParamRef(type="float", name="learning_rate"),)),
                          Template(parts=("--depth=", ParamRef(type="int", name="max_depth"))),
                          "--model", path("output", "model")),
                 inputs=(Input(name="data", type="Dataset",
                               source=StepOutputRef(type="Dataset", step="ingest", output="raw")),),
                 outputs=(Output(name="model", type="Model"),),
                 after=("validate",), depends_on=("ingest", "validate"))
    return Project(name="minimal", version="0.1.0", spec_path="minimal.yaml", description="A minimal pipeline",
                   params=(Param(name="learning_rate", type="float", default=0.05),
                           Param(name="max_depth", type="int", default=6),
                           Param(name="balanced", type="bool", default=True),
                           Param(name="device", type="str", default="cuda")),
                   pipeline=Pipeline(name="minimal", steps=(ingest, validate, train)))


def churn() -> Project:
    """The sketch's churn pipeline: conditions on metrics fields, a loop, an exit handler, data,
    retries, resources, GPUs, secrets, tracking."""
    ingest = step("ingest", 10, command=("python", "-m", "churn.ingest", "--src", path("input", "raw", "uri"),
                                         "--out", path("output", "table")),
                  inputs=(Input(name="raw", type="Dataset", source=DataRef(type="Dataset", name="raw")),),
                  outputs=(Output(name="table", type="Dataset"),), cache=False,
                  resources=Resources(cpu="500m", memory="1Gi"), retry=Retry(count=2))
    reference = step("check_reference", 14, command=("python", "-m", "churn.ref", path("input", "ref")),
                     inputs=(Input(name="ref", type="Dataset", source=DataRef(type="Dataset", name="reference")),))
    train = step("train", 20,
                 command=("python", "-m", "churn.train", "--train", path("input", "train"),
                          "--lr", Template(parts=(ParamRef(type="float", name="learning_rate"),)),
                          "--model", path("output", "model")),
                 inputs=(Input(name="train", type="Dataset",
                               source=StepOutputRef(type="Dataset", step="ingest", output="table")),),
                 outputs=(Output(name="model", type="Model"),), depends_on=("ingest",),
                 resources=Resources(cpu="4", memory="8Gi", cpu_limit="8", memory_limit="16Gi", gpu=1,
                                     gpu_type="nvidia-tesla-t4"),
                 node_selector={"node.kubernetes.io/instance-type": "g5.xlarge"},
                 pod_labels={"kueue.x-k8s.io/queue-name": "gpu-team-a", "team": "growth"},
                 tolerations=({"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"},),
                 retry=Retry(count=3, backoff=30.0, max_backoff=600.0, factor=2.0), timeout=7200.0,
                 env=(EnvVar(name="WANDB_API_KEY", secret="wandb_api_key"), EnvVar(name="LOG_LEVEL", value="info")))
    evaluate = step("evaluate", 30,
                    command=("python", "-m", "churn.evaluate", "--model", path("input", "model"),
                             "--metrics", path("output", "metrics"), "--threshold", path("output", "threshold")),
                    inputs=(Input(name="model", type="Model",
                                  source=StepOutputRef(type="Model", step="train", output="model")),),
                    outputs=(Output(name="metrics", type="Metrics", fields={"accuracy": "float", "f1": "float"}),
                             Output(name="threshold", type="float")),
                    depends_on=("train",))
    register = step("register", 40,
                    command=("python", "-m", "churn.register", path("input", "model", "uri"),
                             Template(parts=("--threshold=", PathRef(type="float", direction="input",
                                                                     name="threshold", attr="value"))),
                             "--stage", path("input", "stage", "value")),
                    inputs=(Input(name="model", type="Model",
                                  source=StepOutputRef(type="Model", step="train", output="model")),
                            Input(name="threshold", type="float",
                                  source=StepOutputRef(type="float", step="evaluate", output="threshold")),
                            Input(name="stage", type="str", source=Lit(type="str", value="Staging"))),
                    when=Compare(type="bool", op=">=",
                                 left=StepOutputRef(type="float", step="evaluate", output="metrics", field="accuracy"),
                                 right=ParamRef(type="float", name="min_accuracy")),
                    depends_on=("evaluate", "train"))
    backtest = step("backtest", 50,
                    command=("python", "-m", "churn.backtest", "--quarter",
                             Template(parts=(ItemRef(type="str"),)), "--model", path("input", "model")),
                    inputs=(Input(name="model", type="Model",
                                  source=StepOutputRef(type="Model", step="train", output="model")),),
                    for_each=ForEach(items=ListExpr(type="list[str]", items=tuple(
                        Lit(type="str", value=q) for q in ("2024-Q1", "2024-Q2", "2024-Q3"))), parallelism=2),
                    depends_on=("train",))
    notify = step("notify", 60, command=("python", "-m", "churn.notify", "--pipeline", "churn"),
                  env=(EnvVar(name="SLACK_WEBHOOK_URL", secret="slack_webhook"),))
    return Project(
        name="churn", version="1.4.0", spec_path="examples/churn/churn.yaml",
        description="Customer churn classifier",
        tracking=Tracking(mlflow_uri="http://mlflow.mlops.svc:5000", mlflow_experiment="churn"),
        params=(Param(name="learning_rate", type="float", default=0.05),
                Param(name="min_accuracy", type="float", default=0.85)),
        data=(DataSource(name="raw", uri="s3://acme-ml/churn/raw/"),
              DataSource(name="reference", dvc=DvcSource(repo="https://github.com/acme/churn-data",
                                                         path="data/reference.parquet", rev="v3"))),
        pipeline=Pipeline(name="churn", description="Ingest, train, evaluate, gate and register",
                          steps=(ingest, reference, train, evaluate, register, backtest), on_exit=notify))


PROJECTS = {"minimal": minimal, "churn": churn}
