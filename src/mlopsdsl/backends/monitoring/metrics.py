"""The one table of what Prometheus metric stands behind each `serving.*` / `drift.*` name.

Every query the monitoring backend writes (recording rules, alerts, dashboard
panels, rollout analysis in the deploy workflow, the generated promtool tests)
is built from this table, so a cluster that exposes other names is served by
overriding one entry, not by editing queries:

    class MyMonitoring(MonitoringBackend):
        sources = {**MonitoringBackend.sources, "raw": KSERVE_MODEL_SERVER}

and registering that subclass under a name in the `mlopsdsl.backends` group.

Why these sources (details and links in docs/targets/monitoring.md):

- serverless (Knative, the KServe default): every pod has a queue-proxy sidecar
  that exports `revision_request_count` and `revision_request_latencies` (a
  histogram in *milliseconds*) on container port `http-usermetric` (9091),
  labelled `namespace_name`, `service_name` (the Knative Service, which KServe
  names `<isvc>-predictor`) and `response_code_class` (`2xx`, `5xx`...). These
  are what a caller past the activator sees, queueing included; the model
  server's own metrics would hide time spent waiting in the queue-proxy.
- raw (plain Deployment): there is no queue-proxy, and KServe's model server
  (`request_predict_seconds`) exports no response codes, so an error rate cannot
  be computed from it. The default is the Istio sidecar's standard metrics
  (`istio_requests_total`, `istio_request_duration_milliseconds`, reporter
  `destination`), scraped from the `http-envoy-prom` port; a mesh-less cluster
  can switch to `KSERVE_MODEL_SERVER`, where `serving.error_rate` is reported
  as unsupported instead of silently meaning something else.
- replicas: kube-state-metrics (part of kube-prometheus-stack), because the
  Deployment exists in both modes (`<isvc>-predictor` in raw mode,
  `<isvc>-predictor-00001-deployment` per Knative revision).
- drift: the drift CronJob pushes `mlopsdsl_drift_score{project, feature, method}`
  to a Pushgateway (a CronJob pod lives for seconds: too short to be scraped);
  see drift.py for the job's contract.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MetricSource:
    """Where request metrics of one deployment mode come from.

    Label values may contain `{namespace}` and `{service}` (the InferenceService
    name); `scope` selects exactly one service's series and its label *names*
    are what recording rules aggregate by, so each SLI stays one series.
    """

    name: str
    latency_bucket: str  # a classic histogram's `_bucket` series
    latency_divisor: float  # latency_bucket's `le` unit per second: 1000 for milliseconds, 1 for seconds
    requests: str  # a counter of requests
    scope: tuple[tuple[str, str], ...]  # label -> value template
    error_label: str | None  # the label that tells a failed request, None when the source has none
    error_regex: str = ""  # values of error_label that count as errors
    sample_error: str = ""  # one error value and one success value, for generated rule tests
    sample_ok: str = ""
    # How the PodMonitor reaches it: a named container port (or a number) and a path.
    port: str | None = None
    port_number: int | None = None
    path: str = "/metrics"

    def labels(self, namespace: str, service: str) -> dict[str, str]:
        return {k: v.format(namespace=namespace, service=service) for k, v in self.scope}


KNATIVE_QUEUE_PROXY = MetricSource(
    name="knative-queue-proxy",
    latency_bucket="revision_request_latencies_bucket",
    latency_divisor=1000.0,
    requests="revision_request_count",
    scope=(("namespace_name", "{namespace}"), ("service_name", "{service}-predictor")),
    error_label="response_code_class", error_regex="5xx", sample_error="5xx", sample_ok="2xx",
    port="http-usermetric",
)

ISTIO_SIDECAR = MetricSource(
    name="istio-sidecar",
    latency_bucket="istio_request_duration_milliseconds_bucket",
    latency_divisor=1000.0,
    requests="istio_requests_total",
    scope=(("reporter", "destination"), ("destination_workload_namespace", "{namespace}"),
           ("destination_workload", "{service}-predictor")),
    error_label="response_code", error_regex="5..", sample_error="503", sample_ok="200",
    port="http-envoy-prom", path="/stats/prometheus",
)

# KServe's Python model server (>= 0.10), for raw mode without a mesh: no response
# codes, so `serving.error_rate` is unsupported with this source.
KSERVE_MODEL_SERVER = MetricSource(
    name="kserve-model-server",
    latency_bucket="request_predict_seconds_bucket",
    latency_divisor=1.0,
    requests="request_predict_seconds_count",
    scope=(("namespace", "{namespace}"), ("model_name", "{service}")),
    error_label=None,
    port_number=8080,
)

DEFAULT_SOURCES: dict[str, MetricSource] = {"serverless": KNATIVE_QUEUE_PROXY, "raw": ISTIO_SIDECAR}


@dataclass(frozen=True)
class ReplicaSource:
    metric: str = "kube_deployment_status_replicas_available"
    namespace_label: str = "namespace"
    deployment_label: str = "deployment"
    # Raw mode: `<isvc>-predictor`; Knative: `<isvc>-predictor-00001-deployment` per
    # revision (older KServe: `-predictor-default-...`). Names are DNS-1035, so no
    # regex metacharacters can come from the service name.
    deployment_regex: str = "{service}-predictor(-default)?(-[0-9]+-deployment)?"
    sample_deployment: str = "{service}-predictor"


@dataclass(frozen=True)
class DriftSource:
    metric: str = "mlopsdsl_drift_score"
    project_label: str = "project"
    feature_label: str = "feature"
    method_label: str = "method"
    timestamp_metric: str = "mlopsdsl_drift_last_run_timestamp_seconds"
    pushgateway_url: str = "http://prometheus-pushgateway.{prometheus_namespace}.svc:9091"
    job: str = "mlopsdsl-drift"


REPLICAS = ReplicaSource()
DRIFT = DriftSource()

# Recording-rule names: `level:metric:operations` (Prometheus naming practice).
RECORD_PREFIX = "mlopsdsl"
RATE_WINDOW = "5m"
DASHBOARD_QUANTILES = (0.5, 0.95, 0.99)

# Alertmanager needs an SMTP relay for `notify.email`; the spec has no field for
# one, so this default (an in-cluster relay) is meant to be patched per cluster.
SMTP_SMARTHOST = "smtp-relay.{prometheus_namespace}.svc:587"
SMTP_FROM = "alertmanager@{namespace}.mlopsdsl.local"
# Where kube-prometheus-stack mounts `alertmanagerSpec.secrets` entries.
ALERTMANAGER_SECRETS_DIR = "/etc/alertmanager/secrets"

DEFAULT_DRIFT_IMAGE = "ghcr.io/mlopsdsl/drift-job:0.1.0"
