"""Independent tasks of a DAG at the same time, each still run by kfp.local.

kfp.local walks a DAG in one topological order, one task at a time (kfp 2.17,
`enhanced_dag_orchestrator.run_enhanced_dag` and `dag_orchestrator.run_dag`); only the items of a
ParallelFor run side by side, at most two. This module replaces only that walk: a task starts as
soon as every task it depends on has finished, on a thread of the DAG's own pool. Everything a
task *is* stays kfp.local's, called through its own functions: `execute_task` (placeholders,
cache, retries, launcher, nested DAGs, which come back here), `_run_parallel_for_task` (the
items of a loop), `ConditionEvaluator` (the gate; engine.py makes it CEL), and its rules for
which tasks are exit tasks and when an upstream failure skips a task.

The bound is on what runs, not on threads: at most JOBS tasks hold a slot (engine.py takes one
around each container task) however the DAGs and loops nest; a DAG task or a loop only waits
for its children and holds none, so no nesting can starve its own children.

A failure stops new work, as an Argo DAG's `failFast` does on a cluster: no body task starts
after a task failed, the ones running finish, and then the tasks that run whatever happened
upstream (the exit handler, `ALL_UPSTREAM_TASKS_COMPLETED`) still run. An interrupt (Ctrl-C)
stops new work too, terminates the running steps and does not run the exit handler.
"""

from __future__ import annotations

import concurrent.futures
import inspect
import os
import subprocess
import threading
from typing import Any, Optional

# The kfp.local functions this module calls or replaces, with the parameters it passes: a kfp
# release that changes one is refused with a clear message (`drift`) rather than failing mid-run.
KFP_CONTRACT = {
    "kfp.local.orchestrator.enhanced_dag_orchestrator.run_enhanced_dag": (
        "pipeline_resource_name", "dag_component_spec", "executors", "components", "dag_arguments",
        "pipeline_root", "runner", "unique_pipeline_id", "fail_stack", "parent_io_store"),
    "kfp.local.orchestrator.dag_orchestrator.run_dag": (
        "pipeline_resource_name", "dag_component_spec", "executors", "components", "dag_arguments",
        "pipeline_root", "runner", "unique_pipeline_id", "fail_stack", "parent_io_store"),
    "kfp.local.orchestrator.enhanced_dag_orchestrator.execute_task": (
        "task_name", "task_spec", "pipeline_resource_name", "components", "executors", "io_store",
        "pipeline_root", "runner", "unique_pipeline_id", "fail_stack"),
    "kfp.local.orchestrator.enhanced_dag_orchestrator._run_parallel_for_task": (
        "task_name", "task_spec", "pipeline_resource_name", "components", "executors", "io_store",
        "pipeline_root", "runner", "unique_pipeline_id", "fail_stack", "parallel_executor"),
    "kfp.local.orchestrator.enhanced_dag_orchestrator.ParallelExecutor": ("max_workers",),
    "kfp.local.orchestrator.enhanced_dag_orchestrator.ConditionEvaluator.evaluate_condition": (
        "condition", "io_store"),
    "kfp.local.orchestrator.enhanced_dag_orchestrator._has_valid_iterator": ("task_spec",),
    "kfp.local.orchestrator.enhanced_dag_orchestrator._has_task_final_status_input": ("task_spec",),
    "kfp.local.orchestrator.orchestrator_utils.OrchestratorUtils.join_user_inputs_and_defaults": (
        "dag_arguments", "dag_inputs_spec"),
    "kfp.local.io.IOStore": ("parent",),
    "kfp.local.graph_utils.topological_sort_tasks": ("tasks",),
}


def drift() -> Optional[str]:
    """What of KFP_CONTRACT the installed kfp lacks, or None."""
    import importlib

    for dotted, parameters in KFP_CONTRACT.items():
        parts = dotted.split(".")
        target: Any = None
        for split in range(len(parts) - 1, 0, -1):  # the longest importable module, then attributes
            try:
                target = importlib.import_module(".".join(parts[:split]))
            except ImportError:
                continue
            for name in parts[split:]:
                target = getattr(target, name, None)
            break
        if target is None:
            return f"kfp.local has no {dotted}"
        if not set(parameters) <= set(inspect.signature(target).parameters):
            return f"kfp.local's {dotted} does not take ({', '.join(parameters)})"
    return None


def default_jobs() -> int:
    """One task per CPU this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class Scheduler:
    """One run's bound, stop flag and running processes, shared by every DAG of the run."""

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.slots = threading.BoundedSemaphore(jobs)
        self.stopping = threading.Event()
        self.interrupted = False
        self._processes: set[subprocess.Popen] = set()
        self._lock = threading.Lock()

    def may_start(self, task_spec) -> bool:
        """After a failure only the tasks that run whatever happened upstream still start."""
        return not self.stopping.is_set() or runs_regardless(task_spec)

    def spawn(self, command: list[str], **options) -> int:
        """Run a step's process to its end, terminable by `interrupt`."""
        with self._lock:
            if self.interrupted:
                return 130
            process = subprocess.Popen(command, **options)
            self._processes.add(process)
        try:
            return process.wait()
        finally:
            with self._lock:
                self._processes.discard(process)

    def interrupt(self) -> None:
        self.stopping.set()
        with self._lock:
            self.interrupted = True
            for process in self._processes:
                process.terminate()

    def loops(self):
        """kfp's loop executor, its cap of two items at a time lifted to the run's bound: a loop's
        items run `parallelism` at a time (all of them without one), within the JOBS slots."""
        from kfp.local.orchestrator import enhanced_dag_orchestrator as kfp_dag

        executor = kfp_dag.ParallelExecutor(max_workers=self.jobs)
        executor.max_workers = executor.conservative_max = self.jobs
        return executor

    def run_dag(self, pipeline_resource_name, dag_component_spec, executors, components, dag_arguments,
                pipeline_root, runner, unique_pipeline_id, fail_stack, parent_io_store=None):
        """kfp.local's `run_enhanced_dag` contract, its tasks started as they become ready."""
        from kfp.local import graph_utils, io, status
        from kfp.local.orchestrator import enhanced_dag_orchestrator as kfp_dag
        from kfp.local.orchestrator.orchestrator_utils import OrchestratorUtils

        store = io.IOStore(parent=parent_io_store)
        for key, value in OrchestratorUtils.join_user_inputs_and_defaults(
                dag_arguments=dag_arguments, dag_inputs_spec=dag_component_spec.input_definitions).items():
            store.put_parent_input(key, value)
        common = dict(pipeline_resource_name=pipeline_resource_name, components=components, executors=executors,
                      io_store=store, pipeline_root=pipeline_root, runner=runner,
                      unique_pipeline_id=unique_pipeline_id, fail_stack=fail_stack)
        tasks = dag_component_spec.dag.tasks
        exits = [name for name, task in tasks.items() if is_exit(task)]
        body = {name: task for name, task in tasks.items() if name not in exits}

        def one(name: str, task) -> bool:
            """Run a body task the way kfp.local's walk does; True unless it failed."""
            if task.trigger_policy.condition:
                if not kfp_dag.ConditionEvaluator.evaluate_condition(task.trigger_policy.condition, store):
                    return True  # skipped by its gate: its dependants still run, as in kfp.local
            elif task.WhichOneof("iterator") and kfp_dag._has_valid_iterator(task):
                return not kfp_dag._run_parallel_for_task(task_name=name, task_spec=task,
                                                          parallel_executor=self.loops(), **common)
            return settle(name, *kfp_dag.execute_task(task_name=name, task_spec=task, **common))

        def settle(name: str, outputs: dict, result) -> bool:
            ok = result == status.Status.SUCCESS
            store.put_task_status(name, "SUCCEEDED" if ok else "FAILED")
            if not ok:
                fail_stack.append(name)
                return False
            for key, value in outputs.items():
                store.put_task_output(name, key, value)
            return True

        # kfp's topological sort (a stack: reversed) over the tasks by name, so ready tasks start in
        # name order and `--jobs 1` is one repeatable order (kfp.local's follows protobuf map order).
        waiting = list(reversed(graph_utils.topological_sort_tasks(dict(sorted(body.items()))))) if body else []
        done: set[str] = set()
        failed: set[str] = set()
        running: dict[concurrent.futures.Future, str] = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=self.jobs, thread_name_prefix="mlopsdsl-dag") as pool:
            try:
                while waiting or running:
                    for name in list(waiting):  # in order: a task resolved here readies the ones after it
                        task = body[name]
                        upstream = [d for d in task.dependent_tasks if d in body]
                        if not all(d in done for d in upstream):
                            continue
                        waiting.remove(name)
                        upstream_failed = any(d in failed for d in upstream)
                        if not self.may_start(task) or (upstream_failed and not runs_regardless(task)):
                            done.add(name)  # stopped, or kfp.local's rule: an upstream failure skips it
                            failed.add(name)
                            store.put_task_status(name, "FAILED")
                            continue
                        running[pool.submit(one, name, task)] = name
                    if not running:
                        break
                    finished, _ = concurrent.futures.wait(running, return_when=concurrent.futures.FIRST_COMPLETED)
                    for future in finished:
                        name = running.pop(future)
                        done.add(name)
                        if not future.result():
                            failed.add(name)
                            self.stopping.set()
            except KeyboardInterrupt:
                self.interrupt()  # nothing new starts; the running steps are terminated
                raise
            except BaseException:
                self.stopping.set()  # a step's own error (engine.StepFailed): the running ones end first
                raise
        for name in exits:  # after the body, whatever happened to it; in kfp.local's order
            if not settle(name, *kfp_dag.execute_task(task_name=name, task_spec=tasks[name], **common)):
                failed.add(name)
        if failed:
            return {}, status.Status.FAILURE
        return OrchestratorUtils.get_dag_outputs(dag_outputs_spec=dag_component_spec.dag.outputs,
                                                 io_store=store), status.Status.SUCCESS


def runs_regardless(task_spec) -> bool:
    """An exit task or an `ignore_upstream_failure` task: it runs whatever happened upstream."""
    from kfp.pipeline_spec import pipeline_spec_pb2

    strategy = pipeline_spec_pb2.PipelineTaskSpec.TriggerPolicy.TriggerStrategy
    return task_spec.trigger_policy.strategy == strategy.ALL_UPSTREAM_TASKS_COMPLETED


def is_exit(task_spec) -> bool:
    """kfp.local's exit tasks (they run after the whole body): ALL_UPSTREAM_TASKS_COMPLETED and a
    PipelineTaskFinalStatus input; other such tasks stay in the body."""
    from kfp.local.orchestrator import enhanced_dag_orchestrator as kfp_dag

    return runs_regardless(task_spec) and kfp_dag._has_task_final_status_input(task_spec)


def install(scheduler: Scheduler) -> None:
    """Route both of kfp.local's DAG walks (and the nested DAGs `execute_task` starts) here."""
    from kfp.local.orchestrator import dag_orchestrator, enhanced_dag_orchestrator

    enhanced_dag_orchestrator.run_enhanced_dag = scheduler.run_dag
    dag_orchestrator.run_dag = scheduler.run_dag
