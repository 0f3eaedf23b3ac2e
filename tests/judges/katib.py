"""Katib v0.19.0 Experiment admission rules, ported from
`pkg/webhook/v1beta1/experiment/validator/validator.go` (`ValidateExperiment` on create). Katib's
CRD carries no schema, so these rules and the swagger definitions are all the API says.

The algorithm names are those `manifests/v1beta1/installs/katib-standalone/katib-config.yaml`
configures (the webhook refuses a name without a suggestion config); the trial-parameter
placeholder format is `consts.TrialTemplateParamReplaceFormat` (`${trialParameters.NAME}`).
"""

from __future__ import annotations

import json
import re
from typing import Any

SUGGESTIONS = {"random", "tpe", "grid", "hyperband", "bayesianoptimization", "cmaes", "sobol",
               "multivariate-tpe", "enas", "darts", "pbt"}
EARLY_STOPPING = {"medianstop"}
PARAMETER_TYPES = {"int", "double", "categorical", "discrete", "unknown"}
DISTRIBUTIONS = {"uniform", "logUniform", "normal", "logNormal", "unknown"}
COLLECTORS = {"StdOut", "File", "TensorFlowEvent", "PrometheusMetric", "Custom", "None", "Push"}
NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?")  # unanchored at the end, as in the webhook
PLACEHOLDER = re.compile(r"\$\{trialParameters\..+?\}")
META_REFERENCE = re.compile(r"\$\{trialSpec\.(.+?)\}")


# experiment_defaults.go `setDefaultTrialTemplate`: the mutating webhook runs before validation.
CONDITIONS = {"Job": ("status.conditions.#(type==\"Complete\")#|#(status==\"True\")#",
                      "status.conditions.#(type==\"Failed\")#|#(status==\"True\")#"),
              "TrainJob": ("status.conditions.#(type==\"Complete\")#|#(status==\"True\")#",
                           "status.conditions.#(type==\"Failed\")#|#(status==\"True\")#")}


def defaulted(exp: dict[str, Any]) -> dict[str, Any]:
    exp = json.loads(json.dumps(exp))
    template = exp.get("spec", {}).get("trialTemplate") or {}
    kind = (template.get("trialSpec") or {}).get("kind")
    if kind in CONDITIONS:
        template.setdefault("successCondition", CONDITIONS[kind][0])
        template.setdefault("failureCondition", CONDITIONS[kind][1])
    return exp


def experiment(exp: dict[str, Any]) -> list[str]:
    exp = defaulted(exp)
    name = exp["metadata"].get("name", "")
    spec = exp["spec"]
    errors = []
    if not NAME.match(name) or len(name) > 40:
        errors.append(".metadata.name: must be a DNS-1035 style name of at most 40 characters")
    most, parallel, failed = spec.get("maxTrialCount"), spec.get("parallelTrialCount"), spec.get("maxFailedTrialCount")
    if failed is not None and failed < 0:
        errors.append(".spec.maxFailedTrialCount: should not be less than 0")
    if most is not None and most <= 0:
        errors.append(".spec.maxTrialCount: must be greater than 0")
    if parallel is not None and parallel <= 0:
        errors.append(".spec.parallelTrialCount: must be greater than 0")
    if most is not None and failed is not None and failed > most:
        errors.append(".spec.maxFailedTrialCount: should be less than or equal to spec.maxTrialCount")
    if most is not None and parallel is not None and parallel > most:
        errors.append(".spec.parallelTrialCount: should be less than or equal to spec.maxTrialCount")
    objective = spec.get("objective")
    if objective is None:
        return [*errors, ".spec.objective: must be specified"]
    if objective.get("type") not in ("minimize", "maximize"):
        errors.append(".spec.objective.type: must be minimize or maximize")
    if not objective.get("objectiveMetricName"):
        errors.append(".spec.objective.objectiveMetricName: must be specified")
    if objective.get("objectiveMetricName") in objective.get("additionalMetricNames", []):
        errors.append(".spec.objective.additionalMetricNames: should not contain spec.objective.objectiveMetricName")
    if spec.get("algorithm", {}).get("algorithmName") not in SUGGESTIONS:
        errors.append(".spec.algorithm.algorithmName: no Suggestion config for this algorithm")
    if "earlyStopping" in spec and spec["earlyStopping"].get("algorithmName") not in EARLY_STOPPING:
        errors.append(".spec.earlyStopping.algorithmName: no EarlyStopping config for this algorithm")
    if spec.get("resumePolicy", "") not in ("", "Never", "LongRunning", "FromVolume"):
        errors.append(".spec.resumePolicy: invalid ResumePolicyType")
    errors += _trial_template(spec)
    parameters = spec.get("parameters", [])
    if not parameters and "nasConfig" not in spec:
        errors.append(".spec: spec.parameters or spec.nasConfig must be specified")
    errors += [e for i, p in enumerate(parameters) for e in _parameter(i, p)]
    errors += _collector(spec.get("metricsCollectorSpec", {"collector": {"kind": "StdOut"}}))
    return errors


def _parameter(index: int, param: dict[str, Any]) -> list[str]:
    where, kind, space = f".spec.parameters[{index}]", param.get("parameterType", ""), param.get("feasibleSpace", {})
    errors = []
    if kind not in PARAMETER_TYPES and kind != "":
        errors.append(f"{where}.parameterType: {kind} is not supported")
    if space.get("distribution", "") not in DISTRIBUTIONS | {""}:
        errors.append(f"{where}.feasibleSpace.distribution: {space['distribution']} is not supported")
    if not space:
        errors.append(f"{where}.feasibleSpace: feasibleSpace must be specified")
    elif kind in ("double", "int"):
        if space.get("list"):
            errors.append(f"{where}.feasibleSpace.list: not supported for parameterType {kind}")
        if not space.get("min") or not space.get("max"):
            errors.append(f"{where}.feasibleSpace.max: max and min must be specified for parameterType {kind}")
    elif kind in ("categorical", "discrete") and any(space.get(k) for k in ("min", "max", "step")):
        errors.append(f"{where}.feasibleSpace: .max, .min and .step are not supported for parameterType {kind}")
    return errors


def _trial_template(spec: dict[str, Any]) -> list[str]:
    template = spec.get("trialTemplate")
    if template is None:
        return [".spec.trialTemplate: must be specified"]
    errors = []
    if not template.get("primaryContainerName"):
        errors.append(".spec.trialTemplate.primaryContainerName: must be specified")
    if not template.get("successCondition") or not template.get("failureCondition"):
        errors.append(".spec.trialTemplate: successCondition and failureCondition must be specified")
    if "trialParameters" not in template:
        return [*errors, ".spec.trialTemplate.trialParameters: must be specified"]
    if ("trialSpec" in template) == ("configMap" in template):
        return [*errors, ".spec.trialTemplate: exactly one of trialSpec or configMap must be specified"]
    text = json.dumps(template.get("trialSpec"))
    declared = {p.get("name") for p in spec.get("parameters", [])}
    names: set[str] = set()
    references: set[str] = set()
    for i, param in enumerate(template["trialParameters"]):
        name, reference = param.get("name", ""), param.get("reference", "")
        where = f".spec.trialTemplate.trialParameters[{i}]"
        if not name or not reference or "{" in name or "}" in name:
            errors.append(f"{where}: name and reference must be specified and name must not contain '{{' or '}}'")
            continue
        if name in names or reference in references:
            errors.append(f"{where}: duplicated name or reference")
            continue
        names.add(name)
        references.add(reference)
        if declared and not META_REFERENCE.match(reference) and reference not in declared:
            errors.append(f"{where}.reference: {reference} does not exist in spec.parameters")
        placeholder = "${trialParameters.%s}" % name
        if placeholder not in text:
            return [*errors, f"{where}.name: {name} not found in spec.trialTemplate"]
        text = text.replace(placeholder, "test-value")
    if PLACEHOLDER.search(text):
        errors.append(f".spec.trialTemplate: parameters {PLACEHOLDER.findall(text)} not found in trialParameters")
    trial = json.loads(text) if "trialSpec" in template else {}
    if trial and (trial.get("metadata", {}).get("name") or trial.get("metadata", {}).get("namespace")):
        errors.append(".spec.trialTemplate: metadata.name and metadata.namespace must be omitted")
    if trial and (not trial.get("apiVersion") or not trial.get("kind")):
        errors.append(".spec.trialTemplate: APIVersion and Kind must be specified")
    return errors


def _collector(spec: dict[str, Any]) -> list[str]:
    kind = spec.get("collector", {}).get("kind")
    if kind not in COLLECTORS:
        return [f".spec.metricsCollectorSpec.collector.kind: invalid metrics collector kind: {kind}"]
    errors = []
    for pattern in (spec.get("source") or {}).get("filter", {}).get("metricsFormat", []):
        try:
            re.compile(pattern)
        except re.error as exc:
            errors.append(f".spec.metricsCollectorSpec.source.filter.metricsFormat: invalid filter: {exc}")
            continue
        if not re.match(r".*\(.*\).*\(.*\).*", pattern):
            errors.append(".spec.metricsCollectorSpec.source.filter.metricsFormat: two top subexpressions are required")
    return errors


def trial_spec(exp: dict[str, Any]) -> dict[str, Any] | None:
    """The trial's resource with Katib's placeholders replaced by a sample value, named as Katib names it."""
    template = exp["spec"].get("trialTemplate", {})
    if "trialSpec" not in template:
        return None
    values = {p["name"]: p["reference"] for p in template.get("trialParameters", [])}
    text = PLACEHOLDER.sub(lambda m: "sample-" + values.get(m.group(0)[18:-1], "x").replace("_", "-"),
                           json.dumps(template["trialSpec"]))
    trial = json.loads(text)
    trial.setdefault("metadata", {})["name"] = f"{exp['metadata']['name']}-abcd1234"
    return trial
