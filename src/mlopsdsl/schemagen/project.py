"""The sections of a `kind: Project` that describe the model and its inputs.

metadata, model, tracking, params, data, defaults and pipeline; the deployment
side (serving, monitoring, ci, environments, patches) is in `deploy.py`.
"""

from __future__ import annotations

from mlopsdsl.schemagen import deploy
from mlopsdsl.schemagen.kit import (
    NUMBER, STRING, TEXT, Schema, enum, field, labels, list_of, map_of, obj, ref,
)

TASKS = {
    "classification": "Predict a class.", "regression": "Predict a number.",
    "clustering": "Group similar items.", "ranking": "Order items by relevance.",
    "forecasting": "Predict future values of a time series.", "recommendation": "Suggest items to users.",
    "anomaly_detection": "Flag unusual items.", "nlp": "Text models.", "vision": "Image and video models.",
    "generative": "Models that generate text, images or audio.", "other": "Anything else.",
}
FRAMEWORKS = {
    "sklearn": "scikit-learn (served by KServe's sklearn runtime).",
    "xgboost": "XGBoost.", "lightgbm": "LightGBM.", "pytorch": "PyTorch (TorchServe).",
    "tensorflow": "TensorFlow SavedModel (TF Serving).", "onnx": "ONNX (Triton or ONNX Runtime).",
    "huggingface": "Hugging Face transformers (KServe's huggingface runtime).",
    "triton": "A Triton model repository.", "custom": "Your own serving image.",
}
COLUMN_TYPES = {"int": "Whole numbers.", "float": "Numbers.", "str": "Text.", "bool": "true/false.",
                "datetime": "Timestamps.", "category": "A small set of labels."}
DATA_FORMATS = {"parquet": "Apache Parquet.", "csv": "Comma-separated values.", "json": "JSON or JSON lines.",
                "tfrecord": "TensorFlow records.", "images": "A folder of images.", "text": "Plain text.",
                "other": "Anything else."}
PARAM_TYPES = {"int": "A whole number.", "float": "A number.", "bool": "true or false.", "str": "Text."}
LITERAL = {"type": ["string", "number", "boolean"]}


def _metadata() -> Schema:
    return obj({
        "name": field({**ref("dns_label"), "maxLength": 40},
                      "The project's name: a DNS-1123 label of at most 40 characters (generated Kubernetes "
                      "and pipeline names add suffixes)."),
        "version": field(ref("semver"), "The project's semantic version, e.g. `1.4.0`."),
        "description": field(STRING, "One line about the project."),
        "owners": field(list_of(TEXT), "Who owns it: emails or team names.", examples=[["ml-team@acme.example"]]),
        "labels": labels("Kubernetes labels copied onto every generated object."),
        "annotations": field(map_of(STRING, ref("label_key")), "Kubernetes annotations for generated objects."),
    }, required=("name",), title="Metadata")


def _model() -> Schema:
    return obj({
        "name": field(ref("dns_label"), "The model's name (DNS-1123 label).", examples=["churn-classifier"]),
        "task": field(enum(TASKS), "What the model does."),
        "framework": field(ref("framework"), "The ML framework: decides the artifact format and the serving runtime."),
        "description": field(STRING, "One line about the model."),
    }, title="Model")


def _tracking() -> Schema:
    return obj({
        "mlflow": field(obj({
            "uri": field(TEXT, "The MLflow tracking URI (`MLFLOW_TRACKING_URI`).",
                         examples=["http://mlflow.mlops.svc:5000"]),
            "experiment": field(TEXT, "The experiment name (`MLFLOW_EXPERIMENT_NAME`)."),
        }, required=("uri",), title="MLflow"), "MLflow tracking, injected into every step's environment."),
        "wandb": field(obj({
            "project": field(TEXT, "The W&B project."),
            "entity": field(TEXT, "The W&B team or user."),
            "api_key": field(ref("secret_ref"), "The API key, always as `${{ secrets.NAME }}`."),
        }, required=("project",), title="Weights & Biases"), "Weights & Biases tracking."),
    }, title="Tracking")


def _param() -> Schema:
    return obj({
        "type": field(enum(PARAM_TYPES), "The parameter's type."),
        "default": field(LITERAL, "The value used when a run does not override it."),
        "min": field(NUMBER, "Smallest allowed value (int and float)."),
        "max": field(NUMBER, "Largest allowed value (int and float)."),
        "choices": field(list_of(LITERAL, minItems=1), "The only allowed values."),
        "description": field(STRING, "What the parameter controls."),
    }, required=("type",), title="Parameter",
        defaultSnippets=[{"label": "float parameter", "description": "a typed parameter with a default",
                          "body": {"type": "float", "default": "^${1:0.1}"}}])


def _data_source() -> Schema:
    return obj({
        "uri": field(TEXT, "Where the data is: `s3://`, `gs://`, `https://` or a path. Exactly one of `uri` or "
                           "`dvc`.", examples=["s3://bucket/path/"]),
        "dvc": field(obj({
            "repo": field(TEXT, "The Git repository that tracks the data with DVC."),
            "path": field(TEXT, "The path of the data inside that repository."),
            "rev": field(TEXT, "A Git revision: tag, branch or commit."),
        }, required=("repo", "path"), title="DVC source"), "A DVC-tracked file. Exactly one of `uri` or `dvc`."),
        "schema": field(map_of(enum(COLUMN_TYPES)), "Columns and their types; drift `features` must be columns here.",
                        examples=[{"tenure": "int"}]),
        "format": field(enum(DATA_FORMATS), "The file format."),
        "description": field(STRING, "What the data is."),
    }, title="Data source", oneOf=[{"required": ["uri"]}, {"required": ["dvc"]}],
        defaultSnippets=[{"label": "uri source", "body": {"uri": "${1:s3://bucket/path/}", "format": "parquet"}}])


def _api_version() -> Schema:
    return {"type": "string", "const": "mlopsdsl/v1", "title": "API version"}


PROJECT_DOCS = {
    "metadata": "Name, version, owners and labels of the project.",
    "model": "What the model is: name, task and framework.",
    "tracking": "Experiment tracking (MLflow, Weights & Biases), injected into every step.",
    "params": "Typed pipeline parameters, overridable at run time (`${{ params.NAME }}`).",
    "data": "Named data sources (`${{ data.NAME }}`).",
    "defaults": "Settings applied to every step unless the step sets them.",
    "pipeline": "The training pipeline: steps and an exit handler.",
    "serving": "How the model is served (KServe InferenceService).",
    "monitoring": "Alerts, drift detection, dashboards and notifications.",
    "ci": "Continuous integration and delivery (GitHub Actions).",
    "environments": "Deployment environments and their per-environment overrides.",
    "patches": "Last-mile edits to generated files, for what the language does not model.",
}


def _project() -> Schema:
    sections: dict[str, Schema] = {
        "metadata": ref("metadata"), "model": ref("model"), "tracking": ref("tracking"),
        "params": map_of(ref("param"), ref("identifier"), title="Parameters"),
        "data": map_of(ref("data_source"), ref("identifier"), title="Data"),
        "defaults": ref("defaults"), "pipeline": ref("pipeline"), "serving": ref("serving"),
        "monitoring": ref("monitoring"), "ci": ref("ci"),
        "environments": map_of(ref("environment"), ref("environment_name"), title="Environments"),
        "patches": list_of(ref("patch"), title="Patches"),
    }
    props = {
        "apiVersion": field(ref("api_version"), "The language version: `mlopsdsl/v1`."),
        "kind": field({"type": "string", "const": "Project"}, "`Project`: a whole model lifecycle."),
        **{name: field(shape, PROJECT_DOCS[name]) for name, shape in sections.items()},
    }
    return obj(props, required=("apiVersion", "kind", "metadata"), title="Project")


def defs() -> dict[str, Schema]:
    return {
        "framework": enum(FRAMEWORKS, title="Framework"), "api_version": _api_version(), "metadata": _metadata(), "model": _model(), "tracking": _tracking(),
        "param": _param(), "data_source": _data_source(), "project": _project(), **deploy.defs(),
    }


KINDS = {"Project": "A whole model lifecycle: pipeline, serving, monitoring, CI.",
         "Component": "A reusable step in its own file, called with `uses:`."}


def root() -> Schema:
    """Project or Component, chosen by `kind` (a Project when `kind` is absent or unknown)."""
    return {
        "type": "object",
        "properties": {
            "apiVersion": field(ref("api_version"), "The language version: `mlopsdsl/v1`."),
            "kind": field(enum(KINDS), "`Project` (a whole model lifecycle) or `Component` (a reusable step)."),
        },
        "if": {"properties": {"kind": {"const": "Component"}}, "required": ["kind"]},
        "then": ref("component"),
        "else": ref("project"),
    }
