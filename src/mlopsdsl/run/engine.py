"""The compiled pipeline run by KFP's own local orchestrator (kfp.local), step programs as host
processes (or containers with `--containers`).

kfp.local resolves placeholders, passes artifacts and parameters, fans out ParallelFor within
its parallelism limit, retries with the retry policy, runs the exit handler and caches, exactly
from the PipelineSpec `mlopsdsl compile` writes. Its runner was written for lightweight Python
components, so the adapter changes five things, each where kfp.local exposes it:

1. container components run: the subprocess runner's refusal of them is switched off;
2. declared output artifacts are registered the way the KFP launcher registers them, and a step
   whose declared output-parameter file is missing fails, as the launcher fails it;
3. `triggerPolicy.condition` is evaluated as CEL over the condition task's inputs, as the KFP v2
   driver evaluates it (cel-python; kfp.local's own evaluator skips branches on named outputs);
4. the cache key covers artifact *contents* (a SHA-256 of the files) instead of their paths, so
   an identical input from another run hits, and a changed file misses; and, since a host
   process runs the code in the working tree rather than in an image, the step's own code: the
   files its command names and the package of `python -m PKG.MODULE` (see `code_digest`);
5. each step's output goes to its own log file in the run record, and every start and finish is
   reported to the progress display;
6. the tasks of a DAG start as soon as their upstream tasks have finished, at most `jobs` steps at
   a time (schedule.py replaces kfp.local's one-at-a-time walk; each task is still kfp.local's).
kfp is imported only here and in schedule.py, and only when `mlopsdsl run` runs
(`pip install 'mlopsdsl[run]'`).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import subprocess
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Callable, Optional

from mlopsdsl.run.record import RunRecord

_CURRENT = threading.local()  # the task a worker thread is running (kfp.local runs loop items in threads)
_CONDITIONS: dict[str, tuple[str, Any]] = {}
_OBSERVER: dict[str, Any] = {}
_PATCHED = False


class EngineMissing(Exception):
    """kfp (kfp.local) or cel-python is not installed."""


class StepFailed(Exception):
    def __init__(self, task: str, detail: str) -> None:
        super().__init__(f"{task}: {detail}")
        self.task, self.detail = task, detail


def available() -> Optional[str]:
    """None when the engine can run, else what is missing."""
    try:
        import celpy  # noqa: F401
        import kfp.local  # noqa: F401
    except ImportError as exc:
        return exc.name or str(exc)
    from mlopsdsl.run import schedule

    changed = schedule.drift()
    return f"kfp 2.17 ({changed})" if changed else None


def content_digest(path: str) -> str:
    """SHA-256 over a file, or over a directory's relative paths and file contents."""
    digest = hashlib.sha256()
    root = Path(path)
    if root.is_file():
        files = [root]
    elif root.is_dir():
        files = sorted(p for p in root.rglob("*") if p.is_file())
    else:
        return "missing"
    for file in files:
        digest.update(str(file.relative_to(root) if file != root else "").encode() + b"\0")
        with open(file, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()


def code_digest(command: list[str], search: list[str]) -> str:
    """What a host-process step runs, as content: every command argument that is a file, and for
    `-m PKG.MOD` every .py file of PKG found on SEARCH (the working directory and PYTHONPATH)."""
    digest = hashlib.sha256()
    for i, arg in enumerate(command):
        module = command[i + 1] if arg == "-m" and i + 1 < len(command) else None
        if module:
            top = module.split(".")[0]
            for base in search:
                package = Path(base) / top
                if package.is_dir() or package.with_suffix(".py").is_file():
                    target = package if package.is_dir() else package.with_suffix(".py")
                    digest.update(top.encode() + b"\0" + content_digest(str(target)).encode())
                    break
        elif "{{$" not in arg and len(arg) < 4096 and os.path.isfile(arg):
            digest.update(arg.encode() + b"\0" + content_digest(arg).encode())
    return digest.hexdigest()


def _patch() -> None:
    global _PATCHED
    if _PATCHED:
        return
    from kfp import dsl
    from kfp.local import cache, executor_output_utils, subprocess_task_handler, task_dispatcher
    from kfp.local.orchestrator import enhanced_dag_orchestrator, task_executor

    # 1. container components in the subprocess runner
    subprocess_task_handler.SubprocessTaskHandler.validate_not_container_component = lambda self, cmd: None
    subprocess_task_handler.SubprocessTaskHandler.validate_image = lambda self, image: None

    # 2. outputs as the launcher registers them
    def outputs_like_launcher(executor_input, component_spec):
        out = executor_output_utils.load_executor_output(executor_input.outputs.output_file)
        for name, artifacts in executor_input.outputs.artifacts.items():
            if name not in out.artifacts:
                out.artifacts[name].CopyFrom(artifacts)
        missing = [n for n, p in executor_input.outputs.parameters.items() if not os.path.exists(p.output_file)]
        if missing:
            raise StepFailed(getattr(_CURRENT, "task", "?"), f"it wrote no file for its output(s) {missing}")
        return executor_output_utils.get_outputs_from_executor_output(
            executor_output=out, executor_input=executor_input, component_spec=component_spec)

    executor_output_utils.get_outputs_for_task = outputs_like_launcher
    task_dispatcher.executor_output_utils = executor_output_utils

    # 3. conditions in CEL
    enhanced_dag_orchestrator.ConditionEvaluator.evaluate_condition = staticmethod(_cel_condition)

    # 4. content-keyed cache
    serialize = cache.LocalCache._serialize_value_for_key

    def by_content(value):
        if isinstance(value, dsl.Artifact):
            return {"schema_title": type(value).schema_title, "sha256": content_digest(value.path)}
        return serialize(value) if not isinstance(value, (list, dict)) else (
            [by_content(v) for v in value] if isinstance(value, list) else {k: by_content(v) for k, v in value.items()})

    cache.LocalCache._serialize_value_for_key = staticmethod(by_content)
    compute = cache.LocalCache.compute_key

    def with_code(self, component_name, image, full_command, arguments, env_vars=None, custom_cache_key=None):
        search = [os.getcwd(), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
        code = {"mlopsdsl code": code_digest(list(full_command), search)}
        return compute(self, component_name, image, full_command, arguments, {**(env_vars or {}), **code},
                       custom_cache_key)

    cache.LocalCache.compute_key = with_code
    lookup = cache.LocalCache.get

    def get(self, key):
        hit = lookup(self, key)
        _CURRENT.cached = hit is not None
        if hit is None and _CURRENT.task in _OBSERVER.get("required", ()):
            raise StepFailed(_CURRENT.task, "not in the cache: run the pipeline once with these inputs first")
        return hit

    cache.LocalCache.get = get

    # 5. logs and progress
    def run_logged(full_command, env_vars=None):
        env = {**os.environ, **(env_vars or {})}
        _CURRENT.attempts = getattr(_CURRENT, "attempts", 0) + 1
        with open(_CURRENT.log, "a", encoding="utf-8", errors="replace") as log:
            if _CURRENT.attempts > 1:
                log.write(f"\n--- attempt {_CURRENT.attempts} ---\n")
            log.flush()
            return _OBSERVER["scheduler"].spawn(full_command, env=env, stdout=log, stderr=subprocess.STDOUT)

    subprocess_task_handler.run_local_subprocess = run_logged
    execute = task_executor.execute_single_task

    def observed(task_name, task_spec, *args, **kwargs):
        from kfp.local import status

        scheduler = _OBSERVER["scheduler"]
        with scheduler.slots:  # at most `jobs` steps at a time, however DAGs and loops nest
            if not scheduler.may_start(task_spec):
                return {}, status.Status.FAILURE  # queued before another step failed: never started
            return recorded(task_name, task_spec, *args, **kwargs)

    def recorded(task_name, task_spec, *args, **kwargs):
        from kfp.local.orchestrator.orchestrator_utils import OrchestratorUtils

        record: RunRecord = _OBSERVER["record"]
        notify: Callable[..., None] = _OBSERVER["notify"]
        _CURRENT.task, _CURRENT.cached, _CURRENT.attempts = task_name, False, 0
        _CURRENT.log = record.log_path(task_name)
        step = record.step(_CURRENT.log.stem)
        step.log, step.started = str(_CURRENT.log.relative_to(record.directory)), time.time()
        io_store = kwargs.get("io_store")
        try:
            step.inputs = _plain(OrchestratorUtils.make_task_arguments(task_inputs_spec=task_spec.inputs,
                                                                        io_store=io_store))
        except Exception:  # noqa: BLE001 - a record detail must not stop the run
            step.inputs = {}
        notify("start", step)
        try:
            outputs, status = execute(task_name, task_spec, *args, **kwargs)
        except StepFailed as exc:
            _OBSERVER["scheduler"].stopping.set()
            step.status, step.seconds = "failed", round(time.time() - step.started, 3)
            _OBSERVER["failures"].append((step, exc.detail))
            notify("finish", step)
            raise
        ok = status.name == "SUCCESS"
        step.cached, step.attempts = _CURRENT.cached, _CURRENT.attempts
        step.status = ("cached" if step.cached else "succeeded") if ok else "failed"
        step.seconds, step.outputs = round(time.time() - step.started, 3), _plain(outputs or {})
        if not ok:
            _OBSERVER["scheduler"].stopping.set()  # before the record says so: nothing new starts after it
            _OBSERVER["failures"].append((step, f"exited non-zero ({step.attempts} attempt(s))"))
        record.save()
        notify("finish", step)
        return outputs, status

    task_executor.execute_single_task = observed
    _PATCHED = True


def _plain(values: dict) -> dict:
    out = {}
    for name, value in values.items():
        out[name] = value.uri if hasattr(value, "uri") else value
    return out


def _index_conditions(spec) -> None:
    _CONDITIONS.clear()
    for component in list(spec.components.values()) + [spec.root]:
        if component.WhichOneof("implementation") == "dag":
            for name, task in component.dag.tasks.items():
                if task.trigger_policy.condition:
                    _CONDITIONS[task.trigger_policy.condition] = (name, task)


def _cel_condition(condition: str, io_store) -> bool:
    import celpy
    from celpy import celtypes
    from kfp.local.orchestrator.orchestrator_utils import OrchestratorUtils

    name, task = _CONDITIONS[condition]
    args = OrchestratorUtils.make_task_arguments(task_inputs_spec=task.inputs, io_store=io_store)

    def value(v):  # google.protobuf.Value: every number is a double, as the driver sees it
        if isinstance(v, bool):
            return celtypes.BoolType(v)
        if isinstance(v, (int, float)):
            return celtypes.DoubleType(float(v))
        return celpy.json_to_cel(v)

    params = celtypes.MapType({celtypes.StringType(k): value(v) for k, v in args.items() if not hasattr(v, "uri")})
    env = celpy.Environment()
    result = env.program(env.compile(condition)).evaluate(
        {"inputs": celtypes.MapType({celtypes.StringType("parameter_values"): params})})
    if not isinstance(result, celtypes.BoolType):
        raise StepFailed(name, f"its condition is not a boolean: {result!r}")
    _OBSERVER["notify"]("decision", name, bool(result))
    return bool(result)


def execute(document: dict, arguments: dict[str, Any], record: RunRecord, notify: Callable[..., None], *,
            cache_root: Optional[Path], containers: bool = False, required: set[str] = frozenset(),
            jobs: int = 1) -> tuple[bool, dict, list]:
    """Run the PipelineSpec DOCUMENT, up to JOBS steps at a time; returns (succeeded, pipeline
    outputs, [(step, why)] failures). Ctrl-C terminates the running steps and propagates."""
    from google.protobuf import json_format
    from kfp import local
    from kfp.local import pipeline_orchestrator
    from kfp.pipeline_spec import pipeline_spec_pb2

    from mlopsdsl.run import schedule

    _patch()
    scheduler = schedule.Scheduler(jobs)
    schedule.install(scheduler)
    spec = pipeline_spec_pb2.PipelineSpec()
    json_format.ParseDict(document, spec)
    _index_conditions(spec)
    failures: list = []
    _OBSERVER.update(record=record, notify=notify, failures=failures, required=required, scheduler=scheduler)
    runner = local.DockerRunner() if containers else local.SubprocessRunner(use_venv=False)
    local.init(runner=runner, pipeline_root=str(record.artifacts.resolve()), raise_on_error=True,
               enable_caching=cache_root is not None, cache_root=str(cache_root) if cache_root else None)
    logging.disable(logging.INFO)  # kfp.local narrates every task; the progress display does that here
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():  # and prints separators
            # resources are a cluster's business (docs/run.md, Limits): not a warning per task
            warnings.filterwarnings("ignore", message=r".*no effect in the current local runner")
            outputs = pipeline_orchestrator.run_local_pipeline(pipeline_spec=spec, arguments=arguments)
    except StepFailed as exc:
        return False, {}, failures or [(record.step(exc.task), exc.detail)]
    except RuntimeError as exc:  # kfp.local raises when a task failed (raise_on_error)
        if not failures:
            raise
        return False, {}, failures
    finally:
        logging.disable(logging.NOTSET)
    return not failures, _plain(outputs or {}), failures
