"""Steps and everything a step is made of: run, inputs, outputs, resources, retries.

`defaults`, `pipeline.on_exit` and `kind: Component` are made of the step's own
fields (those with `inherit=True`, those with `on_exit=True`), so a step field
is written here once and reaches all four.
"""

from __future__ import annotations

from mlopsdsl.language import training
from mlopsdsl.language.table import (
    BOOL, SCALAR, STRING, TEXT, Def, Field, Section, any_of, enum, front_end, list_of, map_of, ref,
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

SCALAR_TYPE = Def("scalar_type", enum(VALUE_TYPES, title="Value type"))
OUTPUT_TYPE = Def("output_type", enum({**ARTIFACT_TYPES, **VALUE_TYPES}, title="Output type",
                                      **{"x-noun": "an output type like Dataset or float"}))
IDENTIFIER = ref("identifier")
RUN = Def("run", list_of(TEXT, minItems=1, title="Command"))
INPUT_VALUE = Def("input_value", {"type": ["string", "number", "boolean"], "title": "Input value"})
ENV = Def("env", map_of({"type": "string", "title": "Text"}, ref("env_name"), title="Environment variables",
                        examples=[{"LOG_LEVEL": "info"}]))

OUTPUT_OBJECT = Section("Output with fields", name="output_object", fields={
    "type": Field(OUTPUT_TYPE, "The artifact or value type of this output.", "Output.type", required=True),
    "fields": Field(map_of(SCALAR_TYPE, IDENTIFIER),
                    "Named scalar fields of a `Metrics` output, usable as `steps.S.outputs.O.FIELD` in "
                    "expressions.", "Output.fields", schema={"examples": [{"accuracy": "float"}]},
                    only_with={"type": ("Metrics",)}),
    "description": Field(STRING, "What this output holds.", "Output.description"),
})
OUTPUT = Def("output", {"anyOf": [OUTPUT_TYPE, OUTPUT_OBJECT], "title": "Output",
                        "x-noun": "an output type like Dataset, or a mapping {type, fields}"})
OUTPUTS = Def("outputs", map_of(OUTPUT, IDENTIFIER, title="Outputs"))

GPU_REQUEST = Section("GPU request", schema={"x-noun": "a mapping {count, type}"}, fields={
    "count": Field({"type": "integer", "minimum": 0}, "How many GPUs.", "Resources.gpu", required=True),
    "type": Field(TEXT, "The accelerator type, e.g. `nvidia-tesla-t4`; becomes a node selector.",
                  "Resources.gpu_type", schema={"examples": ["nvidia-tesla-t4"]}),
})
GPU = Def("gpu", {"anyOf": [{"type": "integer", "minimum": 0, "x-noun": "a number of GPUs"}, GPU_REQUEST],
                  "title": "GPU"})
TOLERATION = Section("Toleration", name="toleration", fields={
    "key": Field(TEXT, "The taint key to tolerate.", "Step.tolerations"),
    "operator": Field(enum({"Exists": "Any value of the key.", "Equal": "Only `value`."}),
                      "How the key is matched.", "Step.tolerations", default="Equal"),
    "value": Field(STRING, "The taint value.", "Step.tolerations", only_with={"operator": ("Equal",)}),
    "effect": Field(enum({"NoSchedule": "New pods are not scheduled on the node.",
                          "PreferNoSchedule": "The scheduler avoids the node when it can.",
                          "NoExecute": "Running pods are evicted too."}),
                    "Which taint effect is tolerated; empty = all.", "Step.tolerations"),
    "tolerationSeconds": Field({"type": "integer", "minimum": 0}, "How long a `NoExecute` taint is tolerated.",
                               "Step.tolerations"),
})
LIMITS = Section("Limits", name="limits", fields={
    "cpu": Field(ref("cpu"), "CPU limit.", "Resources.cpu_limit"),
    "memory": Field(ref("memory"), "Memory limit.", "Resources.memory_limit"),
})
_REQUESTS = {
    "cpu": Field(ref("cpu"), "CPU request: cores (`2`, `0.5`) or millicores (`500m`).", "Resources.cpu"),
    "memory": Field(ref("memory"), "Memory request: `512Mi`, `8Gi` (binary units; `8GB` is refused).",
                    "Resources.memory"),
    "gpu": Field(GPU, "GPUs: a count (`1`) or `{count, type}`.", "Resources.gpu"),
}
# One shape for a step's, a serving replica's and a variant's resources: KFP's container spec and a pod's
# take the same requests and limits.
RESOURCES = Section("Resources", name="resources", fields={
    **_REQUESTS,
    "limits": Field(LIMITS, "Upper bounds (requests come from `cpu`/`memory`).", "Resources",
                    docs_type="`{cpu, memory}`"),
}, schema={"examples": [{"cpu": "500m", "memory": "1Gi"}]})

RETRY_POLICY = Section("Retry policy", schema={"x-noun": "a mapping {count, backoff, max_backoff, factor}"}, fields={
    "count": Field({"type": "integer", "minimum": 0, "maximum": 100}, "How many times to retry.", "Retry.count"),
    "backoff": Field(ref("duration"), "Wait before the first retry.", "Retry.backoff"),
    "max_backoff": Field(ref("duration"), "The longest wait between retries.", "Retry.max_backoff"),
    "factor": Field({"type": "number", "minimum": 1}, "Multiply the wait by this after each retry.", "Retry.factor"),
})
RETRIES = Def("retries", {"anyOf": [{"type": "integer", "minimum": 0, "maximum": 100,
                                     "x-noun": "a number of retries"}, RETRY_POLICY], "title": "Retries"})

RUN_OR_USES = [{"required": ["run"]}, {"required": ["uses"]}]
STEP_SNIPPETS = [
    {"label": "run step", "description": "a step that runs a command",
     "body": {"run": ["python", "-m", "${1:package.module}"], "outputs": {"${2:result}": "${3:Dataset}"}}},
    {"label": "uses step", "description": "a step that calls a component file",
     "body": {"uses": "./components/${1:name}.yaml"}},
]

STEP_FIELDS: dict[str, Field] = {
    "description": Field(STRING, "What the step does (shown in the pipeline UI).", "Step.description"),
    "run": Field(RUN, "The command, as a list (no shell): `[python, -m, churn.train]`. Exactly one of `run` or "
                      "`uses`.", "Step.command", context="run_arg",
                 schema={"examples": [["python", "-m", "pkg.module"]]}),
    "uses": Field({"type": "string", "pattern": r"^\.{1,2}/.+\.ya?ml$",
                   "patternErrorMessage": "not a relative path to a component file; "
                                          "use e.g. ./components/register.yaml"},
                  "A reusable `kind: Component` file, relative to this spec. Exactly one of `run` or `uses`.",
                  "Step.component", docs_type="relative path to a `.yaml`",
                  schema={"examples": ["./components/register.yaml"]}),
    "inputs": Field(map_of(INPUT_VALUE, IDENTIFIER),
                    "Inputs by name: an upstream output `${{ steps.S.outputs.O }}`, a parameter, or a literal.",
                    "Step.inputs", context="step_input", docs_type="map identifier -> expr or literal",
                    schema={"examples": [{"data": "${{ steps.ingest.outputs.raw }}"}]}),
    "params": Field(map_of(INPUT_VALUE, IDENTIFIER), "Constant parameter values for a component (only with `uses`).",
                    "Step.inputs", context="text", docs_type="map identifier -> expr or literal"),
    "outputs": Field(OUTPUTS, "Outputs by name: a type (`Dataset`, `Model`, `Metrics`, `float`...) or "
                              "`{type, fields, description}`.", "Step.outputs",
                     docs_type="map identifier -> output", schema={"examples": [{"model": "Model"}]}),
    "image": Field(ref("image"), "The container image the step runs in.", "Step.image", inherit=True),
    "resources": Field(RESOURCES, "CPU, memory and GPU requests, and `limits`; merged with `defaults.resources` key by key.",
                       "Step.resources", inherit=True, merge=True,
                       docs_type="`{cpu, memory, gpu, limits}`"),
    "retries": Field(RETRIES, "Retries: a count (`2`) or `{count, backoff, max_backoff, factor}`.", "Step.retry",
                     inherit=True, docs_type="integer, or `{count, backoff, max_backoff, factor}`",
                     schema={"examples": [2]}),
    "cache": Field(BOOL, "Reuse the result of an identical earlier run; never for a step that reads a `uri:` data "
                         "source, nor for `on_exit` (docs/targets/kubeflow.md, \"What caching reuses\").",
                   "Step.cache", default=True, inherit=True),
    "timeout": Field(ref("duration"), "Fail the step after this long, e.g. `2h`.", "Step.timeout", inherit=True),
    "env": Field(ENV, "Environment variables; values are text and may use `${{ secrets.NAME }}`.", "Step.env",
                 inherit=True, merge=True, context="step_env", docs_type="map NAME -> text"),
    "when": Field(ref("expr"), "Run the step only when this expression is true.", "Step.when", on_exit=False,
                  context="step_when",
                  schema={"examples": ["${{ steps.evaluate.outputs.metrics.accuracy >= params.min_accuracy }}"]}),
    "after": Field(list_of(ref("step_name"), uniqueItems=True),
                   "Steps that must finish first, when there is no data edge between them.", "Step.after",
                   on_exit=False, schema={"examples": [["validate"]]}),
    "for_each": Field(any_of(ref("expr"), list_of(
                          any_of(SCALAR, map_of(SCALAR, IDENTIFIER, minProperties=1, **{"x-noun": "a mapping of values"})),
                          **{"x-noun": "a list of values or of mappings"})),
                      "Fan out: run once per item (an expression or a literal list); `${{ item }}` inside, "
                      "`${{ item.lr }}` for a field of a mapping item. A step that reads a value output of this "
                      "step gets the list of every item's value, in item order (a fan-in); a list of artifacts "
                      "cannot be read that way.", "ForEach.items", on_exit=False,
                      context="for_each", docs_type="expr, or a literal list (of values or of mappings)",
                      schema={"examples": ["${{ ['2024-Q1', '2024-Q2'] }}", [{"lr": 0.1, "depth": 3}]]}),
    "parallelism": Field({"type": "integer", "minimum": 1}, "With `for_each`: how many items run at once.",
                         "ForEach.parallelism", on_exit=False),
    "node_selector": Field(map_of(ref("label_value"), ref("label_key")), "Node labels the pod must land on.",
                           "Step.node_selector"),
    "tolerations": Field(list_of(TOLERATION), "Kubernetes tolerations, as in a pod spec.", "Step.tolerations",
                         docs_type="list of `{key, operator, value, effect, tolerationSeconds}`"),
    "pod_labels": Field(map_of(ref("label_value"), ref("label_key")), "Labels on the step's pods, and on the job "
                        "a `distributed` or `tune` step submits: a Kueue queue (`kueue.x-k8s.io/queue-name: "
                        "gpu-team-a`), cost attribution; merged with `defaults.pod_labels` key by key. mlopsdsl's "
                        "own labels win.", "Step.pod_labels", inherit=True, merge=True),
    **training.STEP_FIELDS,
}
# Step fields `defaults:` passes down (and a component provides) unless the step sets them.
INHERITED = tuple(key for key, f in STEP_FIELDS.items() if f.inherit)

_STEP_RULES = {"oneOf": RUN_OR_USES, "dependentRequired": {"params": ["uses"]}}
STEP = Section("Step", name="step", fields=STEP_FIELDS, schema={**_STEP_RULES, "defaultSnippets": STEP_SNIPPETS})
EXIT_STEP = Section("Exit step", name="exit_step", fields={k: f for k, f in STEP_FIELDS.items() if f.on_exit},
                    schema=_STEP_RULES)
DEFAULTS = Section("Defaults", name="defaults", fields={k: STEP_FIELDS[k] for k in INHERITED})

PIPELINE = Section("Pipeline", name="pipeline", fields={
    "description": Field(STRING, "What the pipeline does.", "Pipeline.description"),
    "steps": Field(map_of(STEP, ref("step_name"), minProperties=1),
                   "The steps by name (`[a-z][a-z0-9_-]*`, at most 40 characters). Order comes from data edges "
                   "(`inputs`) and `after`, not from the order written.", "Pipeline.steps", required=True,
                   docs_type="map step name -> step"),
    "on_exit": Field(EXIT_STEP, "A step that runs whatever happened (notify, clean up); no `when`, `for_each` or "
                                "`after`.", "Pipeline.on_exit", docs_type="step"),
    "schedule": Field(ref("cron"), "Run the pipeline on a schedule (cron, UTC): the kubeflow target writes a KFP "
                                   "recurring run (`kubeflow/recurring-run.yaml`). Every parameter then needs a "
                                   "default (MLD670).", "Pipeline.schedule"),
})

COMPONENT_INPUT = Section("Component input", schema={"x-noun": "a mapping {type, default, optional}"}, fields={
    "type": Field(OUTPUT_TYPE, "The input's type: an artifact type or `int|float|bool|str`.", "Input.type",
                  required=True),
    "default": Field({"type": ["string", "number", "boolean"]}, "The value when the caller gives none (an "
                     "artifact comes from an upstream step, never from a literal).", "Input.source",
                     only_with={"type": tuple(VALUE_TYPES)}),
    "optional": Field(BOOL, "The caller may leave it out.", front_end("decides whether a call must bind the input"),
                      default=False),
    "description": Field(STRING, "What the input is for.", front_end("documentation of the component file")),
})
COMPONENT = Section("Component", name="component", fields={
    "apiVersion": Field(ref("api_version"), "The language version: `mlopsdsl/v1`.",
                        front_end("selects the language version"), required=True),
    "kind": Field({"type": "string", "const": "Component"}, "`Component`: a reusable step in its own file.",
                  front_end("selects the document kind"), required=True),
    "metadata": Field(Section("Component metadata", fields={
        "name": Field(ref("dns_label"), "The component's name (DNS-1123 label).", front_end("names the file"),
                      required=True),
        "version": Field(ref("semver"), "The component's semantic version.", front_end("documentation")),
        "description": Field(STRING, "What the component does.", front_end("documentation")),
    }), "Name, version and description of the component.", front_end("documentation of the component file"),
        required=True),
    "inputs": Field(map_of({"anyOf": [OUTPUT_TYPE, COMPONENT_INPUT], "title": "Component input",
                            "x-noun": "a type like Model, or a mapping {type, default, optional}"}, IDENTIFIER),
                    "Inputs by name: a type, or `{type, default, optional, description}`.", "Step.inputs",
                    schema={"examples": [{"model": "Model"}]}),
    "outputs": Field(OUTPUTS, "Outputs by name, as a step's.", "Step.outputs"),
    "run": Field(RUN, "The command, as a list (no shell).", "Step.command", required=True, context="run_arg"),
    **{key: STEP_FIELDS[key] for key in INHERITED},
})
