"""Monitoring backend: every artifact judged by the conformance kit, the contracts the files
promise (selection labels, secrets from files, drift job env, dashboard uid), golden files.

Projects are built as IR by hand; when the front end's `build_ir` lands, every example is
compiled and judged too. The generated promtool tests are run in test_monitoring_rules.py.
"""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from mlopsdsl import driver, ir
from mlopsdsl.backends.monitoring import MonitoringBackend, metrics
from mlopsdsl.diagnostics import codes
from mlopsdsl.serialize import to_bytes

REPO = Path(__file__).resolve().parents[2]
SHARED = next((p for p in (REPO.parent / "shared", Path("/work/shared")) if (p / "conformance").is_dir()), None)
GOLDEN = REPO / "tests" / "golden" / "monitoring"
REGEN = os.environ.get("MLOPSDSL_REGEN_GOLDEN") == "1" and not os.environ.get("CI")
SPAN = ir.Span.point("churn.yaml")


def lit(type_: str, value: float, text: str = "") -> ir.Lit:
    return ir.Lit(type=type_, value=value, text=text)


def above(metric, threshold) -> ir.Compare:
    return ir.Compare(type="bool", op=">", left=metric, right=threshold)


P95 = ir.ServingMetric(type="duration", metric="latency", quantile=0.95)
P99 = ir.ServingMetric(type="duration", metric="latency", quantile=0.99)
ERR = ir.ServingMetric(type="percent", metric="error_rate")
RPS = ir.ServingMetric(type="float", metric="rps")


# raw mode with a mesh: KServe v0.20's raw default (the model server) has no status codes
METRICS = {"serverless": "knative-otel", "raw": "istio"}


def churn(mode: str = "serverless", on_drift: str = "retrain", **monitoring) -> ir.Project:
    env = ir.Environment(name="production", namespace="ml-prod")
    alerts = (
        ir.Alert(name="HighLatency", when=above(P95, lit("duration", 0.25, "250ms")), for_duration=300,
                 severity="warning", summary="churn-api p95 latency above 250ms",
                 runbook_url="https://runbooks.acme.example/ml/churn-api#latency", span=SPAN),
        ir.Alert(name="HighErrorRate", when=above(ERR, lit("percent", 0.01, "1%")), for_duration=300,
                 severity="critical", summary="churn-api is failing more than 1% of requests",
                 description="Check the {{ feature store }} first.", labels={"page": "true"}, span=SPAN),
        ir.Alert(name="FeatureDrift", when=above(ir.DriftScore(type="float"), lit("float", 0.2)),
                 for_duration=3600, severity="info", span=SPAN),
        ir.Alert(name="SlowAndBusy", span=SPAN, for_duration=600, when=ir.Logic(type="bool", op="and", operands=(
            ir.Compare(type="bool", op="<", left=lit("duration", 0.5, "500ms"), right=P99),
            ir.Not(type="bool", operand=ir.Compare(type="bool", op="<", left=RPS, right=lit("int", 5)))))),
    )
    fields = dict(
        namespace="monitoring", alerts=alerts,
        drift=ir.Drift(reference="reference", method="psi", threshold=0.2, features=("tenure", "contract"),
                       schedule="0 * * * *", on_drift=on_drift, image="ghcr.io/acme/churn-drift",
                       request_log=ir.RequestLog(uri="s3://acme-ml/request-logs", storage_key="logs"),
                       credentials=("s3-drift-reader",), span=SPAN),
        dashboards=ir.Dashboards(enabled=True, folder="ML / Churn", refresh=60),
        notify=ir.Notify(slack_channel="#ml-alerts", slack_webhook_secret="slack_webhook",
                         pagerduty_routing_key_secret="pagerduty_growth_ml", email_to=("ds@acme.example",)),
        rule_labels={"release": "kube-prometheus-stack"})
    fields.update(monitoring)
    return ir.Project(
        name="churn", version="1.2.0", spec_path="examples/churn/churn.yaml", environment=env, environments=(env,),
        data=(ir.DataSource(name="reference", dvc=ir.DvcSource(repo="https://github.com/acme/data", path="ref.parquet",
                                                                  rev="v3"), format="parquet",
                            columns={"tenure": "int", "charges": "float", "contract": "category"}),),
        serving=ir.Serving(name="churn-api", namespace="ml-prod", storage_uri="s3://models/churn",
                           framework="sklearn", deployment_mode=mode, metrics=METRICS[mode]),
        monitoring=ir.Monitoring(**fields))


def compile_to(project: ir.Project, out: Path, backend: MonitoringBackend | None = None) -> dict[str, bytes]:
    backend = backend or MonitoringBackend()
    artifacts = backend.compile(project)
    assert not backend.diagnostics, backend.diagnostics
    files = {a.path: to_bytes(a) for a in artifacts}
    for path, data in files.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(data)
    return files


def judge(out: Path) -> str:
    if SHARED is None:
        pytest.skip("shared/conformance not found next to the repository")
    r = subprocess.run([str(SHARED / "conformance" / "check-output"), str(out)], capture_output=True, text=True)
    if r.returncode == 2:
        pytest.skip(r.stderr.strip())
    assert r.returncode == 0, r.stdout
    return r.stdout


def load(files: dict[str, bytes], path: str):
    return list(yaml.safe_load_all(files[path]))


# --- the judges --------------------------------------------------------------------------------
@pytest.mark.parametrize("mode", ["serverless", "raw"])
def test_every_artifact_passes_its_judge(tmp_path, mode):
    compile_to(churn(mode), tmp_path)
    report = judge(tmp_path)
    for name in ("prometheus-rules.yaml", "rules.yaml", "podmonitor.yaml", "alertmanager.yaml",
                 "grafana-dashboard.json", "grafana-dashboard-configmap.yaml", "drift-cronjob.yaml"):
        assert f"PASS {tmp_path}/monitoring/{name}" in report, report
    assert "FAIL" not in report


def test_minimal_monitoring_without_serving_or_notify(tmp_path):
    project = churn().model_copy(update={"serving": None, "monitoring": ir.Monitoring(
        namespace="monitoring", alerts=(churn().monitoring.alerts[2],))})
    files = compile_to(project, tmp_path)
    assert "monitoring/podmonitor.yaml" not in files and "monitoring/grafana-dashboard.json" not in files
    judge(tmp_path)


@pytest.mark.parametrize("spec", sorted((REPO / "examples").glob("*/*.yaml")), ids=lambda p: p.stem)
def test_examples_compile_and_pass(tmp_path, spec):
    project = driver.build_ir(str(spec)).ir
    assert project is not None, f"{spec.name} does not lower"
    # Whether the spec has a monitoring section is read from its text: a lowering that lost it fails.
    if "\nmonitoring:" not in spec.read_text(encoding="utf-8"):
        pytest.skip(f"{spec.name}: no monitoring section")
    assert project.monitoring is not None
    compile_to(project, tmp_path)
    judge(tmp_path)


# --- contracts ---------------------------------------------------------------------------------
def test_rule_is_selected_by_the_operator_labels_in_the_environment_namespace(tmp_path):
    files = compile_to(churn(), tmp_path)
    (rule,) = load(files, "monitoring/prometheus-rules.yaml")
    assert rule["metadata"]["namespace"] == "ml-prod"
    assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    default = churn(rule_labels=ir.Monitoring.model_fields["rule_labels"].default)
    (rule,) = load(compile_to(default, tmp_path), "monitoring/prometheus-rules.yaml")
    assert rule["metadata"]["labels"]["release"] == "prometheus"
    (monitor,) = load(files, "monitoring/podmonitor.yaml")
    assert monitor["metadata"]["labels"]["release"] == "kube-prometheus-stack"
    (endpoint,) = monitor["spec"]["podMetricsEndpoints"]
    assert (endpoint["port"], endpoint["path"], endpoint["interval"]) == ("http-usermetric", "/metrics", "30s")
    # the OTel exporter keeps the revision on target_info only: the scrape copies it from the pod
    assert {"action": "replace", "sourceLabels": ["__meta_kubernetes_pod_label_serving_knative_dev_revision"],
            "targetLabel": "kn_revision_name"} in endpoint["relabelings"]


def test_recording_rules_first_then_alerts_with_for_severity_annotations(tmp_path):
    (rule,) = load(compile_to(churn(), tmp_path), "monitoring/prometheus-rules.yaml")
    slis, alerts = rule["spec"]["groups"]
    records = {r["record"] for r in slis["rules"]}
    assert {"mlopsdsl:latency_seconds:p95", "mlopsdsl:latency_seconds:p99", "mlopsdsl:error_ratio:rate5m",
            "mlopsdsl:requests:rate5m", "mlopsdsl:replicas:available", "mlopsdsl:drift_score:max",
            "mlopsdsl:drift_score:by_feature"} <= records
    by_name = {a["alert"]: a for a in alerts["rules"]}
    latency = by_name["HighLatency"]
    assert latency["expr"] == 'mlopsdsl:latency_seconds:p95{namespace="ml-prod", service="churn-api"} > 0.25'
    assert latency["for"] == "5m" and latency["labels"]["severity"] == "warning"
    assert latency["annotations"]["runbook_url"].startswith("https://runbooks.")
    errors = by_name["HighErrorRate"]
    assert errors["expr"].endswith("> 0.01") and errors["labels"]["page"] == "true"
    # user text is not a template: `{{` comes out literally once Prometheus expands it
    assert errors["annotations"]["description"] == 'Check the {{ "{{" }} feature store }} first.'
    assert by_name["FeatureDrift"]["for"] == "1h"


def test_alertmanager_reads_secrets_from_files_and_inhibits_per_service(tmp_path):
    files = compile_to(churn(), tmp_path)
    text = files["monitoring/alertmanager.yaml"].decode()
    assert "hooks.slack.com" not in text and "api_url:" not in text and "routing_key:" not in text
    (config,) = load(files, "monitoring/alertmanager.yaml")
    receivers = {r["name"]: r for r in config["receivers"]}
    critical = receivers["churn-critical"]
    assert critical["slack_configs"][0]["api_url_file"] == "/etc/alertmanager/secrets/slack-webhook/url"
    assert critical["pagerduty_configs"][0]["routing_key_file"] == \
        "/etc/alertmanager/secrets/pagerduty-growth-ml/routing_key"
    assert "pagerduty_configs" not in receivers["churn-warning"]
    assert "email_configs" not in receivers["churn-info"]  # chat is enough for info
    inhibit = config["inhibit_rules"][0]
    assert inhibit["source_matchers"] == ['severity="critical"'] and inhibit["equal"] == ["namespace", "service"]


def test_dashboard_uid_ids_datasource_and_thresholds(tmp_path):
    files = compile_to(churn(), tmp_path)
    board = json.loads(files["monitoring/grafana-dashboard.json"])
    assert board["uid"] == "mlopsdsl-churn-production" and len(board["uid"]) <= 40
    ids = [p["id"] for p in board["panels"]]
    assert len(ids) == len(set(ids))
    assert board["templating"]["list"][0]["name"] == "datasource"
    panels = {p["title"]: p for p in board["panels"]}
    steps = panels["Latency"]["fieldConfig"]["defaults"]["thresholds"]["steps"]
    assert [s["value"] for s in steps] == [None, 0.25, 0.5]
    assert {t["legendFormat"] for t in panels["Latency"]["targets"]} == {"p50", "p95", "p99"}
    assert all(t["datasource"]["uid"] == "${datasource}" for p in board["panels"] for t in p.get("targets", []))
    drift = panels["Drift score by feature"]
    assert drift["targets"][0]["legendFormat"] == "{{feature}}"
    long = churn().model_copy(update={"name": "a" * 40})
    uid = json.loads(compile_to(long, tmp_path)["monitoring/grafana-dashboard.json"])["uid"]
    assert len(uid) <= 40 and uid == json.loads(compile_to(long, tmp_path)["monitoring/grafana-dashboard.json"])["uid"]


def test_drift_job_contract(tmp_path):
    files = compile_to(churn(), tmp_path)
    configmap, cronjob = load(files, "monitoring/drift-cronjob.yaml")
    data = configmap["data"]
    assert data["METHOD"] == "psi" and data["THRESHOLD"] == "0.2" and data["FEATURES"] == "tenure,contract"
    assert data["FEATURE_TYPES"] == "tenure=int,contract=category" and data["COLUMNS"] == "tenure,charges,contract"
    assert (data["REFERENCE_DVC_REPO"], data["REFERENCE_DVC_PATH"], data["REFERENCE_DVC_REV"]) == \
        ("https://github.com/acme/data", "ref.parquet", "v3")
    # where KServe's blob store writes this predictor's requests (pkg/logger/store.go)
    assert data["REQUEST_LOG_URI"] == "s3://acme-ml/request-logs/ml-prod/churn-api/predictor/mlopsdsl"
    assert data["ENVIRONMENT"] == "production" and data["PUSHGATEWAY_URL"] == \
        "http://prometheus-pushgateway.monitoring.svc:9091"
    assert data["DISPATCH_EVENT_TYPE"] == "mlopsdsl-retrain-churn"
    assert cronjob["spec"]["schedule"] == "0 * * * *"
    (container,) = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "ghcr.io/acme/churn-drift:1.2.0"  # tagged with metadata.version
    assert {"secretRef": {"name": "s3-drift-reader"}} in container["envFrom"]
    token = {e["name"]: e["valueFrom"]["secretKeyRef"] for e in container["env"]}["GITHUB_TOKEN"]
    assert token == {"name": "churn-retrain-dispatch", "key": "token"}
    assert "ghcr.io/mlopsdsl/drift-job" not in files["monitoring/drift-cronjob.yaml"].decode()
    alert_only = load(compile_to(churn(on_drift="alert"), tmp_path), "monitoring/drift-cronjob.yaml")
    assert "env" not in alert_only[1]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    long = churn().model_copy(update={"name": "x" * 40 + "-y" * 10})
    assert len(load(compile_to(long, tmp_path), "monitoring/drift-cronjob.yaml")[1]["metadata"]["name"]) <= 52


def test_raw_mode_scrapes_the_istio_sidecar(tmp_path):
    files = compile_to(churn("raw"), tmp_path)
    (monitor,) = load(files, "monitoring/podmonitor.yaml")
    assert monitor["spec"]["podMetricsEndpoints"][0]["path"] == "/stats/prometheus"
    assert "istio_requests_total" in files["monitoring/prometheus-rules.yaml"].decode()


def test_a_source_without_status_codes_reports_the_alert(tmp_path):
    project = churn("raw")
    project = project.model_copy(update={"serving": project.serving.model_copy(
        update={"metrics": "kserve-model-server"})})
    backend = MonitoringBackend()
    artifacts = backend.compile(project)
    (diag,) = backend.diagnostics
    assert diag.code == codes.ERROR_RATE_UNOBSERVABLE and "HighErrorRate" in diag.message and diag.span == SPAN
    rules = next(a for a in artifacts if a.path == "monitoring/prometheus-rules.yaml").documents[0]
    assert "HighErrorRate" not in json.dumps(rules) and "request_predict_seconds_bucket" in json.dumps(rules)


def test_a_subclass_replaces_one_metrics_source(tmp_path):
    mesh = dataclasses.replace(metrics.ISTIO_SIDECAR, requests="my_mesh_requests_total")

    class MyMesh(MonitoringBackend):
        sources = {**MonitoringBackend.sources, "istio": mesh}

    files = compile_to(churn("raw"), tmp_path, MyMesh())
    assert "my_mesh_requests_total" in files["monitoring/prometheus-rules.yaml"].decode()


# --- determinism and golden files --------------------------------------------------------------
@pytest.mark.parametrize("name,mode", [("churn", "serverless"), ("churn-raw", "raw")])
def test_golden(tmp_path, name, mode):
    files = compile_to(churn(mode), tmp_path)
    assert files == compile_to(churn(mode), tmp_path / "again")
    root = GOLDEN / name
    if REGEN:
        for path, data in files.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_bytes(data)
    expected = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert expected, f"no golden files in {root}: run with MLOPSDSL_REGEN_GOLDEN=1"
    assert sorted(files) == sorted(expected)
    for path in files:
        assert files[path] == expected[path], f"{name}/{path} differs from the golden file"


# --- the drift job's image and the job itself, as compiled --------------------------------------
def with_tool(project: ir.Project, requirement: str, index: str | None = None) -> ir.Project:
    ci = ir.GitHubCI(on={"push": {}}, mlopsdsl=ir.ToolInstall(requirement=requirement, index=index))
    return project.model_copy(update={"ci": ci})


def test_the_dockerfile_installs_the_workflows_requirement_with_the_drift_extra(tmp_path):
    from packaging.requirements import Requirement

    wheel = "mlopsdsl @ https://files.acme.example/mlopsdsl-0.3.0-py3-none-any.whl#sha256=" + "a" * 64
    files = compile_to(with_tool(churn(), wheel), tmp_path)
    text = files["monitoring/drift/Dockerfile"].decode()
    run = next(line for line in text.splitlines() if line.startswith("RUN "))
    argv = json.loads(run[len("RUN "):])  # exec form: the requirement is an argument, not shell text
    requirement = Requirement(argv[3])
    assert requirement.name == "mlopsdsl" and requirement.extras == {"drift"} and requirement.url.endswith("a" * 64)
    assert "dvc[s3,gs,azure]>=3" in argv  # the reference is DVC-tracked
    assert "FROM python:3.12-slim" in text and "USER 65532:65532" in text
    assert 'ENTRYPOINT ["python", "-m", "mlopsdsl.drift"]' in text
    pinned = with_tool(churn(), "mlopsdsl==0.3.0", index="https://pypi.acme.example/simple")
    argv = json.loads(next(line for line in compile_to(pinned, tmp_path)["monitoring/drift/Dockerfile"].decode()
                           .splitlines() if line.startswith("RUN "))[4:])
    assert argv[3:6] == ["--index-url", "https://pypi.acme.example/simple", "mlopsdsl[drift]==0.3.0"]
    assert "monitoring/drift/Dockerfile" not in compile_to(churn(), tmp_path / "no-tool")  # no requirement


def test_the_compiled_configmap_runs_the_real_drift_job(tmp_path):
    """The ConfigMap's contract is the job's: run `python -m mlopsdsl.drift` on exactly that
    environment, with the two locations this machine cannot reach replaced by local copies."""
    import sys

    from tests.test_drift_job import churn_rows, write_reference, write_request_log

    configmap, _ = load(compile_to(churn(on_drift="alert"), tmp_path), "monitoring/drift-cronjob.yaml")
    env = dict(configmap["data"])
    assert env.pop("REFERENCE_DVC_REPO") and env.pop("REFERENCE_DVC_PATH") and "REFERENCE_DVC_REV" in env
    env.pop("REFERENCE_DVC_REV")
    rows = [dict(r, charges=r["monthly_charges"]) for r in churn_rows(1500, 1)]
    write_reference(tmp_path / "ref.parquet", rows)
    shifted = [dict(r, charges=r["monthly_charges"]) for r in churn_rows(600, 4, shifted=True)]
    log = write_request_log(tmp_path / "log", shifted)
    env.update(REFERENCE_URI=str(tmp_path / "ref.parquet"), REQUEST_LOG_URI=str(log), REQUEST_LOG_WINDOW="1e9",
               PUSHGATEWAY_URL="", PATH=os.environ["PATH"])
    result = subprocess.run([sys.executable, "-m", "mlopsdsl.drift"], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["drifted"] == ["contract", "tenure"] and report["environment"] == "production"


def test_request_log_turns_on_kserves_logger_where_the_job_reads(tmp_path):
    from mlopsdsl.backends.kserve import KServeBackend

    backend = KServeBackend()
    (isvc,) = [a for a in backend.compile(churn()) if a.path == "kserve/churn-api.yaml"]
    logger = isvc.documents[0]["spec"]["predictor"]["logger"]
    assert logger == {"mode": "request", "url": "s3://acme-ml/request-logs",
                      "storage": {"key": "logs", "path": "mlopsdsl", "parameters": {"format": "json"}}}
    without = churn().model_copy(update={"monitoring": churn().monitoring.model_copy(update={"drift": None})})
    (isvc,) = [a for a in KServeBackend().compile(without) if a.path == "kserve/churn-api.yaml"]
    assert "logger" not in isvc.documents[0]["spec"]["predictor"]


def test_the_dashboard_shows_canary_and_stable_side_by_side(tmp_path):
    files = compile_to(churn(), tmp_path)
    board = json.loads(files["monitoring/grafana-dashboard.json"])
    panels = {p["title"]: p for p in board["panels"]}
    (target,) = panels["Error ratio by revision"]["targets"]
    assert target["expr"] == 'mlopsdsl_revision:error_ratio:rate5m{namespace="ml-prod", service="churn-api"}'
    assert target["legendFormat"] == "{{kn_revision_name}}"
    (rule,) = load(files, "monitoring/prometheus-rules.yaml")
    records = {r["record"]: r["expr"] for g in rule["spec"]["groups"] for r in g["rules"] if "record" in r}
    assert "sum by (kn_revision_name)" in records["mlopsdsl_revision:error_ratio:rate5m"]
    raw = json.loads(compile_to(churn("raw"), tmp_path / "raw")["monitoring/grafana-dashboard.json"])
    assert not any("by revision" in p["title"] for p in raw["panels"])  # a Deployment has no revisions


def test_setup_names_what_the_cluster_must_provide(tmp_path):
    files = compile_to(churn(), tmp_path)
    text = files["monitoring/SETUP.md"].decode()
    for needle in ("request-metrics-protocol: prometheus", "kn.revision.name", "release: kube-prometheus-stack",
                   "`slack-webhook` (key `url`)", "honorLabels: true", "`s3-drift-reader`",
                   "key `logs`", "`churn-retrain-dispatch`", "ghcr.io/acme/churn-drift:1.2.0"):
        assert needle in text, needle
    # what compile prints: the same backend's next_steps after its compile (the apply item is read off the output)
    backend = MonitoringBackend()
    backend.compile(churn())
    assert backend.next_steps(churn()) == [line[len("- [ ] "):] for line in text.splitlines()
                                           if line.startswith("- [ ] ")]
    raw = compile_to(churn("raw"), tmp_path / "raw")["monitoring/SETUP.md"].decode()
    assert "istio-injection=enabled" in raw and "request-metrics-protocol" not in raw
