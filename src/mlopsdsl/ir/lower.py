"""A checked spec -> the IR `Project`: defaults applied, names resolved, units in base units.

Runs only on a spec without errors, with the chosen environment's overlay
already applied by the checker; nothing here reports user mistakes.

An environment is lowered after the base spec (`lower_environments`) and takes the base's
`Step` objects, and its `Pipeline` when every step is shared, wherever its overrides changed
nothing a step is made of: a 1,000-step spec with a one-line `set:` is not lowered again, and
the targets' checks can recognise (by identity) what they checked already.
"""

from __future__ import annotations

import operator
import os
from typing import Any, Mapping

from mlopsdsl.check import CheckedSpec
from mlopsdsl.check.symbols import StepDecl
from mlopsdsl import language
from mlopsdsl.expr.units import cron_fields
from mlopsdsl.language import setting
from mlopsdsl.ir import models as m
from mlopsdsl.ir.expr import Expr, Lit, ParamRef, SecretRef, Template, render
from mlopsdsl.ir.lower_expr import lit_text, lower_checked
from mlopsdsl.ir.lower_serving import lower_monitoring, lower_serving
from mlopsdsl.ir.lower_steps import lower_env, lower_step
from mlopsdsl.source import Path


# The variable each tracking client reads a credential from (mlflow/environment_variables.py of
# MLflow 2.x/3.x; wandb reads WANDB_API_KEY).
TRACKING_CREDENTIALS = {("mlflow", "token"): "MLFLOW_TRACKING_TOKEN", ("mlflow", "username"): "MLFLOW_TRACKING_USERNAME",
                        ("mlflow", "password"): "MLFLOW_TRACKING_PASSWORD", ("wandb", "api_key"): "WANDB_API_KEY"}


class UncheckedExpression(AssertionError):
    """A `${{ }}` reached the lowering without a checked result: an internal error (MLD901)."""


class _Lowering:
    def __init__(self, checked: CheckedSpec, spec_path: str, env: str | None, base: "_Lowering | None" = None
                 ) -> None:
        self.checked = checked
        self.data = checked.data
        self.ctx = checked.ctx
        self.spec_path = spec_path
        environments = self.section("environments")
        self.environment = _environment(env, environments[env]) if env in environments else None
        self.folded_data: set[str] = set()  # `data.X.uri` names folded to text (per step, see lower_step)
        self.base = base  # the base spec's lowering, whose steps this one may share
        self.steps: dict[str, m.Step] = {}  # step name -> its IR
        # step name -> the values from outside the step its lowering read (see `_shared_step`)
        self.reads: dict[str, dict[tuple[str, ...], Any]] = {}
        self._reading: dict[tuple[str, ...], Any] | None = None
        self._pipeline: m.Pipeline | None = None

    def section(self, name: str) -> dict[str, Any]:
        value = self.data.get(name)
        return value if isinstance(value, dict) else {}

    # -- values ------------------------------------------------------------------------------
    def constant(self, parts: tuple[str, ...]) -> Any:
        if parts[0] == "data" and len(parts) == 3 and parts[2] == "uri":
            self.folded_data.add(parts[1])
        return self._read(("constant", *parts))

    def _read(self, key: tuple[str, ...]) -> Any:
        """A value from outside the step being lowered, remembered with the step (`reads`)."""
        value = self._outside(key)
        if self._reading is not None and (value is not None or key[0] == "default"):
            self._reading[key] = value  # a reference that is no constant (None) is none in any environment
        return value

    def _outside(self, key: tuple[str, ...]) -> Any:
        """("constant", *reference): what `${{ metadata.X }}`, `${{ env.X }}`, `${{ data.X.uri }}` stand for
        at compile time (None: the reference is not a constant); ("default", NAME): param NAME's default."""
        if key[0] == "default":
            return (self.section("params").get(key[1]) or {}).get("default")
        parts = key[1:]
        root = parts[0]
        if root in ("metadata", "model") and len(parts) == 2:
            return self.section(root).get(parts[1], "")
        if root == "env" and len(parts) == 2:
            env = self.environment
            value = getattr(env, parts[1], None) if env else None
            return value if value is not None else ""
        if root == "data" and len(parts) == 3 and parts[2] == "uri":
            source = self.section("data").get(parts[1]) or {}
            if "uri" in source:
                return self.text(("data", parts[1], "uri"), source["uri"])
            dvc = source.get("dvc") or {}
            return f"dvc://{dvc.get('repo', '')}#{dvc.get('path', '')}@{dvc.get('rev', '')}"
        return None

    def value(self, path: Path, raw: Any) -> Any:
        """The IR form of the value at `path`: an Expr or Text when it holds `${{ }}`, else `raw`."""
        checked = self.checked.exprs.get(path)
        if checked is None:
            if isinstance(raw, str) and "${{" in raw:
                # The checker checks every string holding `${{` where it is written and keeps the result
                # where the value is read: one it missed would reach the output as text (a `${{ secrets.X }}`
                # in a pod's env). That is a bug of mlopsdsl, never something to write.
                raise UncheckedExpression(f"the expression at {'.'.join(map(str, path))} was never checked")
            return raw
        return lower_checked(checked, self.constant)

    def text(self, path: Path, raw: Any) -> Any:
        lowered = self.value(path, raw)
        if isinstance(lowered, Lit):
            return lit_text(lowered)
        return lowered

    def plain(self, path: Path, raw: Any) -> str:
        """Text that must be known at compile time (an image, a storage URI, a serving command).

        Outside a pipeline run there is no run-time value for a parameter, so
        `params.X` stands for its default here, as the docs say.
        """
        lowered = self.text(path, raw)
        parts = lowered.parts if isinstance(lowered, Template) else (lowered,)
        return "".join(self._compile_time(p) for p in parts)

    def _compile_time(self, part: Any) -> str:
        if part is None:
            return ""
        if isinstance(part, str):
            return part
        if isinstance(part, ParamRef):
            default = self._read(("default", part.name))
            return lit_text(Lit(value=default, type=part.type)) if default is not None else ""
        if isinstance(part, Lit):
            return lit_text(part)
        return "${{ " + _render(part) + " }}"

    def expr(self, path: Path) -> Expr | None:
        lowered = self.value(path, None)
        return lowered if lowered is not None and not isinstance(lowered, (str, Template)) else None

    def span(self, path: Path, key: bool = True):
        return self.ctx.span(path, key=key)

    # -- sections ----------------------------------------------------------------------------
    def project(self) -> m.Project:
        metadata = self.section("metadata")
        return m.Project(
            name=metadata["name"], version=str(setting(metadata, "metadata.version")),
            description=metadata.get("description", ""), owners=tuple(metadata.get("owners") or ()),
            labels={str(k): str(v) for k, v in (metadata.get("labels") or {}).items()},
            annotations={str(k): str(v) for k, v in (metadata.get("annotations") or {}).items()},
            spec_path=self.spec_path, environment=self.environment,
            environments=tuple(_environment(n, e) for n, e in self.section("environments").items()),
            model=_model(self.section("model")) if self.section("model") else None,
            tracking=self.tracking(), params=tuple(_param(n, p) for n, p in self.section("params").items()),
            data=tuple(self.data_source(n, d) for n, d in self.section("data").items()),
            pipeline=self.pipeline(), serving=self.serving(), monitoring=self.monitoring(), ci=self.ci(),
            patches=tuple(self.patch(i, p) for i, p in enumerate(self.data.get("patches") or [])),
            locator=m.Locator(self.ctx.index))

    def tracking(self) -> m.Tracking | None:
        tracking = self.section("tracking")
        if not tracking:
            return None
        mlflow, wandb = tracking.get("mlflow") or {}, tracking.get("wandb") or {}
        credentials = []
        for (client, field), variable in TRACKING_CREDENTIALS.items():
            secret = self.expr(("tracking", client, field)) if field in tracking.get(client, {}) else None
            if isinstance(secret, SecretRef):
                credentials.append(m.EnvVar(name=variable, secret=secret.name, secret_key=secret.key))
        return m.Tracking(mlflow_uri=mlflow.get("uri") and self.plain(("tracking", "mlflow", "uri"), mlflow["uri"]),
                          mlflow_experiment=mlflow.get("experiment"), wandb_project=wandb.get("project"),
                          wandb_entity=wandb.get("entity"), credentials=tuple(credentials))

    def data_source(self, name: str, source: dict[str, Any]) -> m.DataSource:
        dvc = source.get("dvc")
        return m.DataSource(
            name=name, uri=self.plain(("data", name, "uri"), source["uri"]) if "uri" in source else None,
            dvc=m.DvcSource(repo=dvc["repo"], path=dvc["path"], rev=str(setting(dvc, "data.*.dvc.rev")),
                            env=tuple(lower_env(self, ("data", name, "dvc", "env"), dvc.get("env") or {})))
            if dvc else None,
            columns={str(k): str(v) for k, v in (source.get("schema") or {}).items()},
            format=source.get("format"), description=source.get("description", ""),
            span=self.span(("data", name)))

    def pipeline(self) -> m.Pipeline | None:
        symbols, order = self.checked.symbols, self.checked.order or []
        if not symbols.steps and symbols.exit_step is None:
            return None
        steps = tuple(self.step(symbols.steps[name]) for name in order)
        on_exit = self.step(symbols.exit_step) if symbols.exit_step else None
        description = self.section("pipeline").get("description") or self.section("metadata").get("description", "")
        schedule = self.section("pipeline").get("schedule")
        schedule = cron_fields(schedule) if schedule else None
        shared = self.base._pipeline if self.base is not None else None
        if (shared is not None and len(shared.steps) == len(steps) and all(map(operator.is_, shared.steps, steps))
                and shared.on_exit is on_exit and (shared.name, shared.description, shared.schedule)
                == (self.section("metadata")["name"], description, schedule)):
            return shared  # made of the base's steps: the base's pipeline
        self._pipeline = m.Pipeline(name=self.section("metadata")["name"], description=description, steps=steps,
                                    on_exit=on_exit, schedule=schedule)
        return self._pipeline

    def step(self, step: StepDecl) -> m.Step:
        lowered = self._shared_step(step)
        if lowered is None:
            self._reading = {}
            lowered = lower_step(self, step)
            self.reads[step.name], self._reading = self._reading, None
        self.steps[step.name] = lowered
        return lowered

    def _shared_step(self, step: StepDecl) -> m.Step | None:
        """The base spec's IR of `step`, when this variant's lowering of it would be the same.

        It is when the step's expressions are the base's very results (the checker shares them
        only for a step the overlay left alone, with the same component and global names), the
        defaults it merged are the base's, it has the same upstream steps, and every value from
        outside it that its lowering read (a param default, `env.X`...) is unchanged.
        """
        base = self.base
        shared = base.steps.get(step.name) if base is not None else None
        if shared is None or self.data.get("defaults") is not base.data.get("defaults"):
            return None
        record = self.checked.exprs.steps.get(step.name)
        if record is None or record is not base.checked.exprs.steps.get(step.name):
            return None
        graph = self.checked.graph
        if graph is not base.checked.graph and shared.depends_on != tuple(
                sorted(graph.predecessors(step.name)) if step.name in graph else ()):
            return None
        if not all(_same(self._outside(key), value) for key, value in base.reads[step.name].items()):
            return None
        self.reads[step.name] = base.reads[step.name]
        return shared

    def serving(self) -> m.Serving | None:
        return lower_serving(self) if self.section("serving") else None

    def monitoring(self) -> m.Monitoring | None:
        return lower_monitoring(self) if self.section("monitoring") else None

    def ci(self) -> m.GitHubCI | None:
        github = self.section("ci").get("github")
        if not isinstance(github, dict):
            return None
        train, deploy, retrain = (github.get(k) or {} for k in ("train", "deploy", "retrain"))
        return m.GitHubCI(
            on=github.get("on") or language.default("ci.github.on"),
            python=str(setting(github, "ci.github.python")), mlopsdsl=tool_install(github.get("mlopsdsl")),
            install=tuple(github.get("install") or ()),
            test=tuple(github.get("test") or ()), runs_on=setting(github, "ci.github.runs_on"),
            env=tuple(lower_env(self, ("ci", "github", "env"), github.get("env") or {})),
            train_on_branch=train.get("on_branch"), train_environment=train.get("environment"),
            deploy_environments=tuple(deploy.get("environments") or ()),
            retrain_schedule=cron_fields(retrain["schedule"]) if "schedule" in retrain else None,
            retrain_environment=retrain.get("environment"), span=self.span(("ci", "github")))

    def patch(self, i: int, patch: dict[str, Any]) -> m.Patch:
        select = patch.get("select") or {}
        ops = patch.get("json_patch")
        return m.Patch(target=patch["target"], file=patch.get("file"), kind=select.get("kind"),
                       name=select.get("name"), json_patch=tuple(ops) if ops is not None else None,
                       merge=patch.get("merge"), span=self.span(("patches", i), key=False))


def tool_install(raw: Any) -> m.ToolInstall | None:
    """`ci.github.mlopsdsl` (a string is the `install` shorthand) as a pip requirement."""
    if raw is None:
        return None
    spec = raw if isinstance(raw, dict) else {"install": raw}
    install = str(spec["install"])
    requirement = f"mlopsdsl @ {install}" if "://" in install else f"mlopsdsl=={install}"
    return m.ToolInstall(requirement=requirement, index=spec.get("index"),
                         python=str(setting(spec, "ci.github.mlopsdsl.python")))


def _render(expr: Expr) -> str:
    return render(expr)


def _environment(name: str, env: dict[str, Any]) -> m.Environment:
    return m.Environment(name=name, namespace=setting(env, "environments.*.namespace"), kfp_host=env.get("kfp_host"),
                         approval=bool(setting(env, "environments.*.approval")), url=env.get("url"))


def _model(model: dict[str, Any]) -> m.ModelInfo:
    return m.ModelInfo(name=model.get("name", ""), task=setting(model, "model.task"),
                       framework=setting(model, "model.framework"), description=model.get("description", ""))


def _param(name: str, param: dict[str, Any]) -> m.Param:
    return m.Param(name=name, type=param["type"], default=param.get("default"), min=param.get("min"),
                   max=param.get("max"), choices=tuple(param.get("choices") or ()),
                   description=param.get("description", ""))


def repository_path(spec_path: str) -> str:
    """The spec's path from the root of its repository (POSIX separators), whatever the cwd.

    Generated workflows run `mlopsdsl` from the repository root, and `compile --check` must
    give the same bytes from any directory, so the path is taken from the nearest directory
    above the spec holding `.git` (a directory, or a file in a worktree); a spec in no
    repository is named by its file name (its directory is the root).
    """
    spec = os.path.abspath(spec_path)
    folder = os.path.dirname(spec)
    root = folder
    while True:
        if os.path.exists(os.path.join(root, ".git")):
            break
        parent = os.path.dirname(root)
        if parent == root:
            root = folder
            break
        root = parent
    return os.path.relpath(spec, root).replace(os.sep, "/")


def _same(a: Any, b: Any) -> bool:
    """Equal and of the same type (a default of 1 and one of 1.0 are written differently)."""
    return type(a) is type(b) and a == b


def lower_spec(checked: CheckedSpec, spec_path: str, env: str | None) -> m.Project:
    return _Lowering(checked, repository_path(spec_path), env).project()


def lower_environments(variants: Mapping[str | None, CheckedSpec], spec_path: str, names: list[str]
                       ) -> tuple[m.Project, dict[str, m.Project]]:
    """The spec lowered for no environment (`variants[None]`) and for each of `names`; an environment
    missing from `variants` overlays nothing (its check is the base spec's). Each environment shares
    the base's IR where it can (see the module's docstring)."""
    path = repository_path(spec_path)
    base = _Lowering(variants[None], path, None)
    project = base.project()
    return project, {name: _Lowering(variants.get(name, variants[None]), path, name, base).project()
                     for name in names}
