"""The one table of what Prometheus metric stands behind each `serving.*` / `drift.*` name.

Every query the monitoring backend writes (recording rules, alerts, dashboard
panels, the rollout gate of the deploy workflow, the generated promtool tests)
is built from this table. Which row applies is `serving.metrics` in the spec
(default `ir.SERVING_METRICS_DEFAULT`: what KServe v0.20 installs); a
cluster with other exporters overrides one entry in a subclass:

    class MyMonitoring(MonitoringBackend):
        sources = {**MonitoringBackend.sources, "istio": MY_MESH}

Every name below was read from the exporter's own source at the version KServe
v0.20.0 installs (kserve-deps.env: KNATIVE_SERVING_VERSION=1.21.1, ISTIO_VERSION=1.27.1):

| name | source (repository@tag: file) |
| --- | --- |
| `kn.serving.invocation.duration` (histogram, unit `s`, attribute `http.response.status_code`) | knative/serving@knative-v1.21.1: pkg/queue/request_metric.go |
| bucket bounds 0.005 ... 10 s | knative/serving@knative-v1.21.1: pkg/queue/request_metric.go (`latencyBounds`) |
| `k8s.namespace.name`, `kn.service.name`, `kn.revision.name` are *resource* attributes of the queue-proxy | knative/serving@knative-v1.21.1: pkg/queue/sharedmain/otel.go, pkg/metrics/key.go |
| Prometheus names: dots -> `_`, unit `s` -> `_seconds`, histogram `_bucket/_sum/_count` | knative/pkg@4a022ed9999a (serving's go.mod): observability/metrics/prometheus_enabled.go (`UnderscoreEscapingWithSuffixes`); prometheus/otlptranslator@v1.0.0: metric_namer.go (`"s": "seconds"`) |
| resource attributes go to `target_info` only, unless promoted | open-telemetry/opentelemetry-go@exporters/prometheus/v0.61.0: exporters/prometheus/config.go (`WithResourceAsConstantLabels` is opt-in) |
| queue-proxy request metrics are off by default (`request-metrics-protocol: none`) | knative/pkg@4a022ed9999a: observability/metrics/config.go; knative/serving@knative-v1.21.1: config/core/configmaps/observability.yaml |
| OTLP push promotes `kn.service.name`, `kn.revision.name`, `k8s.namespace.name` | knative-extensions/monitoring@ec808ee2: promstack-values.yaml (`promoteResourceAttributes`) |
| the activator's otelhttp `http.server.request.duration` carries the same `kn.*` attributes (why we do not use that name) | knative/serving@knative-v1.21.1: pkg/activator/handler/metric_handler.go; knative-extensions/monitoring@ec808ee2: config/serving-monitors.yaml scrapes the activator |
| port `http-usermetric` (9091) | knative/serving@knative-v1.21.1: pkg/apis/serving/v1/revision_helpers.go, pkg/reconciler/revision/resources/queue.go |
| `revision_request_count`, `revision_request_latencies` (ms), labels `namespace_name`, `service_name`, `revision_name`, `response_code_class` | knative/serving@knative-v1.18.2: pkg/queue/request_metric.go, pkg/metrics/key.go, pkg/queue/sharedmain/main.go (`Component: "revision"`) |
| OpenCensus bucket bounds 5 ... 100000 ms | knative/serving@knative-v1.18.2: pkg/queue/request_metric.go (`defaultLatencyDistribution`) |
| `request_predict_seconds` (label `model_name`, no status), served on the REST port 8080 at `/metrics` | kserve/kserve@v0.20.0: python/kserve/kserve/metrics.py, python/kserve/kserve/protocol/rest/server.py |
| pod labels `serving.knative.dev/revision`, `serving.knative.dev/service` | knative/serving@knative-v1.21.1: pkg/apis/serving/register.go |
| PodMonitor target labels `namespace`, `container`, `pod`, `job` | prometheus-operator/prometheus-operator (main): pkg/prometheus/promcfg.go (`generatePodMonitorConfig`) |

Istio's names (`istio_requests_total`, `istio_request_duration_milliseconds`, reporter
`destination`) are Istio's standard metrics; their bucket bounds below are Envoy's
defaults and were not re-read for this table.

Why `kn_serving_invocation_duration_seconds` and not otelhttp's
`http_server_request_duration_seconds`: both are exported by the queue-proxy, but
the activator exports the latter too, with `kn_service_name`/`kn_revision_name` as
*metric* labels, and Knative's own monitors scrape the activator: a selector on
those labels would count a proxied request twice. The invocation histogram is
emitted only by the queue-proxy; it times the user container behind the
queue-proxy's concurrency breaker (time spent queued shows in `kn_serving_queue_depth`).

How the revision labels reach the series, in both ways Knative can export:
- pull (`request-metrics-protocol: prometheus`): the generated PodMonitor scrapes
  `http-usermetric` and copies the pod's namespace and Knative labels into
  `k8s_namespace_name`, `kn_service_name`, `kn_revision_name` (`RELABEL` below),
  the names the resource attributes would have;
- push (`http/protobuf` to Prometheus' OTLP receiver, Knative's recommendation):
  the receiver's `promoteResourceAttributes` must list those three attributes.
Either way the queries below see the same labels.
"""

from __future__ import annotations

from dataclasses import dataclass

# Exporter histogram bounds (in the bucket's own unit), for generated test series.
KNATIVE_OTEL_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
KNATIVE_OPENCENSUS_BOUNDS = (5, 10, 20, 40, 60, 80, 100, 150, 200, 250, 300, 350, 400, 450, 500, 600,
                             700, 800, 900, 1000, 2000, 5000, 10000, 20000, 50000, 100000)
PROMETHEUS_CLIENT_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
ENVOY_BOUNDS = (0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000,
                600000, 1800000, 3600000)


@dataclass(frozen=True)
class MetricSource:
    """Where request metrics of one serving stack come from.

    Label values may contain `{namespace}` and `{service}` (the InferenceService
    name); `scope` selects exactly one service's series. `revision_label` tells
    one Knative revision from another (None where there are no revisions).
    """

    name: str
    latency_bucket: str  # a classic histogram's `_bucket` series
    latency_divisor: float  # latency_bucket's `le` unit per second: 1000 for milliseconds, 1 for seconds
    bounds: tuple[float, ...]  # the exporter's bucket bounds, in the `le` unit
    requests: str  # a counter of requests
    scope: tuple[tuple[str, str], ...]  # label -> value template
    revision_label: str | None  # the label naming the Knative revision
    error_label: str | None  # the label that tells a failed request, None when the source has none
    error_regex: str = ""  # values of error_label that count as errors
    # gRPC answers HTTP 200 and puts its status in a trailer: only a source that records
    # the trailer can tell a failed gRPC call (None: it cannot).
    grpc_error_label: str | None = None
    grpc_error_regex: str = ""
    # The labels of one failed and one successful request, for generated test series.
    sample_error: tuple[tuple[str, str], ...] = ()
    sample_ok: tuple[tuple[str, str], ...] = ()
    # How the PodMonitor reaches it: a named container port (or a number), a path, and
    # relabelings (pod meta label -> series label) that give the series the scope labels.
    port: str | None = None
    port_number: int | None = None
    path: str = "/metrics"
    relabel: tuple[tuple[str, str], ...] = ()
    container: str = ""  # the scraped container (the PodMonitor's `container` label), for test series
    # What the exporter adds to every series (OTel scope labels), for test series.
    sample_extra: tuple[tuple[str, str], ...] = ()

    def labels(self, namespace: str, service: str) -> dict[str, str]:
        return {k: v.format(namespace=namespace, service=service) for k, v in self.scope}

    def __str__(self) -> str:
        return self.name


# The queue-proxy's OTel resource attributes, attached at scrape time from the pod.
KNATIVE_RELABEL = (("__meta_kubernetes_namespace", "k8s_namespace_name"),
                   ("__meta_kubernetes_pod_label_serving_knative_dev_service", "kn_service_name"),
                   ("__meta_kubernetes_pod_label_serving_knative_dev_revision", "kn_revision_name"))

KNATIVE_OTEL = MetricSource(
    name="knative-otel",
    latency_bucket="kn_serving_invocation_duration_seconds_bucket", latency_divisor=1.0, bounds=KNATIVE_OTEL_BOUNDS,
    requests="kn_serving_invocation_duration_seconds_count",
    scope=(("k8s_namespace_name", "{namespace}"), ("kn_service_name", "{service}-predictor")),
    revision_label="kn_revision_name",
    error_label="http_response_status_code", error_regex="5..",
    sample_error=(("http_response_status_code", "503"),), sample_ok=(("http_response_status_code", "200"),),
    port="http-usermetric", relabel=KNATIVE_RELABEL, container="queue-proxy",
    sample_extra=(("otel_scope_name", "knative.dev/serving/pkg/queue"),),
)

KNATIVE_OPENCENSUS = MetricSource(
    name="knative-opencensus",
    latency_bucket="revision_request_latencies_bucket", latency_divisor=1000.0, bounds=KNATIVE_OPENCENSUS_BOUNDS,
    requests="revision_request_count",
    scope=(("namespace_name", "{namespace}"), ("service_name", "{service}-predictor")),
    revision_label="revision_name",
    error_label="response_code_class", error_regex="5xx",
    sample_error=(("response_code", "503"), ("response_code_class", "5xx")),
    sample_ok=(("response_code", "200"), ("response_code_class", "2xx")),
    port="http-usermetric", container="queue-proxy",
    sample_extra=(("configuration_name", "{service}-predictor"), ("container_name", "queue-proxy")),
)

ISTIO_SIDECAR = MetricSource(
    name="istio",
    latency_bucket="istio_request_duration_milliseconds_bucket", latency_divisor=1000.0, bounds=ENVOY_BOUNDS,
    requests="istio_requests_total",
    scope=(("reporter", "destination"), ("destination_workload_namespace", "{namespace}"),
           ("destination_workload", "{service}-predictor")),
    revision_label=None,
    error_label="response_code", error_regex="5..",
    sample_error=(("response_code", "503"),), sample_ok=(("response_code", "200"),),
    # The gRPC codes Google's HTTP mapping sends to 5xx: UNKNOWN, DEADLINE_EXCEEDED,
    # UNIMPLEMENTED, INTERNAL, UNAVAILABLE, DATA_LOSS (client errors stay out, as 4xx do).
    grpc_error_label="grpc_response_status", grpc_error_regex="2|4|12|13|14|15",
    port="http-envoy-prom", path="/stats/prometheus", container="istio-proxy",
)

# KServe's Python model server (sklearn, xgboost, lightgbm, ... runtimes): no response
# codes, so `serving.error_rate` is refused with this source.
KSERVE_MODEL_SERVER = MetricSource(
    name="kserve-model-server",
    latency_bucket="request_predict_seconds_bucket", latency_divisor=1.0, bounds=PROMETHEUS_CLIENT_BOUNDS,
    requests="request_predict_seconds_count",
    scope=(("namespace", "{namespace}"), ("model_name", "{service}")),
    revision_label=None,
    error_label=None,
    port_number=8080, container="kserve-container",
)

SOURCES: dict[str, MetricSource] = {s.name: s for s in (KNATIVE_OTEL, KNATIVE_OPENCENSUS, ISTIO_SIDECAR,
                                                         KSERVE_MODEL_SERVER)}


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

# Recording-rule names: `level:metric:operations` (Prometheus naming practice). The
# service level aggregates every revision; the revision level keeps `revision_label`.
RECORD_PREFIX = "mlopsdsl"
REVISION_PREFIX = "mlopsdsl_revision"
RATE_WINDOW = "5m"
DASHBOARD_QUANTILES = (0.5, 0.95, 0.99)

# Alertmanager needs an SMTP relay for `notify.email`; the spec has no field for
# one, so this default (an in-cluster relay) is meant to be patched per cluster.
SMTP_SMARTHOST = "smtp-relay.{prometheus_namespace}.svc:587"
SMTP_FROM = "alertmanager@{namespace}.mlopsdsl.local"
# Where kube-prometheus-stack mounts `alertmanagerSpec.secrets` entries.
ALERTMANAGER_SECRETS_DIR = "/etc/alertmanager/secrets"
