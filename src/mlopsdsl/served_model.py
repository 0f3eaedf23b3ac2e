"""`compile --model URI`: the model `serving.model` names, as one finished run trained it.

`serving.model: ${{ steps.train.outputs.model }}` says which output is served; which *run's*
output is known only after a run, so the deploy says it: the run's artifact URI (the KFP
launcher writes each output under a URI of its own run, so a retrain never overwrites it), or
`models:/NAME/VERSION` of the MLflow registry, resolved here to the version's files. The
InferenceService then loads exactly that model (`storageUri`), and a retrain deployed this way
is a new storageUri, hence a new Knative revision, never a re-apply of the old one.
Without `--model` the InferenceService loads `serving.storage_uri`, as before.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path
from typing import Optional
from urllib.parse import urlparse

from mlopsdsl.backends.k8s import STORAGE_SCHEMES
from mlopsdsl.diagnostics import Diagnostic, codes
from mlopsdsl.ir import Project
from mlopsdsl.source import Span

_REGISTRY = re.compile(r"^models:/(?P<name>[^/@]+)(?:/(?P<version>[^/]*)|@(?P<alias>.*))?/?$")


def bind(project: Project, uri: str) -> tuple[Optional[Project], list[Diagnostic]]:
    """PROJECT with its served model at URI (the primary predictor's storage), or the problems."""
    serving = project.serving
    where = (serving.span if serving and serving.span else None) or Span.point(project.spec_path)
    if serving is None or serving.model_step is None:
        return None, [Diagnostic(codes.SERVED_MODEL_UNNAMED, "`--model` is the URI of the model `serving.model` "
                                 "names, and the spec has no `serving.model`", where,
                                 hint="set `serving.model: ${{ steps.STEP.outputs.MODEL }}`, or drop `--model`")]
    registry = _REGISTRY.match(uri)
    if registry:
        uri, problem = _from_registry(project, registry, where)
        if problem:
            return None, [problem]
    scheme = urlparse(uri).scheme
    if scheme not in STORAGE_SCHEMES:
        return None, [Diagnostic(codes.SERVED_MODEL_URI, f"KServe cannot load a model from `{uri}`", where,
                                 hint="give the run's artifact URI in the object store (" +
                                      ", ".join(f"{s}://" for s in STORAGE_SCHEMES) + ") or `models:/NAME/VERSION` "
                                      "of a registry whose artifacts live there")]
    return project.model_copy(update={"serving": serving.model_copy(update={"storage_uri": uri})}), []


def _from_registry(project: Project, found: re.Match, where: Span) -> tuple[str, Optional[Diagnostic]]:
    name, version = found["name"], found["version"]

    def problem(message: str, hint: str) -> tuple[str, Diagnostic]:
        return "", Diagnostic(codes.SERVED_MODEL_REGISTRY, message, where, hint=hint)

    if not (version or "").isdigit():
        # an alias (or `latest`) moves when someone registers again: deploy one version, exactly
        return problem(f"`{found.group(0)}` does not name one version", f"give the version: `models:/{name}/N`")
    expected = project.model.name if project.model else None
    if expected and name != expected:
        return problem(f"`models:/{name}/...` is not this project's model `{expected}`",
                       f"serve `models:/{expected}/{version}`")
    tracking = project.tracking.mlflow_uri if project.tracking else None
    if not tracking:
        return problem("`models:/...` needs the MLflow registry, and the spec has no `tracking.mlflow.uri`",
                       "give the run's artifact URI instead")
    if tracking.startswith("sqlite:///") and not Path(tracking[len("sqlite:///"):]).is_file():
        # MLflow would create an empty store here: a side effect, and a registry with no versions
        return problem(f"there is no MLflow store at `{tracking[len('sqlite:///'):]}`",
                       "run from the folder `tracking.mlflow.uri` is relative to")
    try:
        from mlflow import MlflowClient
        from mlflow.exceptions import MlflowException
    except ImportError:
        return problem("resolving `models:/...` needs MLflow's client", "pip install mlflow-skinny")
    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(logging.WARNING)  # its store migrations log at INFO on stderr
    try:
        return MlflowClient(tracking_uri=tracking).get_model_version_download_uri(name, version), None
    except MlflowException as exc:
        return problem(f"the MLflow registry has no `{name}` version {version}: {exc.message}",
                       "list its versions with `mlflow models` or the MLflow UI")
    except OSError as exc:  # the tracking server did not answer
        return problem(f"the MLflow registry did not answer: {exc.strerror or exc}", "check `tracking.mlflow.uri`")
    finally:
        logger.setLevel(level)
