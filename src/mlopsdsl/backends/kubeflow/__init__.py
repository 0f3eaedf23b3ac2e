"""Kubeflow Pipelines v2: the IR's pipeline -> `kubeflow/pipeline.yaml`.

The file holds a KFP PipelineSpec (schemaVersion 2.1.0) and, when a step needs
Kubernetes features (secrets as env, node selectors, tolerations, timeouts), the
kfp-kubernetes platform spec as a second YAML document, exactly as kfp 2.17
writes them. Documents are built as plain dicts: kfp itself is never imported
(it costs ~0.5 s and 80 MiB, and `validate` must not pay for it).
Modules: `components` (step -> component + executor), `dag` (wiring, groups),
`conditions` (CEL), `platform` (kfp-kubernetes), `data` (importer / dvc tasks),
`topology` (shapes KFP refuses), `size` (the Argo object budget), `types` (tables).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

from mlopsdsl.backends.base import Artifact, Backend, decide
from mlopsdsl.backends.base import codes
from mlopsdsl.ir import Project, Step
from mlopsdsl.ir import EnvVar, Tracking

from . import data, jobs, launched, schedule, setup, size, topology, tuning, types
from .components import StepError, StepParts, build_step, refusal
from .conditions import ConditionError
from .dag import Channel, Dag, Key
from .platform import executor_config

__all__ = ["KubeflowBackend"]

OUTPUT_PATH = "kubeflow/pipeline.yaml"
RBAC_PATH = "kubeflow/launcher-rbac.yaml"
RUNTIMES_PATH = "kubeflow/training-runtimes.yaml"


@dataclass
class KubeflowBackend(Backend):
    name = "kubeflow"
    description = "Kubeflow Pipelines v2 IR (PipelineSpec + kfp-kubernetes platform spec)"
    decisions = {
        **decide("emit", "Step", "name id description image command inputs outputs data_uris when after depends_on "
                                 "for_each retry timeout cache env resources node_selector tolerations pod_labels "
                                 "component distributed tune volumes"),
        "Serving": "n/a: the pipeline trains and publishes the model; the kserve target serves it",
    }
    # What `check` saw, for the views after the first (see `check`): keys of identities and contexts.
    _checked: dict[tuple, Any] = field(default_factory=dict, repr=False)
    _contexts: list[tuple] = field(default_factory=list, repr=False)

    def check(self, project: Project) -> None:
        """One instance checks the spec as lowered for no environment and for each environment (the
        driver's views share the IR an environment left alone): a step checked already, beside the
        same upstream steps and the same tracking and data, is not checked again."""
        pipeline = project.pipeline
        if pipeline is None:
            return
        context = self._context(project)
        if (id(pipeline), context) in self._checked:
            return  # the very pipeline, in the same context: checked in an earlier view
        self._checked[id(pipeline), context] = pipeline
        topology.check_task_names(project, self.warn)
        expanded = tuning.expand(project) if any(s.tune is not None for s in pipeline.steps) else pipeline
        by_name = {s.name: s for s in expanded.steps}
        tracking, sources = _tracking_env(project.tracking), {d.name: d for d in project.data}
        for step in expanded.steps:
            upstream = [by_name.get(name) for name in (*step.depends_on, *step.after)]
            key = (id(step), *map(id, upstream), context)
            if key in self._checked:
                continue
            self._checked[key] = (step, upstream)  # held, so no id is reused while the key is
            if launched.bare_python(step):
                self.warn(codes.TORCHRUN_MISSING, f"`{step.command[0]}` on a `framework: pytorch` step: Kubeflow "
                          "Trainer sets torchrun's settings (`PET_*`), not `RANK`/`WORLD_SIZE`, so each worker "
                          "would train alone", project.locate("pipeline", "steps", step.name, "run", 0),
                          "start `run` with torchrun: `[torchrun, -m, your.module, ...]`")
            topology.check_step(step, by_name, self._refuse)
            self._refuse_component(project, step, ("pipeline", "steps", step.name), tracking,
                                   data.uri_only_inputs(step, sources))
        topology.check_exit(expanded, self._refuse)
        if pipeline.on_exit is not None:
            self._refuse_component(project, pipeline.on_exit, ("pipeline", "on_exit"), tracking, {})

    def _context(self, project: Project) -> int:
        """What a step's check reads beside the step and its upstream steps (tracking, data sources), as
        a number: equal contexts get the same number."""
        context = (project.tracking, project.data)
        for number, seen in enumerate(self._contexts):
            if seen == context:
                return number
        self._contexts.append(context)
        return len(self._contexts) - 1

    def _refuse_component(self, project: Project, step: Step, path: tuple[str, ...], tracking: tuple[EnvVar, ...],
                          uri_inputs: dict[str, str]) -> None:
        """What the step's component cannot carry (a run-time value in `env`, an expression `run` cannot
        place), found by reading the step as `build_step` would build it; reported at the value (an
        environment's at its `set:` entry), or at the step in a project built without a spec."""
        found = refusal(step, tracking, uri_inputs)
        if found is not None:
            problem, where = found
            self.unsupported(problem, project.locate(*path, *where) if project.locator is not None else step.span)

    def compile(self, project: Project) -> list[Artifact]:
        pipeline = project.pipeline
        if pipeline is None:
            return []
        self._project = project
        self._launched: dict[str, list[Any]] = {}  # kind -> generated cluster objects it needs
        if any(s.tune is not None for s in pipeline.steps):
            pipeline = tuning.expand(project)
        if not topology.check(pipeline, self._refuse):
            return []
        steps = {s.name: s for s in pipeline.steps}
        params = {p.name: p for p in project.params}
        sources = {d.name: d for d in project.data}
        uri_only = {s.name: data.uri_only_inputs(s, sources) for s in pipeline.steps}
        used: set[str] = {"exit-handler-1"}

        def unique(base: str) -> str:
            name, n = base, 1
            while name in used:
                n += 1
                name = f"{base}-{n}"
            used.add(name)
            return name

        data_tasks: dict[str, tuple[str, str]] = {}  # data source -> (task, output key)

        def channel(key: Key) -> Channel:
            if key[0] == "param":
                return Channel(f"pipelinechannel--{key[1]}", False,
                               {"parameterType": types.parameter_type(params[key[1]].type)})
            if key[0] == "data":
                task, out = data_tasks[key[1]]
                return Channel(f"pipelinechannel--{task}-{out}", True,
                               {"artifactType": types.artifact_type("Dataset")})
            producer = steps[key[1]]
            kind = _output_type(producer, key[2])
            if producer.for_each is not None:  # collected from every item of its loop
                kind = f"list[{kind}]"
            artifact = kind in types.ARTIFACT_SCHEMA
            return Channel(f"pipelinechannel--{step_ids[producer.name]}-{key[2]}", artifact,
                           {"artifactType": types.artifact_type(kind)} if artifact
                           else {"parameterType": types.parameter_type(kind)})

        dag = Dag(project, channel)
        if pipeline.on_exit is not None:
            dag.open_exit_handler()
        components: dict[str, Any] = {}
        executors: dict[str, Any] = {}
        platform: dict[str, Any] = {}

        for source in data.referenced(project, uri_only):
            task = unique(data.task_base(source))
            spec = data.build(source, task)
            components[f"comp-{task}"], executors[f"exec-{task}"] = spec.component, spec.executor
            if spec.config:
                platform[f"exec-{task}"] = spec.config
            dag.top.tasks[task] = spec.task
            dag.top.local[("data", source.name)] = {
                "taskOutputArtifact": {"outputArtifactKey": spec.output, "producerTask": task}}
            data_tasks[source.name] = (task, spec.output)

        tracking = _tracking_env(project.tracking)
        step_ids: dict[str, str] = {}
        collected = topology.collected(pipeline)  # looped step -> output keys read after its loop
        refused: set[str] = set()  # steps reported as unsupported, and so everything after them
        for step in pipeline.steps:
            task_name = unique(step.id)
            step_ids[step.name] = task_name
            if refused.intersection(step.depends_on):
                refused.add(step.name)
                continue
            parts = self._step(step, task_name, tracking, executors, components, platform, uri_only[step.name])
            if parts is None:
                refused.add(step.name)
                continue
            task = _task(step, task_name)
            if data.reads_mutable(step, sources):
                task["cachingOptions"] = {}
            try:
                dag.place(step, task_name, task, parts.bindings, unique)
            except ConditionError as exc:
                self.unsupported(str(exc), step.span)
                continue
            if step.for_each is not None and step.when is None:
                for key in sorted(collected.get(step.name, ())):
                    dag.collect(step, task_name, key)
            if step.when is None and step.for_each is None:
                for key, is_artifact in _output_keys(step):
                    kind = "taskOutputArtifact" if is_artifact else "taskOutputParameter"
                    field = "outputArtifactKey" if is_artifact else "outputParameterKey"
                    dag.top.local[("out", step.name, key)] = {kind: {field: key, "producerTask": task_name}}

        exit_step = pipeline.on_exit
        if exit_step is not None:
            task_name = unique(exit_step.id)
            parts = self._step(exit_step, task_name, tracking, executors, components, platform, {})
            if parts is not None:
                task = _task(exit_step, task_name)
                # The exit step has no inputs that change between runs: cached, it would run once
                # and then replay its first success (a notify that never notifies again).
                task["cachingOptions"] = {}
                task["dependentTasks"] = ["exit-handler-1"]
                task["triggerPolicy"] = {"strategy": "ALL_UPSTREAM_TASKS_COMPLETED"}
                for binding in parts.bindings:
                    dag.bind(dag.root, task, binding, exit_step.name)
                dag.root.tasks[task_name] = task
        dag.finish()
        components.update(dag.group_components)

        spec = _pipeline_spec(project, components, executors, dag)
        documents: list[Any] = [_sorted(spec)]
        if platform:
            documents.append(_sorted({"platforms": {"kubernetes": {"deploymentSpec": {"executors": platform}}}}))
        estimate = size.estimate(documents, pipeline)
        if estimate.bytes > size.WARN_BYTES:
            self.warn(codes.TARGET_LIMIT, estimate.message(), pipeline.steps[0].span if pipeline.steps else None,
                      "split the pipeline, or fan out with fewer, larger items")
        artifacts = [Artifact(OUTPUT_PATH, "yaml", tuple(documents), header=_header(self.header(project), project))]
        if pipeline.schedule is not None:
            artifacts.append(Artifact(schedule.OUTPUT_PATH, "yaml", (_sorted(schedule.recurring_run(project, documents)),),
                                      header=schedule.header(self.header(project), pipeline.schedule)))
        if self._launched:
            artifacts.append(Artifact(RBAC_PATH, "yaml", tuple(map(_sorted, launched.rbac(project, set(self._launched)))),
                                      header=self.header(project) + "\nApply in the namespace pipelines run in: "
                                      "the launcher steps create and delete these jobs."))
        runtimes = [doc for docs in self._launched.values() for doc in docs]
        if runtimes:
            artifacts.append(Artifact(RUNTIMES_PATH, "yaml", tuple(map(_sorted, runtimes)),
                                      header=self.header(project) + "\nCluster-scoped: a cluster admin applies "
                                      "these once (kubectl apply -f), before the pipeline runs."))
        # The Secrets the pods will ask for, read off what was just built (next_steps prints them too).
        self._secrets = setup.checklist(project, documents)
        items = self.next_steps(project)
        if items:
            artifacts.append(setup.note(project, items))
        return artifacts

    def next_steps(self, project: Project) -> list[str]:
        return self._cluster_needs(project) + list(getattr(self, "_secrets", ()))

    def _cluster_needs(self, project: Project) -> list[str]:
        steps = project.pipeline.steps if project.pipeline else ()
        needs = []
        if any(s.distributed is not None and s.distributed.framework != "ray" for s in steps):
            needs.append("Kubeflow Trainer v2.3 (its CRDs and the built-in ClusterTrainingRuntimes)")
        if any(s.distributed is not None and s.distributed.framework == "ray" for s in steps):
            needs.append("the KubeRay v1.7 operator")
        if any(s.tune is not None and s.tune.engine == "katib" for s in steps):
            needs.append("Katib v0.19")
        if any(s.tune is not None and s.tune.engine == "optuna" for s in steps) and not needs:
            return ["The images of the steps with `tune: {engine: optuna}` have the optuna package installed."]
        if not needs:
            return []
        out = [f"The cluster runs {', '.join(needs)}; apply `kubeflow/{RBAC_PATH.split('/')[-1]}` in namespace "
               f"'{project.namespace}' so the launcher steps may create and delete their jobs."]
        if any(s.distributed is not None and s.distributed.framework == "mpi" for s in steps):
            out.append(f"A cluster admin applies `kubeflow/{RUNTIMES_PATH.split('/')[-1]}` (cluster-scoped "
                       "ClusterTrainingRuntimes for the Horovod steps).")
        return out

    def _step(self, step: Step, task_name: str, tracking: tuple[EnvVar, ...], executors: dict[str, Any],
              components: dict[str, Any], platform: dict[str, Any], uri_inputs: dict[str, str]
              ) -> Optional[StepParts]:
        try:
            parts = build_step(step, f"exec-{task_name}", tracking, uri_inputs)
        except StepError as exc:
            self.unsupported(str(exc), step.span)
            return None
        if step.tune is not None:
            if not self._search(step, parts):
                return None
        elif step.distributed is not None and not self._launch(step, parts):
            return None
        components[f"comp-{task_name}"] = parts.component
        executors[f"exec-{task_name}"] = parts.executor
        if step.distributed is not None or (step.tune is not None and step.tune.engine == "katib"):
            # a launcher: the workers carry scheduling and secrets, the launcher only a deadline
            config = {"activeDeadlineSeconds": str(int(step.timeout))} if step.timeout else {}
        else:
            config = executor_config(step, parts.secret_env)
        if config:
            platform[f"exec-{task_name}"] = config
        return parts

    def _launch(self, step: Step, parts: StepParts) -> bool:
        """Turn a distributed step's container into the launcher of its TrainJob or RayJob."""
        dist = step.distributed
        assert dist is not None
        refusal = launched.refusal(step)
        if refusal is not None:
            self.unsupported(refusal[0], dist.span or step.span, refusal[1])
            return False
        container = parts.executor["container"]
        env = {e["name"]: e["value"] for e in container.get("env", ())}
        job = launched.manifest(self._project, step, container["command"], env, parts.secret_env)
        parts.executor = {"container": launched.container(job)}
        parts.secret_env = []
        extra = self._launched.setdefault(job["kind"], [])
        if dist.framework == "mpi":
            extra.append(jobs.horovod_runtime(self._project.name, step, self._project.labels))
            self.warn(codes.HOROVOD_UNMAINTAINED, "Horovod has had no release since 2023 and is unmaintained; "
                      "the generated MPI runtime works with the images that exist today",
                      dist.span or step.span, "for new work prefer `framework: pytorch` (DDP) or `deepspeed`")
        return True

    def _search(self, step: Step, parts: StepParts) -> bool:
        """Turn a tuned step's search task into the launcher of its Katib Experiment."""
        tune = step.tune
        assert tune is not None
        refusal = tuning.refusal(step) or (launched.refusal(step) if step.distributed is not None else None)
        if refusal is not None:
            self.unsupported(refusal[0], tune.span or step.span, refusal[1])
            return False
        container = parts.executor["container"]
        results = {name: f"{{{{$.outputs.parameters['{tuning.best(name)}'].output_file}}}}"
                   for name in [*(p.name for p in tune.params), tune.field]}
        trials = f"{{{{$.outputs.parameters['{tuning.TRIALS}'].output_file}}}}"
        if tune.engine == "optuna":  # an ordinary task whose command runs the whole search
            container["command"] = tuning.optuna_command(step, container["command"], results, trials,
                                                         launched.module_source("search.py"))
            return True
        env = launched.worker_env({e["name"]: e["value"] for e in container.get("env", ())}, parts.secret_env)
        trial, primary = tuning.trial_spec(self._project, step, container["command"], env, launched.worker_pod(step))
        refit = self._project.pipeline.step(step.name[: -len(tuning.SEARCH_SUFFIX)])
        fields = sorted(next(o for o in refit.outputs if o.name == tune.output).fields)
        job = tuning.experiment(self._project, step, trial, primary, fields)
        parts.executor = {"container": launched.container(job, results, trials)}
        parts.secret_env = []
        self._launched.setdefault("Experiment", [])
        if step.distributed is not None and step.distributed.framework == "mpi":
            self._launched["Experiment"].append(jobs.horovod_runtime(self._project.name, step, self._project.labels))
        return True

    def _refuse(self, step: Step, message: str, hint: str) -> None:
        self.warn(codes.TARGET_TOPOLOGY, message, step.span, hint)


def _task(step: Step, name: str) -> dict[str, Any]:
    task: dict[str, Any] = {
        "cachingOptions": {"enableCache": True} if step.cache else {},
        "componentRef": {"name": f"comp-{name}"},
        "taskInfo": {"name": name},
    }
    retry = step.retry
    if retry is not None and retry.count > 0:
        d = types.RETRY_DEFAULTS
        task["retryPolicy"] = {
            "backoffDuration": types.duration(retry.backoff if retry.backoff is not None else d["backoff"]),
            "backoffFactor": float(retry.factor if retry.factor is not None else d["factor"]),
            "backoffMaxDuration": types.duration(
                retry.max_backoff if retry.max_backoff is not None else d["max_backoff"]),
            "maxRetryCount": retry.count,
        }
    return task


def _output_type(step: Step, key: str) -> str:
    for output in step.outputs:
        if output.name == key:
            return output.type
        for field, kind in output.fields.items():
            if key == f"{output.name}__{field}":
                return kind
    raise KeyError(f"{step.name} has no output {key}")


def _output_keys(step: Step) -> list[tuple[str, bool]]:
    keys = [(o.name, o.is_artifact) for o in step.outputs]
    keys += [(f"{o.name}__{f}", False) for o in step.outputs if o.is_artifact for f in o.fields]
    return keys


def _tracking_env(tracking: Optional[Tracking]) -> tuple[EnvVar, ...]:
    """Experiment tracking reaches every step as the variables the clients read."""
    if tracking is None:
        return ()
    env = [EnvVar(name=n, value=v) for n, v in (
        ("MLFLOW_TRACKING_URI", tracking.mlflow_uri), ("MLFLOW_EXPERIMENT_NAME", tracking.mlflow_experiment),
        ("WANDB_PROJECT", tracking.wandb_project), ("WANDB_ENTITY", tracking.wandb_entity)) if v]
    return tuple(env) + tracking.credentials


def _pipeline_spec(project: Project, components: dict[str, Any], executors: dict[str, Any],
                   dag: Dag) -> dict[str, Any]:
    root: dict[str, Any] = {"dag": {"tasks": dag.root.tasks}}
    parameters = {}
    for param in project.params:
        definition: dict[str, Any] = {"parameterType": types.parameter_type(param.type)}
        if param.default is not None:
            definition["defaultValue"] = types.constant(param.default, param.type)
            definition["isOptional"] = True
        if param.description:
            definition["description"] = param.description
        parameters[param.name] = definition
    if parameters:
        root["inputDefinitions"] = {"parameters": parameters}
    info = {"name": project.pipeline.name if project.pipeline else project.name}
    description = (project.pipeline.description if project.pipeline else "") or project.description
    if description:
        info["description"] = description
    return {"components": components, "deploymentSpec": {"executors": executors}, "pipelineInfo": info,
            "root": root, "schemaVersion": types.SCHEMA_VERSION, "sdkVersion": types.SDK_VERSION}


def _header(provenance: str, project: Project) -> str:
    lines = [provenance]
    env = project.environment
    if env is not None:
        where = f"namespace {env.namespace}" + (f", KFP host {env.kfp_host}" if env.kfp_host else "")
        lines.append(f"Environment: {env.name} ({where})")
    lines.append("Submit: kfp run create --experiment-name NAME --package-file kubeflow/pipeline.yaml")
    return "\n".join(lines)


def _sorted(value: Any) -> Any:
    """kfp writes every mapping with sorted keys; so do we (lists keep their order)."""
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, (list, tuple)):
        return [_sorted(v) for v in value]
    return value
