"""The generated promtool tests run green, turn red when a rule's threshold or unit is wrong,
cover every SLI and boolean shape; Alertmanager routes each severity to its receiver."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from mlopsdsl import driver, ir
from mlopsdsl.backends.monitoring import MonitoringBackend

from .test_monitoring import ERR, P95, P99, REPO, RPS, churn, compile_to, lit

PROMTOOL = shutil.which("promtool")
AMTOOL = shutil.which("amtool")
needs_promtool = pytest.mark.skipif(not PROMTOOL, reason="promtool not installed (apt-get install prometheus)")
needs_amtool = pytest.mark.skipif(not AMTOOL, reason="amtool not installed (apt-get install prometheus-alertmanager)")

P50 = ir.ServingMetric(type="duration", metric="latency", quantile=0.5)
REPLICAS = ir.ServingMetric(type="int", metric="replicas")
DRIFT = ir.DriftScore(type="float")
TENURE = ir.DriftScore(type="float", feature="tenure")


def cmp(op, left, right):
    return ir.Compare(type="bool", op=op, left=left, right=right)


def logic(op, *operands):
    return ir.Logic(type="bool", op=op, operands=operands)


SHAPES = {
    "LowTraffic": cmp("<", RPS, lit("int", 1)),
    "NoReplicas": cmp("==", REPLICAS, lit("int", 0)),
    "TooFewReplicas": cmp("<", REPLICAS, lit("int", 2)),
    "FlippedLatency": cmp(">", lit("duration", 0.12, "120ms"), P99),
    "TenureDrift": cmp(">", TENURE, lit("float", 0.3)),
    "AnyDrift": cmp(">=", DRIFT, lit("float", 0.2)),
    "ErrorsOrSlow": logic("or", cmp(">", ERR, lit("percent", 0.05, "5%")), cmp(">", P95, lit("duration", 1.0, "1s"))),
    "SlowUnderLoad": logic("and", cmp(">", P95, lit("duration", 0.3, "300ms")), cmp(">", RPS, lit("int", 50))),
    "NotHealthy": ir.Not(type="bool", operand=logic(
        "and", cmp("<", ERR, lit("percent", 0.01, "1%")), cmp("<", P95, lit("duration", 0.25, "250ms")))),
    "FailingRps": cmp(">", ir.Arith(type="float", op="*", left=ERR, right=RPS), lit("int", 2)),
    "TailHeavy": cmp(">", P99, ir.Arith(type="duration", op="*", left=P50, right=lit("int", 4))),
    "BudgetPlusSlack": cmp(">", P95, ir.Arith(type="duration", op="+", left=lit("duration", 0.2, "200ms"),
                                              right=lit("duration", 0.05, "50ms"))),
    "DriftWhileIdle": logic("and", cmp(">", DRIFT, lit("float", 0.2)), cmp("<", RPS, lit("float", 0.5))),
}


# With no request series at all: rps reads 0, error ratio and latency have no value.
NO_TRAFFIC = {"LowTraffic": True, "DriftWhileIdle": True, "FlippedLatency": False, "ErrorsOrSlow": False,
              "SlowUnderLoad": False, "NotHealthy": False, "FailingRps": False, "TailHeavy": False,
              "BudgetPlusSlack": False}


def shapes_project(mode: str = "serverless") -> ir.Project:
    alerts = tuple(ir.Alert(name=name, when=when, for_duration=180, severity="warning")
                   for name, when in SHAPES.items())
    return churn(mode, alerts=alerts)


def promtool_test(test_dir: Path, *files: str) -> subprocess.CompletedProcess:
    names = list(files) or sorted(p.name for p in test_dir.glob("*.yaml"))
    return subprocess.run([PROMTOOL, "test", "rules", *names], cwd=test_dir, capture_output=True, text=True)


# --- the generated tests pass ------------------------------------------------------------------
@needs_promtool
@pytest.mark.parametrize("mode", ["serverless", "raw"])
def test_generated_tests_pass(tmp_path, mode):
    files = compile_to(churn(mode), tmp_path)
    tests = sorted(p for p in files if p.startswith("monitoring/tests/"))
    assert [Path(p).name for p in tests] == ["FeatureDrift.yaml", "HighErrorRate.yaml", "HighLatency.yaml",
                                             "SlowAndBusy.yaml", "recording-rules.yaml"]
    result = promtool_test(tmp_path / "monitoring" / "tests")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
@pytest.mark.parametrize("mode", ["serverless", "raw"])
def test_every_shape_gets_a_firing_and_a_quiet_case_that_pass(tmp_path, mode):
    files = compile_to(shapes_project(mode), tmp_path)
    for name in SHAPES:
        doc = yaml.safe_load(files[f"monitoring/tests/{name}.yaml"])
        expected = [bool(t["alert_rule_test"][0]["exp_alerts"]) for t in doc["tests"]]
        assert expected[:3] == [True, False, False], f"{name}: firing, pending and quiet cases expected"
        idle = [e for t, e in zip(doc["tests"], expected) if "no traffic" in t["name"]]
        assert idle == ([NO_TRAFFIC[name]] if name in NO_TRAFFIC else []), f"{name}: the no-traffic case"
    result = promtool_test(tmp_path / "monitoring" / "tests")
    assert result.returncode == 0, result.stdout + result.stderr


def test_cases_sit_just_around_the_threshold(tmp_path):
    files = compile_to(churn(), tmp_path)
    doc = yaml.safe_load(files["monitoring/tests/HighErrorRate.yaml"])
    fire, _, quiet, idle = doc["tests"]
    assert "no traffic" in idle["name"] and idle["alert_rule_test"][0]["exp_alerts"] == []
    # 10 rps, split 80/20 over two revisions: 1.1% and 0.9% of 600 requests a minute fail
    for case, failed in ((fire, 6.6), (quiet, 5.4)):
        per_minute = {"200": 0.0, "503": 0.0}
        for series in case["input_series"]:
            name, labels = series["series"].split("{", 1)
            if name == "kn_serving_invocation_duration_seconds_count":
                code = re.search(r'http_response_status_code="(\d+)"', labels).group(1)
                per_minute[code] += float(series["values"].split("+")[1].split("x")[0])
        assert per_minute["503"] == pytest.approx(failed) and sum(per_minute.values()) == pytest.approx(600)
    revisions = {re.search(r'kn_revision_name="([^"]+)"', s["series"]).group(1) for s in fire["input_series"]
                 if "kn_revision_name" in s["series"]}
    assert revisions == {"churn-api-predictor-00001", "churn-api-predictor-00002"}
    labels = fire["alert_rule_test"][0]["exp_alerts"][0]["exp_labels"]
    assert labels["severity"] == "critical" and labels["page"] == "true" and labels["service"] == "churn-api"


# --- mutation: a wrong rule makes the generated test fail --------------------------------------
MUTATIONS = [
    ("knative-otel", "HighLatency", "> 0.25", "> 250"),  # the unit: milliseconds where seconds are meant
    ("knative-opencensus", "HighLatency", "/ 1000", ""),  # the exporter's unit conversion dropped
    ("knative-otel", "HighErrorRate", "> 0.01", "> 1"),  # percent written as a number
    ("knative-otel", "HighErrorRate", 'http_response_status_code=~"5.."', 'http_response_status_code=~"4.."'),
    ("knative-opencensus", "HighErrorRate", 'response_code_class=~"5xx"', 'response_code_class=~"4xx"'),
    ("knative-otel", "HighLatency", "kn_serving_invocation_duration_seconds_bucket",
     "revision_request_latencies_bucket"),  # Knative < 1.19's name on a 1.19+ cluster
    ("knative-otel", "FeatureDrift", "> 0.2", "> 0.3"),  # the threshold moved
    ("knative-otel", "SlowAndBusy", ">= 5", "> 50"),
    # recording rules no alert reads: per revision, replicas, drift per project
    ("knative-otel", "recording-rules", "sum by (le, kn_revision_name)", "sum by (le)"),
    ("knative-otel", "recording-rules", "sum by (kn_revision_name) (rate(kn_serving_invocation_duration_seconds_count"
     '{k8s_namespace_name="ml-prod", kn_service_name="churn-api-predictor"}[5m]))\n',
     'sum by (kn_revision_name) (rate(kn_serving_invocation_duration_seconds_count{k8s_namespace_name="ml-prod"}[5m]))\n'),
    ("knative-otel", "recording-rules", '"churn-api-predictor(-default)?(-[0-9]+-deployment)?"', '"churn-api-.*"'),
    ("knative-otel", "recording-rules", 'max(mlopsdsl_drift_score{namespace="ml-prod", project="churn"})',
     'max(mlopsdsl_drift_score{namespace="ml-prod"})'),
    ("knative-opencensus", "recording-rules", "sum by (le, revision_name) (rate(revision_request_latencies_bucket"
     '{namespace_name="ml-prod", service_name="churn-api-predictor"}[5m]))) / 1000',
     "sum by (le, revision_name) (rate(revision_request_latencies_bucket"
     '{namespace_name="ml-prod", service_name="churn-api-predictor"}[5m])))'),
]


def with_metrics(project: ir.Project, name: str) -> ir.Project:
    return project.model_copy(update={"serving": project.serving.model_copy(update={"metrics": name})})


@needs_promtool
@pytest.mark.parametrize("source,alert,old,new", MUTATIONS)
def test_mutated_rules_fail_the_generated_test(tmp_path, source, alert, old, new):
    compile_to(with_metrics(churn(), source), tmp_path)
    tests = tmp_path / "monitoring" / "tests"
    assert promtool_test(tests, f"{alert}.yaml").returncode == 0
    rules = tmp_path / "monitoring" / "rules.yaml"
    text = rules.read_text()
    assert old in text, f"{old!r} not in the rules"
    rules.write_text(text.replace(old, new))
    result = promtool_test(tests, f"{alert}.yaml")
    assert result.returncode != 0, f"the mutation {old!r} -> {new!r} went unnoticed:\n{result.stdout}"
    assert "FAILED" in result.stdout + result.stderr


@needs_promtool
def test_each_knative_generation_passes_its_own_series_and_fails_the_other(tmp_path):
    """Rules for Knative 1.19+ (the default) fire on series named as its queue-proxy exports them
    (`kn_serving_invocation_duration_seconds_*`, seconds, `kn_revision_name`), and rules for the
    OpenCensus names (`revision_request_*`, milliseconds) do not; and the other way round."""
    out = {}
    for name in ("knative-otel", "knative-opencensus"):
        project = churn() if name == "knative-otel" else with_metrics(churn(), name)
        assert project.serving.metrics == name
        compile_to(project, tmp_path / name)
        out[name] = tmp_path / name / "monitoring"
        assert promtool_test(out[name] / "tests").returncode == 0
    assert ir.Serving.model_fields["metrics"].default == "knative-otel"
    rules = {name: (path / "rules.yaml").read_text() for name, path in out.items()}
    for name, other in (("knative-otel", "knative-opencensus"), ("knative-opencensus", "knative-otel")):
        (out[name] / "rules.yaml").write_text(rules[other])
        for alert in ("HighLatency", "HighErrorRate"):
            result = promtool_test(out[name] / "tests", f"{alert}.yaml")
            # the firing case finds no alert; the pending, quiet and idle cases still hold
            assert result.returncode == 1, f"{other} rules passed {name} series ({alert})"
            output = result.stdout + result.stderr
            failed = re.findall(r"name: ([^\n]*),\n\s*alertname: (\w+), time: [^,]*,\s*exp:\[.*?\],\s*got:\[\]",
                                output, re.S)
            assert failed == [(f"{alert}: fires past the threshold for longer than `for`", alert)], output
        result = promtool_test(out[name] / "tests", "recording-rules.yaml")
        expected = yaml.safe_load((out[name] / "tests" / "recording-rules.yaml").read_text())["tests"][0]
        request_checks = [t for t in expected["promql_expr_test"] if re.search(r"requests|error_ratio|latency", t["expr"])]
        assert len(request_checks) == 5 + 5 * 3  # 5 SLIs, then each for 2 revisions and their count
        # every request SLI, service and revision, reads nothing; replicas and drift still do
        output = result.stdout + result.stderr
        assert result.returncode == 1 and output.count("got: nil") == len(request_checks), output


# --- examples ----------------------------------------------------------------------------------
@needs_promtool
@pytest.mark.parametrize("spec", sorted((REPO / "examples").glob("*/*.yaml")), ids=lambda p: p.stem)
def test_examples_generated_tests_pass(tmp_path, spec):
    project = driver.build_ir(str(spec)).ir
    assert project is not None, f"{spec.name} does not lower"
    # Whether the spec declares alerts is read from its text: a lowering that lost them fails here.
    if "alerts:" not in spec.read_text(encoding="utf-8"):
        pytest.skip(f"{spec.name}: declares no alerts")
    assert project.monitoring is not None and project.monitoring.alerts
    backend = MonitoringBackend()
    compile_to(project, tmp_path, backend)
    result = promtool_test(tmp_path / "monitoring" / "tests")
    assert result.returncode == 0, result.stdout + result.stderr


# --- Alertmanager routing ----------------------------------------------------------------------
@needs_amtool
@pytest.mark.parametrize("severity", ["critical", "warning", "info"])
def test_each_severity_reaches_its_receiver(tmp_path, severity):
    compile_to(churn(), tmp_path)
    config = tmp_path / "monitoring" / "alertmanager.yaml"
    result = subprocess.run([AMTOOL, "config", "routes", "test", f"--config.file={config}",
                             f"--verify.receivers=churn-{severity}", f"severity={severity}",
                             "namespace=ml-prod", "service=churn-api", "alertname=X"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.fullmatch(rf"churn-{severity}\s*", result.stdout), result.stdout


@needs_amtool
def test_other_services_fall_to_the_silent_default(tmp_path):
    compile_to(churn(), tmp_path)
    config = tmp_path / "monitoring" / "alertmanager.yaml"
    result = subprocess.run([AMTOOL, "config", "routes", "test", f"--config.file={config}",
                             "severity=critical", "namespace=ml-prod", "service=other"], capture_output=True, text=True)
    assert result.stdout.strip() == "churn-default"
