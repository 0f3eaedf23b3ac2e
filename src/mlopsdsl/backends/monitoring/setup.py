"""What the cluster must provide before the monitoring output works: a checklist, and `monitoring/SETUP.md`.

Rules and monitors apply cleanly and then silently do nothing when the cluster lacks
one setting: Knative 1.19+ exports no request metrics until `config-observability`
says how, the Operator ignores rules whose labels its selector does not match, a
Pushgateway without `honorLabels` renames the drift job's labels. Each item below is
one such condition, named with the exact object, key or flag.
"""

from __future__ import annotations

from mlopsdsl.backends import k8s, promql
from mlopsdsl.backends.base import Artifact, setup_note
from mlopsdsl.backends.monitoring import alertmanager, drift, metrics
from mlopsdsl.ir import Project

__all__ = ["checklist", "note"]

_COLLECTION = {
    "knative-otel": (
        "Knative Serving >= 1.19 exports no request metrics by default (`request-metrics-protocol: none`). In the "
        "ConfigMap `config-observability` (namespace `knative-serving`, or the KnativeServing CR's "
        "`spec.config.observability`) set `request-metrics-protocol: prometheus` (the generated PodMonitor scrapes "
        "port `http-usermetric` and copies the revision labels), or push OTLP to Prometheus "
        "(`request-metrics-protocol: http/protobuf`, `request-metrics-endpoint: <prometheus>/api/v1/otlp/v1/metrics`) "
        "with `otlp.promote_resource_attributes` listing `k8s.namespace.name`, `kn.service.name` and "
        "`kn.revision.name`."),
    "knative-opencensus": (
        "Knative Serving <= 1.18: keep `metrics.request-metrics-backend-destination: prometheus` in "
        "`config-observability` (namespace `knative-serving`); the PodMonitor scrapes port `http-usermetric`."),
    "istio": ("Istio sidecar injection in namespace `{namespace}` (`istio-injection=enabled`): the SLIs read "
              "`istio_requests_total` from each pod's `http-envoy-prom` port."),
    "kserve-model-server": ("Nothing to enable: KServe's Python model server serves `/metrics` on port 8080. "
                            "Other runtimes (Triton, TorchServe, a custom image) do not export "
                            "`request_predict_seconds`."),
}


def checklist(project: Project) -> list[str]:
    mon = project.monitoring
    if mon is None:
        return []
    ctx = promql.context_for(project)
    labels = ", ".join(f"{k}: {v}" for k, v in sorted(mon.rule_labels.items())) or "none"
    items = []
    if project.serving is not None:
        items.append(_COLLECTION[project.serving.metrics].format(namespace=ctx.namespace))
    items.append(f"The Prometheus Operator selects `prometheus-rules.yaml` and `podmonitor.yaml` by their labels "
                 f"({labels}): `kubectl get prometheus -A -o jsonpath='{{..ruleSelector}}{{..podMonitorSelector}}'` "
                 "must match them, or the rules are accepted and never evaluated.")
    if project.serving is not None:
        items.append("kube-state-metrics (part of kube-prometheus-stack) for `serving.replicas` "
                     "(`kube_deployment_status_replicas_available`).")
    secrets = [f"`{alertmanager.k8s_secret_name(s)}` (key `{key}`)" for s, key in (
        (mon.notify.slack_webhook_secret, "url"), (mon.notify.pagerduty_routing_key_secret, "routing_key")) if s]
    if secrets:
        items.append(f"Alertmanager reads {', '.join(secrets)} from files: list them in "
                     "`alertmanager.alertmanagerSpec.secrets` (namespace `" + mon.namespace + "`).")
    if mon.notify.email_to:
        items.append("An SMTP relay for email: the default `" + metrics.SMTP_SMARTHOST.format(
            prometheus_namespace=mon.namespace) + "` is a placeholder to patch (`patches:` with `target: monitoring`).")
    if mon.drift is not None:
        items += _drift_items(project, ctx)
    return items


def _drift_items(project: Project, ctx: promql.PromContext) -> list[str]:
    mon = project.monitoring
    assert mon is not None and mon.drift is not None
    job = mon.drift
    built = drift.dockerfile(project) is not None
    items = [(f"Build `monitoring/drift/Dockerfile` and push it as `{drift.image(project, job)}`" if built else
              f"The image `{drift.image(project, job)}` must exist and have `mlopsdsl[drift]` installed")
             + " before the CronJob's first run.",
             "A Pushgateway at `" + ctx.drift.pushgateway_url.format(prometheus_namespace=mon.namespace)
             + "` scraped with `honorLabels: true` (the chart `prometheus-pushgateway` with its ServiceMonitor)."]
    if job.credentials:
        items.append(f"The Secrets {', '.join(f'`{s}`' for s in job.credentials)} in namespace `{ctx.namespace}`: "
                     "every key becomes an environment variable of the drift job (e.g. `AWS_ACCESS_KEY_ID`, "
                     "`AWS_SECRET_ACCESS_KEY` for s3://).")
    for name, keys in k8s.secrets_read(drift.source_env(project, job)).items():
        items.append(f"Secret `{name}` in namespace `{ctx.namespace}` with {k8s.keys_text(keys)}: the drift job's "
                     "`dvc get` reads the DVC remote with them (`data.*.dvc.env`); a missing one keeps its pod "
                     "from starting.")
    remote = sorted({uri.split("://", 1)[0] for uri in _read_uris(project, job) if "://" in uri} - {"http", "https"})
    if remote and not job.credentials:
        items.append(f"No `drift.credentials`: the drift job reads {', '.join(f'`{s}://`' for s in remote)} as the "
                     f"namespace's `default` ServiceAccount, so that must be readable without keys (workload "
                     "identity bound to that account), or name the Secret with the keys in `drift.credentials`.")
    if job.request_log is not None:
        items.append(f"KServe's storage-config Secret (namespace `{ctx.namespace}`) holds the key "
                     f"`{job.request_log.storage_key}` with write access to `{job.request_log.uri}`; the drift job "
                     "reads the same bucket.")
    if job.on_drift == "retrain":
        items.append(f"The Secret `{drift.dispatch_secret(project)}` (namespace `{ctx.namespace}`) with keys `token` "
                     "(a GitHub token with Contents: write on the repository, to send repository_dispatch) and "
                     "`repository` (`owner/name`).")
    return items


def apply_item(artifacts: list[Artifact]) -> str | None:
    """Who may apply the output: each Kubernetes kind it writes, by namespace, read off the documents."""
    kinds: dict[str, set[str]] = {}
    files = []
    for artifact in artifacts:
        found = [d for d in artifact.documents if isinstance(d, dict) and "kind" in d and "apiVersion" in d
                 and isinstance(d.get("metadata"), dict) and "namespace" in d["metadata"]]
        for document in found:
            kinds.setdefault(document["metadata"]["namespace"], set()).add(document["kind"])
        if found:
            files.append(f"`{artifact.path.split('/', 1)[1]}`")
    if not kinds:
        return None
    where = "; ".join(f"{', '.join(sorted(k))} in `{ns}`" for ns, k in sorted(kinds.items()))
    return (f"Apply {', '.join(sorted(files))} with `kubectl apply -f` as an account that may create and patch "
            f"{where}. `alertmanager.yaml` is Alertmanager's configuration (the Helm value `alertmanager.config`) "
            "and `rules.yaml`/`tests/` are for promtool, not objects to apply.")


def _read_uris(project: Project, job) -> list[str]:
    """The storage the drift job reads directly (not through `dvc get`): URI sources and the request log."""
    uris = [d.uri for d in project.data if d.uri and d.name in (job.reference, job.current)]
    return uris + ([job.request_log.uri] if job.request_log is not None else [])


def note(project: Project, items: list[str]) -> Artifact:
    return setup_note("monitoring/SETUP.md", f"Monitoring setup for {project.name}",
                      f"Generated by mlopsdsl from {project.spec_path} for namespace `{project.namespace}`. "
                      "Before `monitoring/` is applied:", items,
                      "See docs/targets/monitoring.md of mlopsdsl for the rules, the dashboard and the drift job.")
