"""The generated rules against series written by hand from Knative's own sources, for both of
Knative's metric generations: each generation's rules read its own series and nothing of the other's.

The generated promtool tests (test_monitoring_rules.py) take their series from metrics.py, the same
table the rules are built from: a wrong name there would be wrong on both sides and pass. The worlds
below are written independently of that table, from Knative's sources:

Knative 1.19+ (OpenTelemetry; KServe v0.20 installs 1.21.1), knative/serving@knative-v1.21.1:
- pkg/queue/request_metric.go: histogram `kn.serving.invocation.duration`, unit `s`, bounds
  0.005 ... 10, attribute `http.response.status_code`, meter scope `knative.dev/serving/pkg/queue`;
- pkg/queue/sharedmain/otel.go: `k8s.namespace.name`, `kn.service.name`, `kn.revision.name`,
  `service.name` (= the Knative Service), `service.instance.id` (= the pod) are *resource* attributes;
- pkg/queue/sharedmain/handlers.go: the queue-proxy also runs otelhttp (`http.server.request.duration`);
- pkg/activator/handler/metric_handler.go: the activator's otelhttp histogram carries `kn.service.name`,
  `kn.configuration.name`, `kn.revision.name`, `k8s.namespace.name` as *metric* attributes;
- opentelemetry-go-contrib@instrumentation/net/http/otelhttp/v0.64.0 (serving's go.mod):
  internal/semconv/server.go, the otelhttp attributes and bounds;
- Prometheus names: dots -> `_`, unit `s` -> `_seconds`, `_bucket/_sum/_count`.
Knative <= 1.18 (OpenCensus), knative/serving@knative-v1.18.2:
- pkg/queue/request_metric.go: `request_count`, `request_latencies` (milliseconds, bounds 5 ... 100000),
  tags `pod_name`, `container_name`, `response_code`, `response_code_class`;
- pkg/metrics/key.go: resource labels `namespace_name`, `service_name`, `configuration_name`,
  `revision_name`; pkg/queue/sharedmain/main.go: component `revision` (the `revision_` prefix).
Pod labels `serving.knative.dev/service`, `.../revision`: knative/serving pkg/apis/serving/register.go.

A Knative split is served: the stable revision 9 rps (0.56% 5xx, p95 in the 25-50 ms bucket), the
canary 1 rps (20% 5xx, p95 in the 500-750 ms bucket); the activator proxied the canary's requests too
(a rule reading `http_server_request_duration_seconds` would count them twice), and a second service
in the namespace fails every request (a rule not scoped to the service would see its errors).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from mlopsdsl import driver
from mlopsdsl.backends import gate

from .test_monitoring import REPO

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(not PROMTOOL, reason="promtool not installed (apt-get install prometheus)")

NAMESPACE, ISVC = "ml-prod", "churn-api"
KSVC = f"{ISVC}-predictor"  # KServe names the predictor's Knative Service `<isvc>-predictor`
STABLE, CANARY = f"{KSVC}-00001", f"{KSVC}-00002"
MINUTES = 12
# Requests a minute per revision and status code.
TRAFFIC = {STABLE: {"200": 537, "503": 3}, CANARY: {"200": 48, "503": 12}}
# Each revision's requests all land in one latency bucket, given in seconds.
LATENCY = {STABLE: (0.025, 0.05), CANARY: (0.5, 0.75)}
OTEL_BOUNDS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
OPENCENSUS_BOUNDS_MS = (5, 10, 20, 40, 60, 80, 100, 150, 200, 250, 300, 350, 400, 450, 500, 600, 700, 800,
                        900, 1000, 2000, 5000, 10000, 20000, 50000, 100000)
OC_LATENCY_MS = {STABLE: (20, 40), CANARY: (600, 700)}  # the same split in the OpenCensus buckets

# What the rules must read from that world, per generation (seconds, requests per second).
EXPECTED = {
    "otel": {"p95": 0.5 + 0.25 * 0.5,  # 90% of requests sit at or below 0.5 s; rank .95 halfway into (0.5, 0.75]
             STABLE: 0.025 + 0.025 * 0.95, CANARY: 0.5 + 0.25 * 0.95},
    "opencensus": {"p95": 0.6 + 0.1 * 0.5, STABLE: 0.020 + 0.020 * 0.95, CANARY: 0.6 + 0.1 * 0.95},
}
REVISION_LABEL = {"otel": "kn_revision_name", "opencensus": "revision_name"}
SETTING = {"otel": "knative-otel", "opencensus": "knative-opencensus"}


def labels(**pairs: str) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in pairs.items()) + "}"


def counter(name: str, lbl: dict, per_minute: float) -> dict:
    return {"series": name + labels(**lbl), "values": f"0+{per_minute:g}x{MINUTES}"}


def histogram(name: str, lbl: dict, per_minute: int, bucket: tuple[float, float], bounds, scale: float = 1) -> list:
    """`_bucket` (cumulative, `le` in the exporter's unit), `_count`, `_sum` of one attribute set."""
    lo, hi = bucket
    out = [counter(f"{name}_bucket", {**lbl, "le": f"{b:g}"}, per_minute if b >= hi else 0) for b in bounds]
    out.append(counter(f"{name}_bucket", {**lbl, "le": "+Inf"}, per_minute))
    out.append(counter(f"{name}_count", lbl, per_minute))
    out.append(counter(f"{name}_sum", lbl, per_minute * (lo + hi) / 2 * scale))
    return out


def pod_meta(revision: str, service: str = KSVC, isvc: str = ISVC) -> dict:
    """Prometheus' Kubernetes SD labels of a KServe predictor pod of one Knative revision."""
    return {"__meta_kubernetes_namespace": NAMESPACE,
            "__meta_kubernetes_pod_name": f"{revision}-deployment-6b8f9-x2x{revision[-1]}",
            "__meta_kubernetes_pod_label_serving_knative_dev_service": service,
            "__meta_kubernetes_pod_label_serving_knative_dev_configuration": service,
            "__meta_kubernetes_pod_label_serving_knative_dev_revision": revision,
            "__meta_kubernetes_pod_label_serving_kserve_io_inferenceservice": isvc,
            "__meta_kubernetes_pod_label_component": "predictor"}


def scraped(podmonitor: dict, meta: dict) -> dict:
    """The target labels a scrape of the queue-proxy through the generated PodMonitor gives every series:
    the Operator's own (namespace, pod, container, job) and the PodMonitor's relabelings applied."""
    name = podmonitor["metadata"]["name"]
    out = {"namespace": meta["__meta_kubernetes_namespace"], "pod": meta["__meta_kubernetes_pod_name"],
           "container": "queue-proxy", "job": f"{podmonitor['metadata']['namespace']}/{name}"}
    for endpoint in podmonitor["spec"]["podMetricsEndpoints"]:
        for rule in endpoint.get("relabelings", ()):
            assert rule.get("action", "replace") == "replace", f"unmodelled relabeling {rule}"
            value = ";".join(meta.get(s, "") for s in rule["sourceLabels"])
            match = re.fullmatch(rule.get("regex", "(.*)"), value)
            if match:
                out[rule["targetLabel"]] = match.expand(rule.get("replacement", "$1").replace("$", "\\"))
    return out


def otel_world(podmonitor: dict | None, push: bool) -> list[dict]:
    """Knative 1.21 queue-proxies (pull through the PodMonitor, or OTLP push with the revision
    attributes promoted), the activator's otelhttp series, and a second, failing service."""
    series = []
    for isvc, revision, traffic in ((ISVC, STABLE, TRAFFIC[STABLE]), (ISVC, CANARY, TRAFFIC[CANARY]),
                                    ("fraud-api", "fraud-api-predictor-00003", {"500": 300})):
        meta = pod_meta(revision, f"{isvc}-predictor", isvc)
        if push:  # OTLP: job = service.name, instance = service.instance.id, promoted resource attributes
            target = {"job": f"{isvc}-predictor", "instance": meta["__meta_kubernetes_pod_name"],
                      "k8s_namespace_name": NAMESPACE, "kn_service_name": f"{isvc}-predictor",
                      "kn_revision_name": revision}
        else:
            target = scraped(podmonitor, meta)
        bucket = LATENCY.get(revision, (1, 2.5))
        for code, per_minute in traffic.items():
            queue = {**target, "otel_scope_name": "knative.dev/serving/pkg/queue", "http_response_status_code": code}
            series += histogram("kn_serving_invocation_duration_seconds", queue, per_minute, bucket, OTEL_BOUNDS)
            otelhttp = {**target, "otel_scope_name": "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
                        "otel_scope_version": "0.64.0", "http_request_method": "POST", "url_scheme": "http",
                        "server_address": f"{isvc}-predictor.{NAMESPACE}.svc.cluster.local",
                        "network_protocol_name": "http", "network_protocol_version": "1.1",
                        "http_response_status_code": code}
            series += histogram("http_server_request_duration_seconds", otelhttp, per_minute, bucket, OTEL_BOUNDS)
        series.append(counter("kn_serving_queue_depth", {**target, "otel_scope_name": "knative.dev/serving/pkg/queue"},
                              0))
    for code, per_minute in TRAFFIC[CANARY].items():  # the activator proxied the canary's requests
        activator = {"namespace": "knative-serving", "pod": "activator-7c9d8-5kq2p", "container": "activator",
                     "job": "knative-serving/activator",
                     "otel_scope_name": "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp",
                     "http_request_method": "POST", "url_scheme": "http", "http_response_status_code": code,
                     "k8s_namespace_name": NAMESPACE, "kn_service_name": KSVC, "kn_configuration_name": KSVC,
                     "kn_revision_name": CANARY}
        series += histogram("http_server_request_duration_seconds", activator, per_minute, LATENCY[CANARY],
                            OTEL_BOUNDS)
    return series


def opencensus_world(podmonitor: dict) -> list[dict]:
    """Knative 1.18 queue-proxies exporting OpenCensus views to Prometheus (milliseconds)."""
    series = []
    for isvc, revision, traffic in ((ISVC, STABLE, TRAFFIC[STABLE]), (ISVC, CANARY, TRAFFIC[CANARY]),
                                    ("fraud-api", "fraud-api-predictor-00003", {"500": 300})):
        meta = pod_meta(revision, f"{isvc}-predictor", isvc)
        target = scraped(podmonitor, meta)
        resource = {"namespace_name": NAMESPACE, "service_name": f"{isvc}-predictor",
                    "configuration_name": f"{isvc}-predictor", "revision_name": revision,
                    "pod_name": meta["__meta_kubernetes_pod_name"], "container_name": "queue-proxy"}
        bucket = OC_LATENCY_MS.get(revision, (1000, 2000))
        for code, per_minute in traffic.items():
            tags = {**target, **resource, "response_code": code, "response_code_class": code[0] + "xx"}
            series.append(counter("revision_request_count", tags, per_minute))
            series += histogram("revision_request_latencies", tags, per_minute, bucket, OPENCENSUS_BOUNDS_MS)
    return series


def compiled(generation: str, tmp: Path) -> tuple[Path, Path, dict]:
    """The churn example compiled through the CLI, with `serving.metrics` set unless it is the default."""
    spec_dir = tmp / "churn"
    shutil.copytree(REPO / "examples" / "churn", spec_dir)
    spec = spec_dir / "churn.yaml"
    if generation != "otel":
        text = spec.read_text()
        assert "\n  deployment_mode: serverless" in text
        spec.write_text(text.replace("\n  deployment_mode: serverless",
                                     f"\n  deployment_mode: serverless\n  metrics: {SETTING[generation]}", 1))
    out = tmp / "out"
    result = subprocess.run([sys.executable, "-m", "mlopsdsl", "compile", str(spec), "--out", str(out),
                             "--env", "production", "--target", "monitoring"], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    return spec, out / "monitoring", yaml.safe_load((out / "monitoring" / "podmonitor.yaml").read_text())


def expectations(generation: str, spec: Path, monitoring: Path) -> dict:
    """A promtool test file: what the recording rules, the alerts and the rollout gate must read."""
    want, rev = EXPECTED[generation], REVISION_LABEL[generation]
    scope = f'namespace="{NAMESPACE}", service="{ISVC}"'

    def sample(expr: str, value: float, **lbl: str) -> dict:
        """`expr` returns one series, with these labels, equal to `value` (promtool 2.42 compares floats
        exactly; the rules' sums are not exact in binary)."""
        by = ", ".join(["namespace", "service", *lbl])
        return {"expr": f"count by ({by}) (abs({expr} - {value!r}) < 1e-9)", "eval_time": f"{MINUTES - 2}m",
                "exp_samples": [{"labels": labels(namespace=NAMESPACE, service=ISVC, **lbl), "value": 1}]}

    per_revision = []
    for revision in (STABLE, CANARY):
        traffic = TRAFFIC[revision]
        per_revision += [
            sample(f'mlopsdsl_revision:requests:rate5m{{{scope}, {rev}="{revision}"}}',
                   sum(traffic.values()) / 60, **{rev: revision}),
            sample(f'mlopsdsl_revision:error_ratio:rate5m{{{scope}, {rev}="{revision}"}}',
                   traffic["503"] / sum(traffic.values()), **{rev: revision}),
            sample(f'mlopsdsl_revision:latency_seconds:p95{{{scope}, {rev}="{revision}"}}', want[revision],
                   **{rev: revision})]
    checks = gate.rollout_gate(driver.build_ir(str(spec), env="production").ir)
    assert checks.per_revision
    # the deploy job's analysis of one revision: the stable one meets it, the canary does not
    rollout_gate = [{"expr": f"count({gate.for_revision(checks.healthy, revision)})", "eval_time": f"{MINUTES - 2}m",
                     "exp_samples": [{"labels": "{}", "value": 1}] if revision == STABLE else []}
                    for revision in (STABLE, CANARY)]
    total = sum(sum(t.values()) for t in TRAFFIC.values())
    failed = sum(t["503"] for t in TRAFFIC.values())
    alert = {"namespace": NAMESPACE, "service": ISVC}
    return {
        "rule_files": [str(monitoring / "rules.yaml")], "evaluation_interval": "1m",
        "tests": [{
            "interval": "1m",
            "input_series": [],  # filled per world
            "promql_expr_test": [
                sample(f"mlopsdsl:requests:rate5m{{{scope}}}", total / 60),
                sample(f"mlopsdsl:error_ratio:rate5m{{{scope}}}", failed / total),
                sample(f"mlopsdsl:latency_seconds:p95{{{scope}}}", want["p95"]),
                *per_revision, *rollout_gate],
            "alert_rule_test": [
                {"eval_time": f"{MINUTES}m", "alertname": "HighErrorRate", "exp_alerts": [
                    {"exp_labels": {**alert, "severity": "critical", "page": "true"},
                     "exp_annotations": annotations(monitoring, "HighErrorRate")}]},
                {"eval_time": f"{MINUTES}m", "alertname": "HighLatency", "exp_alerts": [
                    {"exp_labels": {**alert, "severity": "warning"},
                     "exp_annotations": annotations(monitoring, "HighLatency")}]}],
        }]}


def annotations(monitoring: Path, alert: str) -> dict:
    """The alert's annotations as rendered (its templates filled), from the generated test's firing case."""
    firing = yaml.safe_load((monitoring / "tests" / f"{alert}.yaml").read_text())["tests"][0]
    return firing["alert_rule_test"][0]["exp_alerts"][0]["exp_annotations"]


def run_promtool(test: dict, series: list[dict], where: Path) -> subprocess.CompletedProcess:
    test["tests"][0]["input_series"] = series
    path = where / "knative-world.yaml"
    path.write_text(yaml.safe_dump(test, sort_keys=False, width=10_000))
    return subprocess.run([PROMTOOL, "test", "rules", str(path)], capture_output=True, text=True)


def worlds(podmonitor: dict) -> dict[str, list[dict]]:
    return {"otel pull": otel_world(podmonitor, push=False), "otel push": otel_world(podmonitor, push=True),
            "opencensus": opencensus_world(podmonitor)}


@needs_promtool
@pytest.mark.parametrize("generation", ["otel", "opencensus"])
def test_each_generations_rules_read_its_own_series_and_none_of_the_others(tmp_path, generation):
    spec, monitoring, podmonitor = compiled(generation, tmp_path)
    test = expectations(generation, spec, monitoring)
    for world, series in worlds(podmonitor).items():
        result = run_promtool(test, series, tmp_path)
        output = result.stdout + result.stderr
        if world.startswith(generation):
            assert result.returncode == 0, f"{generation} rules on {world} series:\n{output}"
        else:  # nothing recorded, nothing fires: no request series of their generation exist
            assert result.returncode == 1, f"{generation} rules on {world} series:\n{output}"
            failed = re.findall(r'expr: "(?:count by \([^)]*\) \(abs\()?([^{ (]+)', output)
            recorded = [t["expr"] for t in test["tests"][0]["promql_expr_test"] if "mlopsdsl" in t["expr"]]
            assert len(failed) == len(recorded) + 1, output  # every recorded SLI, and the stable revision's gate
            assert re.findall(r"alertname: (\w+), time: 12m,\s*exp:\[\s*0:", output) == ["HighErrorRate",
                                                                                       "HighLatency"], output
            assert output.count("got:[]") == 2, output


@needs_promtool
def test_the_default_is_what_kserve_v0_20_installs(tmp_path):
    """No `serving.metrics` in the spec: Knative 1.21's names (KServe v0.20: KNATIVE_SERVING_VERSION=1.21.1)."""
    _, monitoring, _ = compiled("otel", tmp_path)
    rules = (monitoring / "rules.yaml").read_text()
    assert "kn_serving_invocation_duration_seconds_bucket" in rules and "revision_request" not in rules
    assert not re.search(r"\b(namespace_name|service_name|revision_name)=", rules)
    assert "http_server_request_duration_seconds" not in rules  # the activator reports it too

