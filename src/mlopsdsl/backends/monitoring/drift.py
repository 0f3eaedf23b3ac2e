"""The drift job: a ConfigMap (what to compare) and a CronJob (when), and its contract.

The job image (`monitoring.drift.image`, default `metrics.DEFAULT_DRIFT_IMAGE`)
receives everything through environment variables from the ConfigMap:

    PROJECT NAMESPACE SERVICE       whose traffic to judge
    METHOD THRESHOLD FEATURES       psi|ks|wasserstein|chi2, the score that counts as
                                    drift, comma-separated feature names
    REFERENCE_NAME and REFERENCE_URI, or REFERENCE_DVC_REPO/_PATH/_REV
                                    the training-time distribution (`data.<name>`)
    PUSHGATEWAY_URL PUSHGATEWAY_JOB METRIC_NAME
    ON_DRIFT                        retrain | alert
    DISPATCH_EVENT_TYPE             (retrain only) `mlopsdsl-retrain-<project>` (backends/events.py)
    DISPATCH_ENVIRONMENT            (retrain only, with --env) the environment to name in the payload

Each run it pushes, to `$PUSHGATEWAY_URL/metrics/job/$PUSHGATEWAY_JOB/namespace/
$NAMESPACE/project/$PROJECT` (a PUT, so features dropped from the spec disappear),
one gauge per feature, `mlopsdsl_drift_score{feature, method}`, plus
`mlopsdsl_drift_last_run_timestamp_seconds`. A CronJob pod lives for seconds, too
short to be scraped, hence the Pushgateway; Prometheus must scrape it with
`honor_labels: true` (kube-prometheus-stack's pushgateway chart does) so the pushed
`namespace`/`project` labels are kept. `drift.score` in alerts is the maximum over
features; `drift.score.<feature>` one feature.

With `on_drift: retrain`, when any feature's score exceeds THRESHOLD the job sends
`POST https://api.github.com/repos/$GITHUB_REPOSITORY/dispatches` with
`{"event_type": "mlopsdsl-retrain-<project>", "client_payload": {"project", "namespace",
"environment", "scores"}}` and `Authorization: Bearer $GITHUB_TOKEN`; the retrain workflow listens
on `repository_dispatch: {types: [mlopsdsl-retrain-<project>]}` and trains in the environment
named by `client_payload.environment`. Token and repository come
from the Kubernetes Secret `<project>-retrain-dispatch` (keys `token`, `repository`;
the token needs `contents: write` on that repository), never from the ConfigMap.
"""

from __future__ import annotations

from mlopsdsl.backends import events, promql
from mlopsdsl.backends.base import Backend
from mlopsdsl.backends.monitoring import metrics
from mlopsdsl.backends.monitoring.rules import MANAGED_BY
from mlopsdsl.ir import Monitoring, Project

CRONJOB_NAME_MAX = 52  # the CronJob controller appends an 11-character job suffix to a 63-limit name


def job_name(project: Project) -> str:
    return f"{project.name[:CRONJOB_NAME_MAX - len('-drift')].rstrip('-')}-drift"


def dispatch_secret(project: Project) -> str:
    return f"{project.name}-retrain-dispatch"


def config_data(project: Project, mon: Monitoring, ctx: promql.PromContext, backend: Backend) -> dict[str, str]:
    drift = mon.drift
    data = {"PROJECT": project.name, "NAMESPACE": ctx.namespace, "SERVICE": ctx.service,
            "METHOD": drift.method, "THRESHOLD": promql.format_number(drift.threshold),
            "FEATURES": ",".join(drift.features), "REFERENCE_NAME": drift.reference}
    source = next((d for d in project.data if d.name == drift.reference), None)
    if source is None:
        backend.unsupported(f"a drift reference that is not a data source ('{drift.reference}')", drift.span,
                            "reference one of `data:` as `${{ data.NAME }}`")
    elif source.dvc is not None:
        data.update({"REFERENCE_DVC_REPO": source.dvc.repo, "REFERENCE_DVC_PATH": source.dvc.path,
                     "REFERENCE_DVC_REV": source.dvc.rev})
    elif source.uri is not None:
        data["REFERENCE_URI"] = source.uri
    if source is not None and source.format:
        data["REFERENCE_FORMAT"] = source.format
    data.update({"PUSHGATEWAY_URL": ctx.drift.pushgateway_url.format(prometheus_namespace=mon.namespace),
                 "PUSHGATEWAY_JOB": ctx.drift.job, "METRIC_NAME": ctx.drift.metric, "ON_DRIFT": drift.on_drift})
    if drift.on_drift == "retrain":
        data["DISPATCH_EVENT_TYPE"] = events.retrain_event(project)
        if project.environment is not None:  # sent back as client_payload.environment: retrain where it drifted
            data["DISPATCH_ENVIRONMENT"] = project.environment.name
    return data


def documents(project: Project, mon: Monitoring, ctx: promql.PromContext, backend: Backend) -> list[dict]:
    drift = mon.drift
    name = job_name(project)
    labels = {**MANAGED_BY, "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": project.name}
    configmap = {"apiVersion": "v1", "kind": "ConfigMap",
                 "metadata": {"name": name, "namespace": ctx.namespace, "labels": labels},
                 "data": config_data(project, mon, ctx, backend)}
    container: dict = {
        "name": "drift", "image": drift.image or metrics.DEFAULT_DRIFT_IMAGE,
        "envFrom": [{"configMapRef": {"name": name}}],
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}},
        "securityContext": {"allowPrivilegeEscalation": False, "runAsNonRoot": True,
                            "capabilities": {"drop": ["ALL"]}},
    }
    if drift.on_drift == "retrain":
        secret = dispatch_secret(project)
        container["env"] = [
            {"name": "GITHUB_TOKEN", "valueFrom": {"secretKeyRef": {"name": secret, "key": "token"}}},
            {"name": "GITHUB_REPOSITORY", "valueFrom": {"secretKeyRef": {"name": secret, "key": "repository"}}}]
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
