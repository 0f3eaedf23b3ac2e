"""The drift job: a ConfigMap (what to compare), a CronJob (when), and the image's Dockerfile.

The job is `python -m mlopsdsl.drift` (src/mlopsdsl/drift/, the `drift` extra); its
environment contract is documented in mlopsdsl/drift/job.py and filled here:

    PROJECT NAMESPACE SERVICE ENVIRONMENT   whose traffic, and the environment it ran in
    METHOD THRESHOLD FEATURES FEATURE_TYPES psi|ks|wasserstein|chi2, the score that counts as
    COLUMNS                                 drift, the features and their schema types, the
                                            reference schema's columns in order
    REFERENCE_URI [REFERENCE_FORMAT]        or REFERENCE_DVC_REPO/_PATH/_REV: `data.<reference>`
    CURRENT_URI / CURRENT_DVC_*             `drift.current` (a data source), or
    REQUEST_LOG_URI REQUEST_LOG_WINDOW      `drift.request_log`: the prefix KServe's logger
                                            writes this service's predictor requests under
                                            (<uri>/<namespace>/<isvc>/predictor/<path>, the
                                            kserve target turns the logger on), seconds to read
    MIN_ROWS                                fewer current rows: no verdict
    PUSHGATEWAY_URL PUSHGATEWAY_JOB METRIC_NAME ON_DRIFT
    DISPATCH_EVENT_TYPE                     (retrain only) `mlopsdsl-retrain-<project>` (backends/events.py)

Each run it pushes, to `$PUSHGATEWAY_URL/metrics/job/$PUSHGATEWAY_JOB/namespace/
$NAMESPACE/project/$PROJECT` (a PUT, so features dropped from the spec disappear),
one gauge per feature, `mlopsdsl_drift_score{feature, method}`, plus
`mlopsdsl_drift_last_run_timestamp_seconds`. A CronJob pod lives for seconds, too
short to be scraped, hence the Pushgateway; Prometheus must scrape it with
`honor_labels: true` (kube-prometheus-stack's pushgateway chart does) so the pushed
`namespace`/`project` labels are kept. `drift.score` in alerts is the maximum over
features; `drift.score.<feature>` one feature.

With `on_drift: retrain`, when any feature's score exceeds THRESHOLD the job sends
`POST $GITHUB_API_URL/repos/$GITHUB_REPOSITORY/dispatches` with
`{"event_type": "mlopsdsl-retrain-<project>", "client_payload": {"environment", "project",
"namespace", "scores"}}` and `Authorization: Bearer $GITHUB_TOKEN`; the retrain workflow listens
on `repository_dispatch: {types: [mlopsdsl-retrain-<project>]}` and trains in the environment
named by `client_payload.environment`. Token and repository come from the Kubernetes Secret
`<project>-retrain-dispatch` (keys `token`, `repository`; the token needs `contents: write`
on that repository), never from the ConfigMap. Storage credentials come from the Secrets
`drift.credentials` names (all their keys, as environment variables), and a DVC reference or
current source's `dvc.env` (its `secrets.NAME.KEY` as `secretKeyRef`s), as the fetch step gets it.

The image is `drift.image` (tagged `metadata.version` when it names no tag). When
`ci.github.mlopsdsl` says how to install mlopsdsl, `monitoring/drift/Dockerfile` builds it
from that same requirement with the `drift` extra, as a non-root user.
"""

from __future__ import annotations

import json
import re

from mlopsdsl.backends import events, k8s, promql
from mlopsdsl.backends.base import Backend, codes
from mlopsdsl.ir import DataSource, Drift, EnvVar, Monitoring, Project, RequestLog

CRONJOB_NAME_MAX = 52  # the CronJob controller appends an 11-character job suffix to a 63-limit name


def job_name(project: Project) -> str:
    return f"{project.name[:CRONJOB_NAME_MAX - len('-drift')].rstrip('-')}-drift"


def dispatch_secret(project: Project) -> str:
    return f"{project.name}-retrain-dispatch"


def _source(prefix: str, source: DataSource) -> dict[str, str]:
    out = {}
    if source.dvc is not None:
        out.update({f"{prefix}_DVC_REPO": source.dvc.repo, f"{prefix}_DVC_PATH": source.dvc.path,
                    f"{prefix}_DVC_REV": source.dvc.rev or ""})
    elif source.uri is not None:
        out[f"{prefix}_URI"] = source.uri
    if source.format:
        out[f"{prefix}_FORMAT"] = source.format
    return out


def request_log_prefix(project: Project, log: RequestLog, namespace: str) -> str:
    """Where KServe v0.20's blob store puts the predictor's requests (pkg/logger/store.go getObjectPrefix)."""
    service = project.serving.name if project.serving else project.name
    return "/".join([log.uri.rstrip("/"), namespace, service, "predictor", log.path.strip("/")])


def config_data(project: Project, mon: Monitoring, ctx: promql.PromContext, backend: Backend) -> dict[str, str]:
    drift = mon.drift
    data = {"PROJECT": project.name, "NAMESPACE": ctx.namespace, "SERVICE": ctx.service,
            "ENVIRONMENT": project.environment.name if project.environment else "",
            "METHOD": drift.method, "THRESHOLD": promql.format_number(drift.threshold),
            "FEATURES": ",".join(drift.features), "MIN_ROWS": str(drift.min_rows)}
    sources = {d.name: d for d in project.data}
    reference = sources.get(drift.reference)
    if reference is None:
        backend.unsupported(f"a drift reference that is not a data source ('{drift.reference}')", drift.span,
                            "reference one of `data:` as `${{ data.NAME }}`")
    else:
        data["FEATURE_TYPES"] = ",".join(f"{f}={reference.columns[f]}" for f in drift.features
                                         if f in reference.columns)
        data["COLUMNS"] = ",".join(reference.columns) or ",".join(drift.features)
        data.update(_source("REFERENCE", reference))
    if drift.current is not None and drift.current in sources:
        data.update(_source("CURRENT", sources[drift.current]))
    elif drift.request_log is not None:
        data["REQUEST_LOG_URI"] = request_log_prefix(project, drift.request_log, ctx.namespace)
        data["REQUEST_LOG_WINDOW"] = promql.format_number(drift.request_log.window)
    data.update({"PUSHGATEWAY_URL": ctx.drift.pushgateway_url.format(prometheus_namespace=mon.namespace),
                 "PUSHGATEWAY_JOB": ctx.drift.job, "METRIC_NAME": ctx.drift.metric, "ON_DRIFT": drift.on_drift})
    if drift.on_drift == "retrain":
        data["DISPATCH_EVENT_TYPE"] = events.retrain_event(project)
    return data


def source_env(project: Project, drift: Drift, backend: Backend | None = None) -> list[EnvVar]:
    """What the job's `dvc get` of a DVC reference or current source runs with (`data.X.dvc.env`).

    Both sources are read by one process: a variable the two set differently cannot be given to it."""
    chosen: dict[str, EnvVar] = {}
    for source in project.data:
        if source.dvc is None or source.name not in (drift.reference, drift.current):
            continue
        for var in source.dvc.env:
            if var.name in chosen and chosen[var.name] != var and backend is not None:
                backend.unsupported(f"two DVC sources of the drift job that set `{var.name}` differently",
                                    source.span, "read both through one DVC remote's credentials")
            chosen.setdefault(var.name, var)
    return [chosen[name] for name in sorted(chosen)]


def image(project: Project, drift: Drift) -> str:
    """`drift.image`, tagged with the project's version when it names neither tag nor digest."""
    name = drift.image or ""
    tagged = "@" in name or ":" in name.rsplit("/", 1)[-1]
    return name if tagged or not name else f"{name}:{project.version}"


def documents(project: Project, mon: Monitoring, ctx: promql.PromContext, backend: Backend) -> list[dict]:
    drift = mon.drift
    name = job_name(project)
    labels = k8s.labels(project, name, "drift-detection")
    configmap = {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": name, "namespace": ctx.namespace, "labels": labels},
                 "data": config_data(project, mon, ctx, backend)}
    if not drift.image:
        backend.warn(codes.DRIFT_NEEDS_IMAGE, "the drift job has no image", drift.span,
                     "set `monitoring.drift.image`")
    container: dict = {
        "name": "drift", "image": image(project, drift),
        "envFrom": [{"configMapRef": {"name": name}}] + [{"secretRef": {"name": s}} for s in drift.credentials],
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                            "capabilities": {"drop": ["ALL"]}},
    }
    env = [k8s.secret_env(var) if var.secret else {"name": var.name, "value": var.value or ""}
           for var in source_env(project, drift, backend)]
    if drift.on_drift == "retrain":
        secret = dispatch_secret(project)
        env += [{"name": "GITHUB_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret, "key": "token"}}},
                {"name": "GITHUB_REPOSITORY", "valueFrom": {"secretKeyRef": {"name": secret, "key": "repository"}}}]
    if env:
        container["env"] = env
    cronjob = {
        "apiVersion": "batch/v1", "kind": "CronJob",
        "metadata": {"name": name, "namespace": ctx.namespace, "labels": labels},
        "spec": {
            "schedule": drift.schedule,
            # A slow run must not overlap the next one: two pushes would race.
            "concurrencyPolicy": "Forbid", "startingDeadlineSeconds": 300,
            "successfulJobsHistoryLimit": 3, "failedJobsHistoryLimit": 3,
            "jobTemplate": {"metadata": {"labels": labels}, "spec": {
                "backoffLimit": 1,
                "template": {"metadata": {"labels": labels}, "spec": {
                    "restartPolicy": "Never", "automountServiceAccountToken": False,
                    "containers": [container]}}}},
        },
    }
    return [configmap, cronjob]


NONROOT = "65532:65532"


def dockerfile(project: Project) -> str | None:
    """The drift job's image, from the requirement the workflows install mlopsdsl by (None without one).

    Exec-form instructions only: the requirement is an argument, never shell text."""
    tool = project.ci.mlopsdsl if project.ci else None
    drift = project.monitoring.drift if project.monitoring else None
    if tool is None or drift is None:
        return None
    requirement = re.sub(r"^mlopsdsl(?=\s*(@|==|$))", "mlopsdsl[drift]", tool.requirement.strip())
    install = ["pip", "install", "--no-cache-dir"] + (["--index-url", tool.index] if tool.index else [])
    packages = [requirement]
    names = {drift.reference, drift.current}
    if any(d.dvc is not None for d in project.data if d.name in names):
        packages.append("dvc[s3,gs,azure]>=3")
    lines = [f"# {line}" for line in (
        f"The drift job of {project.name} (monitoring.drift): `python -m mlopsdsl.drift`.",
        f"Build and push as {image(project, drift)}; generated by mlopsdsl from {project.spec_path}.")]
    lines += [f"FROM python:{tool.python}-slim",
              "ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1",
              f"RUN {json.dumps(install + packages)}",
              f"USER {NONROOT}",
              'ENTRYPOINT ["python", "-m", "mlopsdsl.drift"]']
    return "\n".join(lines) + "\n"
