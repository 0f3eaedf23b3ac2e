"""Steps and everything a step is made of: run, inputs, outputs, resources, retries.

`defaults`, `pipeline.on_exit` and `kind: Component` reuse these shapes, so
they are `$defs` referenced from every place rather than copies.
"""

from __future__ import annotations

from mlopsdsl.schemagen import training
from mlopsdsl.schemagen.kit import (
    BOOL, STRING, TEXT, Schema, enum, field, list_of, map_of, obj, ref,
)

ARTIFACT_TYPES = {
    "Dataset": "A data file or directory (tables, images, shards).",
    "Model": "A trained model; `serving.model` must point at one.",
    "Metrics": "Scalar metrics; declare `fields` to use them in `when` expressions.",
    "ClassificationMetrics": "Confusion matrix, ROC and PR curves (rendered by Kubeflow).",
    "HTML": "An HTML report shown in the pipeline UI.",
    "Markdown": "A Markdown report shown in the pipeline UI.",
    "Artifact": "Any other file.",
}
VALUE_TYPES = {
    "int": "A whole number (an output parameter: a value, not a file).",
    "float": "A number.",
    "bool": "true or false.",
    "str": "Text.",
}
SCALAR_TYPES = enum(VALUE_TYPES, title="Value type")

RUN = list_of(TEXT, minItems=1, title="Command")
INPUT_VALUE = {"type": ["string", "number", "boolean"], "title": "Input value"}


def _outputs() -> dict[str, Schema]:
    output_type = enum({**ARTIFACT_TYPES, **VALUE_TYPES}, title="Output type",
                       **{"x-noun": "an output type like Dataset or float"})
    output_object = obj({
        "type": field(ref("output_type"), "The artifact or value type of this output."),
        "fields": field(map_of(ref("scalar_type"), ref("identifier")),
                        "Named scalar fields of a `Metrics` output, usable as "
                        "`steps.S.outputs.O.FIELD` in expressions.", examples=[{"accuracy": "float"}]),
        "description": field(STRING, "What this output holds."),
    }, required=("type",), title="Output with fields")
    output = {"anyOf": [ref("output_type"), ref("output_object")], "title": "Output",
              "x-noun": "an output type like Dataset, or a mapping {type, fields}"}
    return {"output_type": output_type, "output_object": output_object, "output": output,
            "outputs": map_of(ref("output"), ref("identifier"), title="Outputs")}


def _resources() -> dict[str, Schema]:
    gpu = {"anyOf": [
        {"type": "integer", "minimum": 0, "x-noun": "a number of GPUs"},
        obj({"count": field({"type": "integer", "minimum": 0}, "How many GPUs."),
             "type": field(TEXT, "The accelerator type, e.g. `nvidia-tesla-t4`; becomes a node selector.",
                           examples=["nvidia-tesla-t4"])},
            required=("count",), title="GPU request", **{"x-noun": "a mapping {count, type}"}),
    ], "title": "GPU"}
    toleration = obj({
        "key": field(TEXT, "The taint key to tolerate."),
        "operator": field(enum({"Exists": "Any value of the key.", "Equal": "Only `value`."}),
                          "How the key is matched (default `Equal`)."),
        "value": field(STRING, "The taint value (with `operator: Equal`)."),
        "effect": field(enum({"NoSchedule": "New pods are not scheduled on the node.",
                               "PreferNoSchedule": "The scheduler avoids the node when it can.",
                               "NoExecute": "Running pods are evicted too."}),
                        "Which taint effect is tolerated; empty = all."),
        "tolerationSeconds": field({"type": "integer", "minimum": 0}, "How long a `NoExecute` taint is tolerated."),
    }, title="Toleration")
    common = {
        "cpu": field(ref("cpu"), "CPU request: cores (`2`, `0.5`) or millicores (`500m`)."),
        "memory": field(ref("memory"), "Memory request: `512Mi`, `8Gi` (binary units; `8GB` is refused)."),
        "gpu": field(ref("gpu"), "GPUs: a count (`1`) or `{count, type}`."),
    }
    limits = obj({"cpu": field(ref("cpu"), "CPU limit."), "memory": field(ref("memory"), "Memory limit.")},
                 title="Limits")
    serving = {**common, "limits": field(ref("limits"), "Upper bounds (requests come from `cpu`/`memory`).")}
    return {"gpu": gpu, "toleration": toleration, "limits": limits,
            "resources": obj(common, title="Resources", examples=[{"cpu": "500m", "memory": "1Gi"}]),
            "serving_resources": obj(serving, title="Serving resources")}


def _retries() -> Schema:
    long_form = obj({
        "count": field({"type": "integer", "minimum": 0, "maximum": 100}, "How many times to retry."),
        "backoff": field(ref("duration"), "Wait before the first retry."),
        "max_backoff": field(ref("duration"), "The longest wait between retries."),
        "factor": field({"type": "number", "minimum": 1}, "Multiply the wait by this after each retry."),
    }, title="Retry policy", **{"x-noun": "a mapping {count, backoff, max_backoff, factor}"})
    return {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 100, "x-noun": "a number of retries"},
                      long_form], "title": "Retries"}


# Keys that a step, `defaults`, `on_exit` and a component share, with their documentation.
COMMON = {
    "image": lambda: field(ref("image"), "The container image the step runs in."),
    "resources": lambda: field(ref("resources"), "CPU, memory and GPU requests."),
    "retries": lambda: field(ref("retries"), "Retries: a count (`2`) or `{count, backoff, max_backoff, factor}`.",
                             examples=[2]),
    "cache": lambda: field(BOOL, "Reuse the result of an identical earlier run (default `true`)."),
    "timeout": lambda: field(ref("duration"), "Fail the step after this long, e.g. `2h`."),
    "env": lambda: field(ref("env"), "Environment variables; values are text and may use `${{ secrets.NAME }}`."),
}


def _common(*names: str) -> dict[str, Schema]:
    return {name: COMMON[name]() for name in names}


def _step_properties() -> dict[str, Schema]:
    return {
        "description": field(STRING, "What the step does (shown in the pipeline UI)."),
        "run": field(ref("run"), "The command, as a list (no shell): `[python, -m, churn.train]`. "
                                 "Exactly one of `run` or `uses`.", examples=[["python", "-m", "pkg.module"]]),
        "uses": field({"type": "string", "pattern": r"^\.{1,2}/.+\.ya?ml$",
                       "patternErrorMessage": "not a relative path to a component file; "
                                              "use e.g. ./components/register.yaml"},
                      "A reusable `kind: Component` file, relative to this spec. Exactly one of `run` or `uses`.",
                      examples=["./components/register.yaml"]),
        "inputs": field(map_of(ref("input_value"), ref("identifier")),
                        "Inputs by name: an upstream output `${{ steps.S.outputs.O }}`, a parameter, or a literal.",
                        examples=[{"data": "${{ steps.ingest.outputs.raw }}"}]),
        "params": field(map_of(ref("input_value"), ref("identifier")),
                        "Constant parameter values for a component (only with `uses`)."),
        "outputs": field(ref("outputs"), "Outputs by name: a type (`Dataset`, `Model`, `Metrics`, `float`...) "
                                         "or `{type, fields, description}`.", examples=[{"model": "Model"}]),
        **_common("image", "resources", "retries", "cache", "timeout", "env"),
        "when": field(ref("expr"), "Run the step only when this expression is true.",
                      examples=["${{ steps.evaluate.outputs.metrics.accuracy >= params.min_accuracy }}"]),
        "after": field(list_of(ref("step_name"), uniqueItems=True),
                       "Steps that must finish first, when there is no data edge between them.",
                       examples=[["validate"]]),
        "for_each": field({"anyOf": [ref("expr"), list_of(
                              {"anyOf": [{"type": ["string", "number", "boolean"]},
                                         map_of({"type": ["string", "number", "boolean"]}, ref("identifier"),
                                                minProperties=1, **{"x-noun": "a mapping of values"})]},
                              **{"x-noun": "a list of values or of mappings"})]},
                          "Fan out: run once per item (an expression or a literal list); `${{ item }}` inside, "
                          "`${{ item.lr }}` for a field of a mapping item.",
                          examples=["${{ ['2024-Q1', '2024-Q2'] }}", [{"lr": 0.1, "depth": 3}]]),
        "parallelism": field({"type": "integer", "minimum": 1}, "With `for_each`: how many items run at once."),
        "node_selector": field(map_of(ref("label_value"), ref("label_key")), "Node labels the pod must land on."),
        "tolerations": field(list_of(ref("toleration")), "Kubernetes tolerations, as in a pod spec."),
        **{name: make() for name, make in training.STEP_FIELDS.items()},
    }


STEP_SNIPPETS = [
    {"label": "run step", "description": "a step that runs a command",
     "body": {"run": ["python", "-m", "${1:package.module}"], "outputs": {"${2:result}": "${3:Dataset}"}}},
    {"label": "uses step", "description": "a step that calls a component file",
     "body": {"uses": "./components/${1:name}.yaml"}},
]
RUN_OR_USES = [{"required": ["run"]}, {"required": ["uses"]}]


def _component() -> Schema:
    component_input = obj({
        "type": field(ref("output_type"), "The input's type: an artifact type or `int|float|bool|str`."),
        "default": field({"type": ["string", "number", "boolean"]}, "The value when the caller gives none."),
        "optional": field(BOOL, "The caller may leave it out (default `false`)."),
        "description": field(STRING, "What the input is for."),
    }, required=("type",), title="Component input", **{"x-noun": "a mapping {type, default, optional}"})
    return obj({
        "apiVersion": field(ref("api_version"), "The language version: `mlopsdsl/v1`."),
        "kind": field({"type": "string", "const": "Component"}, "`Component`: a reusable step in its own file."),
        "metadata": field(obj({
            "name": field(ref("dns_label"), "The component's name (DNS-1123 label)."),
            "version": field(ref("semver"), "The component's semantic version."),
            "description": field(STRING, "What the component does."),
        }, required=("name",), title="Component metadata"), "Name, version and description of the component."),
        "inputs": field(map_of({"anyOf": [ref("output_type"), component_input], "title": "Component input",
                                "x-noun": "a type like Model, or a mapping {type, default, optional}"},
                               ref("identifier")),
                        "Inputs by name: a type, or `{type, default, optional, description}`.",
                        examples=[{"model": "Model"}]),
        "outputs": field(ref("outputs"), "Outputs by name, as a step's."),
        "run": field(ref("run"), "The command, as a list (no shell)."),
        **_common("image", "resources", "env", "retries", "timeout", "cache"),
    }, required=("apiVersion", "kind", "metadata", "run"), title="Component")


def defs() -> dict[str, Schema]:
    step_props = _step_properties()
    exit_props = {k: v for k, v in step_props.items()
                  if k not in ("when", "after", "for_each", "parallelism", *training.STEP_FIELDS)}
    return {
        **_outputs(), **_resources(), **training.defs(),
        "retries": _retries(),
        "run": RUN,
        "input_value": INPUT_VALUE,
        "scalar_type": SCALAR_TYPES,
        "env": map_of({"type": "string", "title": "Text"}, ref("env_name"), title="Environment variables",
                      examples=[{"LOG_LEVEL": "info"}]),
        "step": obj(step_props, title="Step", oneOf=RUN_OR_USES, dependentRequired={"params": ["uses"]},
                    defaultSnippets=STEP_SNIPPETS),
        "exit_step": obj(exit_props, title="Exit step", oneOf=RUN_OR_USES, dependentRequired={"params": ["uses"]}),
        "defaults": obj(_common("image", "resources", "retries", "cache", "timeout", "env"), title="Defaults"),
        "pipeline": obj({
            "description": field(STRING, "What the pipeline does."),
            "steps": field(map_of(ref("step"), ref("step_name"), minProperties=1),
                           "The steps by name (`[a-z][a-z0-9_-]*`, at most 40 characters). Order comes from "
                           "data edges (`inputs`) and `after`, not from the order written."),
            "on_exit": field(ref("exit_step"), "A step that runs whatever happened (notify, clean up); "
                                               "no `when`, `for_each` or `after`."),
        }, required=("steps",), title="Pipeline"),
        "component": _component(),
    }
