"""The sections of a `kind: Project` that describe the model and its inputs, and the root.

metadata, model, tracking, params and data are here; steps (defaults, pipeline,
components) in `steps.py`; serving in `serving.py`; monitoring in
`monitoring.py`; ci, environments and patches in `delivery.py`.
"""

from __future__ import annotations

from mlopsdsl.language import delivery, monitoring, serving, steps
from mlopsdsl.language.table import (
    NUMBER, SCALAR, STRING, TEXT, Def, Field, Section, enum, front_end, labels, list_of, map_of, ref,
)

TASKS = {
    "classification": "Predict a class.", "regression": "Predict a number.",
    "clustering": "Group similar items.", "ranking": "Order items by relevance.",
    "forecasting": "Predict future values of a time series.", "recommendation": "Suggest items to users.",
    "anomaly_detection": "Flag unusual items.", "nlp": "Text models.", "vision": "Image and video models.",
    "generative": "Models that generate text, images or audio.", "other": "Anything else.",
}
COLUMN_TYPES = {"int": "Whole numbers.", "float": "Numbers.", "str": "Text.", "bool": "true/false.",
                "datetime": "Timestamps.", "category": "A small set of labels."}
DATA_FORMATS = {"parquet": "Apache Parquet.", "csv": "Comma-separated values.", "json": "JSON or JSON lines.",
                "tfrecord": "TensorFlow records.", "images": "A folder of images.", "text": "Plain text.",
                "other": "Anything else."}
PARAM_TYPES = {"int": "A whole number.", "float": "A number.", "bool": "true or false.", "str": "Text."}
API_VERSION = Def("api_version", {"type": "string", "const": "mlopsdsl/v1", "title": "API version"})


METADATA = Section("Metadata", name="metadata", fields={
    "name": Field({**ref("dns_label"), "maxLength": 40},
                  "The project's name: a DNS-1123 label of at most 40 characters (generated Kubernetes and "
                  "pipeline names add suffixes).", "Project.name", required=True,
                  docs_type="DNS-1123 label, at most 40 characters"),
    "version": Field(ref("semver"), "The project's semantic version, e.g. `1.4.0`.", "Project.version",
                     default="0.0.0"),
    "description": Field(STRING, "One line about the project.", "Project.description"),
    "owners": Field(list_of(TEXT), "Who owns it: emails or team names.", "Project.owners",
                    schema={"examples": [["ml-team@acme.example"]]}),
    "labels": labels("Kubernetes labels copied onto every generated object.", "Project.labels"),
    "annotations": Field(map_of(STRING, ref("label_key")), "Kubernetes annotations for generated objects.",
                         "Project.annotations", docs_type="map label key -> text"),
})

MODEL = Section("Model", name="model", fields={
    "name": Field(ref("dns_label"), "The model's name (DNS-1123 label).", "ModelInfo.name",
                  schema={"examples": ["churn-classifier"]}),
    "task": Field(enum(TASKS), "What the model does.", "ModelInfo.task", default="other"),
    "framework": Field(serving.FRAMEWORK, "The ML framework: decides the artifact format and the serving runtime.",
                       "ModelInfo.framework", default="custom"),
    "description": Field(STRING, "One line about the model.", "ModelInfo.description"),
})

TRACKING = Section("Tracking", name="tracking", fields={
    "mlflow": Field(Section("MLflow", fields={
        "uri": Field(TEXT, "The MLflow tracking URI (`MLFLOW_TRACKING_URI`).", "Tracking.mlflow_uri", required=True,
                     schema={"examples": ["http://mlflow.mlops.svc:5000"]}),
        "experiment": Field(TEXT, "The experiment name (`MLFLOW_EXPERIMENT_NAME`).", "Tracking.mlflow_experiment"),
        "token": Field(ref("secret_ref"), "A bearer token for the tracking server (`MLFLOW_TRACKING_TOKEN`), as "
                       "`${{ secrets.NAME }}` or `${{ secrets.NAME.KEY }}`.", "Tracking.credentials",
                       context="secret_ref"),
        "username": Field(ref("secret_ref"), "Basic auth user (`MLFLOW_TRACKING_USERNAME`), a secret as `token`; "
                          "with `password`, instead of `token` (MLD611).", "Tracking.credentials",
                          context="secret_ref"),
        "password": Field(ref("secret_ref"), "Basic auth password (`MLFLOW_TRACKING_PASSWORD`), a secret as `token`.",
                          "Tracking.credentials", context="secret_ref"),
    }, schema={"dependentRequired": {"username": ["password"], "password": ["username"]}}),
        "MLflow tracking, injected into every step's environment, credentials included.", "Tracking",
        docs_type="`{uri, experiment, token, username, password}`"),
    "wandb": Field(Section("Weights & Biases", fields={
        "project": Field(TEXT, "The W&B project.", "Tracking.wandb_project", required=True),
        "entity": Field(TEXT, "The W&B team or user.", "Tracking.wandb_entity"),
        "api_key": Field(ref("secret_ref"), "The API key (`WANDB_API_KEY`), always as `${{ secrets.NAME }}` or "
                         "`${{ secrets.NAME.KEY }}`.", "Tracking.credentials", context="secret_ref"),
    }), "Weights & Biases tracking.", "Tracking", docs_type="`{project, entity, api_key}`"),
})

PARAM = Section("Parameter", name="param", schema={"defaultSnippets": [
    {"label": "float parameter", "description": "a typed parameter with a default",
     "body": {"type": "float", "default": "^${1:0.1}"}}]}, fields={
    "type": Field(enum(PARAM_TYPES), "The parameter's type.", "Param.type", required=True),
    "default": Field(SCALAR, "The value used when a run does not override it.", "Param.default",
                     docs_type="a literal of that type"),
    "min": Field(NUMBER, "Smallest allowed value (int and float).", "Param.min"),
    "max": Field(NUMBER, "Largest allowed value (int and float).", "Param.max"),
    "choices": Field(list_of(SCALAR, minItems=1), "The only allowed values.", "Param.choices",
                     docs_type="list of literals"),
    "description": Field(STRING, "What the parameter controls.", "Param.description"),
})

DATA_SOURCE = Section("Data source", name="data_source", schema={
    "oneOf": [{"required": ["uri"]}, {"required": ["dvc"]}],
    "defaultSnippets": [{"label": "uri source", "body": {"uri": "${1:s3://bucket/path/}", "format": "parquet"}}]},
    fields={
        "uri": Field(TEXT, "Where the data is: `s3://`, `gs://`, `https://` or a path. Exactly one of `uri` or `dvc`.",
                     "DataSource.uri", schema={"examples": ["s3://bucket/path/"]}),
        "dvc": Field(Section("DVC source", fields={
            "repo": Field(TEXT, "The Git repository that tracks the data with DVC.", "DvcSource.repo", required=True),
            "path": Field(TEXT, "The path of the data inside that repository.", "DvcSource.path", required=True),
            "rev": Field(TEXT, "A Git revision: tag, branch or commit.", "DvcSource.rev", default="HEAD"),
            "env": Field(steps.ENV, "The environment of the `dvc get` that fetches it (the kubeflow fetch step, the "
                         "drift job): the DVC remote's credentials, e.g. `AWS_ACCESS_KEY_ID: "
                         "${{ secrets.dvc_remote.access_key }}`.", "DvcSource.env", context="source_env",
                         docs_type="map NAME -> text"),
        }), "A DVC-tracked file. Exactly one of `uri` or `dvc`.", "DataSource.dvc",
            docs_type="`{repo, path, rev, env}`"),
        "schema": Field(map_of(enum(COLUMN_TYPES)), "Columns and their types; drift `features` must be columns here.",
                        "DataSource.columns", docs_type="map column -> type",
                        schema={"examples": [{"tenure": "int"}]}),
        "format": Field(enum(DATA_FORMATS), "The file format.", "DataSource.format"),
        "description": Field(STRING, "What the data is.", "DataSource.description"),
    })

_DOCUMENT_HEAD = {
    "apiVersion": Field(API_VERSION, "The language version: `mlopsdsl/v1`.", front_end("selects the language version"),
                        required=True),
}

PROJECT = Section("Project", name="project", fields={
    **_DOCUMENT_HEAD,
    "kind": Field({"type": "string", "const": "Project"}, "`Project`: a whole model lifecycle.",
                  front_end("selects the document kind"), required=True),
    "metadata": Field(METADATA, "Name, version, owners and labels of the project.", "Project", required=True),
    "model": Field(MODEL, "What the model is: name, task and framework.", "Project.model"),
    "tracking": Field(TRACKING, "Experiment tracking (MLflow, Weights & Biases), injected into every step.",
                      "Project.tracking"),
    "params": Field(map_of(PARAM, ref("identifier"), title="Parameters"),
                    "Typed pipeline parameters, overridable at run time (`${{ params.NAME }}`).", "Project.params"),
    "data": Field(map_of(DATA_SOURCE, ref("identifier"), title="Data"), "Named data sources (`${{ data.NAME }}`).",
                  "Project.data"),
    "defaults": Field(steps.DEFAULTS, "Settings applied to every step unless the step sets them.", "Step"),
    "pipeline": Field(steps.PIPELINE, "The training pipeline: steps and an exit handler.", "Project.pipeline"),
    "serving": Field(serving.SERVING, "How the model is served (KServe InferenceService).", "Project.serving"),
    "monitoring": Field(monitoring.MONITORING, "Alerts, drift detection, dashboards and notifications.",
                        "Project.monitoring"),
    "ci": Field(delivery.CI, "Continuous integration and delivery (GitHub Actions).", "Project.ci"),
    "environments": Field(map_of(delivery.ENVIRONMENT, delivery.ENVIRONMENT_NAME, title="Environments"),
                          "Deployment environments and their per-environment overrides.", "Project.environments"),
    "patches": Field(list_of(delivery.PATCH, title="Patches"),
                     "Last-mile edits to generated files, for what the language does not model.", "Project.patches"),
})

KINDS = {"Project": "A whole model lifecycle: pipeline, serving, monitoring, CI.",
         "Component": "A reusable step in its own file, called with `uses:`."}
ROOT_HEAD = {
    **_DOCUMENT_HEAD,
    "kind": Field(enum(KINDS), "`Project` (a whole model lifecycle) or `Component` (a reusable step).",
                  front_end("selects the document kind")),
}
