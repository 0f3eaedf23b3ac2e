"""`mlopsdsl run`: the pipeline on this machine, from the same compiled PipelineSpec a cluster runs.

    spec --front end--> IR --kubeflow backend--> PipelineSpec --kfp.local (engine.py)--> steps
                                                                 \\-> run record (record.py)

Semantics are the Kubeflow target's because the document is the one `compile` writes:
placeholders, `when` gates (CEL), `for_each` loops with their parallelism, retries, the exit
handler, caching (keyed here by artifact content, see engine.py). What only a cluster can do
is refused before anything runs (MLD805): steps that launch a TrainJob, RayJob or Katib search.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.ir import Project
from mlopsdsl.source import Span


@dataclass
class Request:
    spec: str
    env: Optional[str] = None
    params: list[str] = field(default_factory=list)  # NAME=VALUE as typed
    runs_dir: Path = Path(".mlopsdsl/runs")
    cache: bool = True
    containers: bool = False
    only: Optional[str] = None  # rerun this step alone, its inputs from the cache
    start: Optional[str] = None  # `--from`: rerun this step and everything after it
    plain: bool = False
    jobs: Optional[int] = None  # steps at a time; None: one per CPU (schedule.default_jobs)


def _problem(code, message: str, project: Project | None, span: Span | None = None, hint: str | None = None):
    where = span or Span.point(project.spec_path if project else "")
    return Diagnostic(code, message, where, hint=hint)


def arguments(project: Project, typed: list[str]) -> tuple[dict[str, Any], list[Diagnostic]]:
    """`-p NAME=VALUE` against the declared params: converted to their types, bounds checked."""
    params = {p.name: p for p in project.params}
    values: dict[str, Any] = {}
    problems = []
    for item in typed:
        name, sep, text = item.partition("=")
        param = params.get(name)
        if not sep or param is None:
            import difflib

            close = difflib.get_close_matches(name, list(params), n=1)
            problems.append(_problem(codes.RUN_UNKNOWN_PARAM, f"`-p {item}` names no parameter of the spec",
                                     project, hint=(f"did you mean '{close[0]}'? " if close else "")
                                     + "parameters: " + (", ".join(params) or "none")))
            continue
        try:
            value = _convert(param.type, text)
        except ValueError as exc:
            problems.append(_problem(codes.RUN_PARAM_VALUE, f"`-p {item}`: {exc}", project,
                                     hint=f"'{name}' is a {param.type} parameter"))
            continue
        if param.choices and value not in param.choices:
            problems.append(_problem(codes.RUN_PARAM_VALUE, f"`-p {item}`: not one of its choices", project,
                                     hint="choices: " + ", ".join(map(str, param.choices))))
        elif (param.min is not None and value < param.min) or (param.max is not None and value > param.max):
            problems.append(_problem(codes.RUN_PARAM_VALUE, f"`-p {item}`: outside [{param.min}, {param.max}]",
                                     project))
        values[name] = value
    missing = [p.name for p in project.params if p.default is None and p.name not in values]
    for name in missing:
        problems.append(_problem(codes.RUN_PARAM_VALUE, f"parameter '{name}' has no default and no `-p {name}=...`",
                                 project, hint=f"pass `-p {name}=VALUE`"))
    return values, problems


def _convert(kind: str, text: str) -> Any:
    if kind == "int":
        return int(text)
    if kind == "float":
        value = float(text)
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError("not a finite number")
        return value
    if kind == "bool":
        if text.lower() not in ("true", "false"):
            raise ValueError("write true or false")
        return text.lower() == "true"
    return text


def cluster_only(project: Project) -> list[Diagnostic]:
    """Steps whose compiled task launches a cluster job: nothing here can run them."""
    found = []
    for step in project.pipeline.steps if project.pipeline else ():
        what = None
        if step.distributed is not None:
            what = f"a distributed {step.distributed.framework} job"
        elif step.tune is not None and step.tune.engine == "katib":
            what = "a Katib hyperparameter search"
        if what:
            found.append(_problem(codes.RUN_NEEDS_CLUSTER, f"step '{step.name}' launches {what}, which needs a "
                                  f"Kubernetes cluster; `mlopsdsl run` runs steps on this machine", project,
                                  project.locate("pipeline", "steps", step.name,
                                                 "distributed" if step.distributed else "tune", key=True),
                                  hint=f"run it with an environment that sets `pipeline.steps.{step.name}."
                                  f"{'distributed' if step.distributed else 'tune'}: null`"
                                  + ("" if step.distributed else ", or use `tune: {engine: optuna}`")))
    return found


def container_engine() -> Optional[str]:
    """The first of docker/podman whose engine answers, or None."""
    for tool in ("docker", "podman"):
        path = shutil.which(tool)
        if path and subprocess.run([path, "info"], capture_output=True, timeout=20).returncode == 0:
            return tool
    return None


def run(project: Project, request: Request) -> tuple[list[Diagnostic], int]:
    """Run the project's pipeline; returns (diagnostics, exit code)."""
    import sys

    from mlopsdsl.backends.kubeflow import KubeflowBackend
    from mlopsdsl.run import engine, progress, schedule, select
    from mlopsdsl.run.record import RunRecord, _private_dir

    missing = engine.available()
    if missing:
        return [_problem(codes.RUN_ENGINE_MISSING, f"`mlopsdsl run` needs {missing}, which is not installed",
                         project, hint="pip install 'mlopsdsl[run]'")], 2
    if project.pipeline is None or not project.pipeline.steps:
        return [_problem(codes.RUN_UNKNOWN_STEP, "the spec has no pipeline steps to run", project)], 1
    found = cluster_only(project)
    if found:
        return found, 1
    if request.containers and container_engine() is None:
        return [_problem(codes.RUN_NO_CONTAINERS, "`--containers`: neither docker nor podman has a running engine "
                         "here", project, hint="start one, or run without --containers (steps as host processes)")], 2
    values, found = arguments(project, request.params)
    if found:
        return found, 2
    backend = KubeflowBackend()
    artifacts = backend.compile(project)
    errors = [d for d in backend.diagnostics if d.is_error]
    if errors or not artifacts:
        return list(backend.diagnostics), 1
    document = artifacts[0].documents[0]
    required: set[str] = set()
    if request.only or request.start:
        document, required, found = select.narrow(project, document, only=request.only, start=request.start)
        if found:
            return found, 2
    cache_root = request.runs_dir.parent / "cache"
    _private_dir(cache_root)
    record = RunRecord.create(request.runs_dir, request.spec, request.env, values)
    display = progress.display(plain=request.plain)
    jobs = request.jobs or schedule.default_jobs()
    print(f"mlopsdsl run {record.id}: {project.name} ({len(project.pipeline.steps)} steps, up to {jobs} at a time)",
          file=sys.stderr)
    try:
        ok, outputs, failures = engine.execute(document, values, record, display, required=required,
                                               cache_root=cache_root if request.cache or required else None,
                                               containers=request.containers, jobs=jobs)
    except KeyboardInterrupt:
        record.finish("interrupted")  # the running steps were terminated; the exit handler did not run
        raise
    finally:
        display.close()
    record.finish("succeeded" if ok else "failed")
    problems = [_failure(project, record, step, why) for step, why in failures]
    steps = record.steps.values()
    cached = sum(1 for s in steps if s.status == "cached")
    print(f"mlopsdsl run {record.id} {record.status} in {record.seconds:.1f}s: {len(record.steps)} task(s), "
          f"{cached} from the cache; record: {record.directory}", file=sys.stderr)
    return problems, 0 if ok else 1


def _failure(project: Project, record, step, why: str) -> Diagnostic:
    from mlopsdsl.run.select import step_of_task

    source = step_of_task(project, step.task)
    tail = ""
    if step.log:
        lines = (record.directory / step.log).read_text(encoding="utf-8", errors="replace").splitlines()
        tail = "\n".join(lines[-12:])
    code = codes.RUN_NOT_CACHED if why.startswith("not in the cache") else codes.RUN_STEP_FAILED
    return _problem(code, f"step '{step.task}' failed: {why}" + (f"\n{tail}" if tail else ""), project,
                    source.span if source is not None else None,
                    hint=f"its log: {record.directory / step.log}" if step.log else None)
