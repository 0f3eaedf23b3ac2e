"""One step -> its KFP component (interface) and executor (container), plus the task's bindings.

A step's `run` becomes the container command with KFP placeholders: the launcher
replaces `{{$.inputs.artifacts['x'].path}}` and friends anywhere inside an
argument, so a Template (text with `${{ }}` spliced in) becomes one string of
text and placeholders. Run-time values that a `run` line names directly
(`params.lr`, `item`) become component input parameters of their own, wired by
the DAG like any other input.

Metrics fields in conditions: KFP conditions can only read parameters, and a
metrics field is a value inside an artifact. A step that declares `fields` on
a Metrics output therefore gets one output parameter per field
(`<output>__<field>`), and its command is wrapped by METRICS_WRAPPER: run the
step's own command, then copy each field from the JSON object the step wrote to
the metrics artifact into the output-parameter file. See docs/targets/kubeflow.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Union

from mlopsdsl.backends import k8s
from mlopsdsl.ir import Step
from mlopsdsl.ir import Expr, ItemRef, Lit, ParamRef, PathRef, StepOutputRef, Template, render
from mlopsdsl.ir import ARTIFACT_TYPES, EnvVar

from . import types


class StepError(Exception):
    """A construct of one step the target cannot express."""


@dataclass
class Binding:
    """One input of a task: a channel (param, step output, data, item) or a constant."""

    name: str
    artifact: bool
    type: str  # IR type name, or a KFP parameterType for implicit inputs
    source: Union[Expr, None] = None
    constant: Any = None


@dataclass
class StepParts:
    component: dict[str, Any]
    executor: dict[str, Any]
    bindings: list[Binding] = field(default_factory=list)
    secret_env: list[EnvVar] = field(default_factory=list)


# Runs the step's command, then copies declared metrics fields from the JSON the step wrote to
# its Metrics artifact into KFP output-parameter files. Arguments: N, then N triples
# (metrics file, field, parameter file), then the command. python3 parses the JSON when the
# image has it; otherwise a sed fallback reads flat `"field": value` pairs.
METRICS_WRAPPER = """\
n=$1; shift
spec=$(mktemp)
while [ "$n" -gt 0 ]; do printf '%s\\n%s\\n%s\\n' "$1" "$2" "$3" >> "$spec"; shift 3; n=$((n - 1)); done
"$@"
while IFS= read -r src && IFS= read -r field && IFS= read -r dest; do
  mkdir -p "$(dirname "$dest")"
  if command -v python3 >/dev/null 2>&1; then
    python3 -c "$MLOPSDSL_READ_FIELD" "$src" "$field" "$dest"
  else
    v=$(tr -d '\\n' < "$src" | sed -n "s/.*\\"$field\\"[[:space:]]*:[[:space:]]*\\"\\{0,1\\}\\([^\\",}]*\\).*/\\1/p")
    [ -n "$v" ] || { echo "mlopsdsl: metrics field '$field' is missing from $src" >&2; exit 1; }
    printf '%s' "$v" > "$dest"
  fi
done < "$spec"
"""

# The python half of the wrapper, passed as an env var so the shell script stays readable.
# Accepts {"accuracy": 0.9} and KFP v1's {"metrics": [{"name": "accuracy", "numberValue": 0.9}]}.
READ_FIELD = """\
import json, sys
src, name, dest = sys.argv[1:4]
with open(src) as fh:
    data = json.load(fh)
if name not in data and isinstance(data.get("metrics"), list):
    data = {m.get("name"): m.get("numberValue", m.get("value")) for m in data["metrics"]}
if name not in data:
    sys.exit(f"mlopsdsl: metrics field {name!r} is missing from {src}")
value = data[name]
with open(dest, "w") as fh:
    fh.write(value if isinstance(value, str) else json.dumps(value))
"""


def field_output(output: str, field_name: str) -> str:
    """The output parameter that carries a metrics field."""
    return f"{output}__{field_name}"


def build_step(step: Step, label: str, tracking_env: tuple[EnvVar, ...],
               uri_inputs: dict[str, str] | None = None) -> StepParts:
    """`uri_inputs`: data inputs read only by URI (input name -> URI), passed as string parameters."""
    uri_inputs = uri_inputs or {}
    inputs = {i.name: i for i in step.inputs}
    outputs = {o.name: o for o in step.outputs}
    parts = StepParts(component={}, executor={})
    for inp in step.inputs:
        if inp.name in uri_inputs:
            parts.bindings.append(Binding(inp.name, False, "str", None, uri_inputs[inp.name]))
            continue
        constant = types.constant(inp.source.value, inp.type) if isinstance(inp.source, Lit) else None
        source = None if isinstance(inp.source, Lit) else inp.source
        parts.bindings.append(Binding(inp.name, inp.is_artifact, inp.type, source, constant))
    implicit: dict[str, Binding] = {}

    def placeholder(node: Expr) -> str:
        problem = _run_refusal(node, inputs, uri_inputs)
        if problem is not None:
            raise StepError(problem)
        if isinstance(node, PathRef):
            if node.direction == "input" and node.name in uri_inputs:
                return f"{{{{$.inputs.parameters['{node.name}']}}}}"
            return _path_placeholder(node, inputs, outputs)
        if isinstance(node, Lit):
            return str(node.value)
        name = _implicit_name(node, inputs)  # a ParamRef, ItemRef or StepOutputRef
        implicit.setdefault(name, Binding(name, False, node.type, node))
        return f"{{{{$.inputs.parameters['{name}']}}}}"

    command = [arg if isinstance(arg, str) else "".join(
        p if isinstance(p, str) else placeholder(p) for p in arg.parts) for arg in step.command]
    parts.bindings.extend(implicit[name] for name in sorted(implicit))

    fields = [(o.name, f, t) for o in step.outputs if o.is_artifact for f, t in sorted(o.fields.items())]
    if fields:
        triples = [x for o, f, _ in fields for x in (
            f"{{{{$.outputs.artifacts['{o}'].path}}}}", f,
            f"{{{{$.outputs.parameters['{field_output(o, f)}'].output_file}}}}")]
        command = ["sh", "-ec", METRICS_WRAPPER, "mlopsdsl-metrics", str(len(fields)), *triples, *command]

    parts.component = _component(parts.bindings, step, fields, label)
    parts.executor = {"container": _container(step, command, tracking_env, parts, bool(fields))}
    return parts


def refusal(step: Step, tracking_env: tuple[EnvVar, ...], uri_inputs: dict[str, str] | None = None
            ) -> tuple[str, tuple[str | int, ...]] | None:
    """What `build_step` would refuse in `step` (the first, as it meets them), found by reading the
    step rather than building its component (what the target's check runs): the reason, and
    where in the step it is (`("run", 2)`, `("env", "LR")`)."""
    uri_inputs = uri_inputs or {}
    inputs = {i.name: i for i in step.inputs}
    for i, arg in enumerate(step.command):
        for part in () if isinstance(arg, str) else arg.parts:
            problem = None if isinstance(part, str) else _run_refusal(part, inputs, uri_inputs)
            if problem is not None:
                return problem, ("run", i)
    own = {var.name for var in step.env}
    for var in (*(v for v in tracking_env if v.name not in own), *step.env):
        if var.secret is None and isinstance(var.value, Template):
            return _env_refusal(var), ("env", var.name)
    return None


def _run_refusal(node: Expr, inputs: dict, uri_inputs: dict[str, str]) -> str | None:
    """Why a value in `run` has no placeholder in a KFP command, or None."""
    if isinstance(node, PathRef):
        decl = inputs.get(node.name) if node.direction == "input" and node.name not in uri_inputs else None
        if decl is not None and not decl.is_artifact and node.attr != "value":
            return f"`.{node.attr}` of the parameter input '{node.name}'"
        return None
    if isinstance(node, (Lit, ParamRef, ItemRef, StepOutputRef)):
        return None
    return f"`{render(node)}` in `run`"


def _env_refusal(var: EnvVar) -> str:
    return f"a run-time value in the environment variable '{var.name}'"


def _path_placeholder(node: PathRef, inputs: dict, outputs: dict) -> str:
    if node.direction == "input":
        decl = inputs.get(node.name)
        if decl is not None and not decl.is_artifact:  # `.value`: the others are refused (`_run_refusal`)
            return f"{{{{$.inputs.parameters['{node.name}']}}}}"
        return f"{{{{$.inputs.artifacts['{node.name}'].{node.attr}}}}}"
    decl = outputs.get(node.name)
    if decl is not None and not decl.is_artifact:
        return f"{{{{$.outputs.parameters['{node.name}'].output_file}}}}"
    attr = "path" if node.attr == "value" else node.attr
    return f"{{{{$.outputs.artifacts['{node.name}'].{attr}}}}}"


def _implicit_name(node: Expr, declared: dict) -> str:
    if isinstance(node, ParamRef):
        name = node.name
    elif isinstance(node, ItemRef):
        name = "item" + (f"__{node.field}" if node.field else "")
    else:
        name = "__".join(p for p in (node.step, node.output, node.field) if p)
    # a declared input of the same name keeps its name; the implicit one steps aside
    return f"{name}__run" if name in declared else name


def _component(bindings: list[Binding], step: Step, fields: list, label: str) -> dict[str, Any]:
    component: dict[str, Any] = {"executorLabel": label}
    inputs = _definitions(bindings)
    if inputs:
        component["inputDefinitions"] = inputs
    artifacts = {o.name: {"artifactType": types.artifact_type(o.type)}
                 for o in step.outputs if o.is_artifact}
    parameters = {o.name: {"parameterType": types.parameter_type(o.type)}
                  for o in step.outputs if not o.is_artifact}
    for output, field_name, type_name in fields:
        parameters[field_output(output, field_name)] = {"parameterType": types.parameter_type(type_name)}
    outputs: dict[str, Any] = {}
    if artifacts:
        outputs["artifacts"] = dict(sorted(artifacts.items()))
    if parameters:
        outputs["parameters"] = dict(sorted(parameters.items()))
    if outputs:
        component["outputDefinitions"] = outputs
    return component


def _definitions(bindings: list[Binding]) -> dict[str, Any]:
    artifacts = {b.name: {"artifactType": types.artifact_type(b.type)} for b in bindings if b.artifact}
    parameters = {b.name: {"parameterType": types.parameter_type(b.type)} for b in bindings if not b.artifact}
    result: dict[str, Any] = {}
    if artifacts:
        result["artifacts"] = dict(sorted(artifacts.items()))
    if parameters:
        result["parameters"] = dict(sorted(parameters.items()))
    return result


def _container(step: Step, command: list[str], tracking_env: tuple[EnvVar, ...], parts: StepParts,
               wrapped: bool) -> dict[str, Any]:
    container: dict[str, Any] = {"command": command}
    env: dict[str, str] = {}
    own = {var.name for var in step.env}
    for var in (*(v for v in tracking_env if v.name not in own), *step.env):
        if var.secret is not None:
            parts.secret_env.append(var)
        elif isinstance(var.value, Template):
            raise StepError(_env_refusal(var))
        else:
            env[var.name] = var.value or ""
    if wrapped:
        env["MLOPSDSL_READ_FIELD"] = READ_FIELD
    if env:
        container["env"] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    container["image"] = step.image
    resources = _resources(step)
    if resources:
        container["resources"] = resources
    return container


def _resources(step: Step) -> dict[str, Any]:
    res = step.resources
    out: dict[str, Any] = {}
    if res.gpu:
        gpu = k8s.gpu_resource(res.gpu_type)
        out["accelerator"] = {"count": str(res.gpu), "resourceCount": str(res.gpu),
                              "resourceType": gpu, "type": gpu}
    # kfp writes the deprecated numbers (cores, decimal GB) beside the quantity strings;
    # older KFP backends read only the numbers.
    for quantity, key, number in ((res.cpu_limit, "CpuLimit", res.cpu_limit_cores),
                                  (res.cpu, "CpuRequest", res.cpu_cores),
                                  (res.memory_limit, "MemoryLimit", _gigabytes(res.memory_limit_bytes)),
                                  (res.memory, "MemoryRequest", _gigabytes(res.memory_bytes))):
        if quantity:
            if number is not None:
                out[key[0].lower() + key[1:]] = number
            out[f"resource{key}"] = quantity
    return dict(sorted(out.items()))


def _gigabytes(size: int | None) -> float | None:
    return None if size is None else size / 1e9


def is_artifact_type(type_name: str) -> bool:
    return type_name in ARTIFACT_TYPES
