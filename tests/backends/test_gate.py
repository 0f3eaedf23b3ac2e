"""The rollout gate (backends/gate.py): one revision's SLIs, a declared no-traffic policy, and
promtool tests of the exact queries on a canary/stable split as Knative 1.21's queue-proxy exports it."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess

import pytest
import yaml

from mlopsdsl import driver, ir
from mlopsdsl.backends import gate, promql
from mlopsdsl.backends.monitoring import gate_tests, series
from mlopsdsl.diagnostics import codes

from .test_monitoring import ERR, P95, REPO, churn, lit

PROMTOOL = shutil.which("promtool")
needs_promtool = pytest.mark.skipif(not PROMTOOL, reason="promtool not installed (apt-get install prometheus)")

ANALYSIS = ir.Logic(type="bool", op="and", operands=(
    ir.Compare(type="bool", op="<", left=ERR, right=lit("percent", 0.01, "1%")),
    ir.Compare(type="bool", op="<", left=P95, right=lit("duration", 0.25, "250ms"))))


def canary(analysis=ANALYSIS, interval: float | None = 300, **serving) -> ir.Project:
    project = churn()
    rollout = ir.Rollout(strategy="canary", steps=(10.0, 50.0, 100.0), interval=interval, analysis=analysis)
    return project.model_copy(update={"serving": project.serving.model_copy(update={"rollout": rollout, **serving})})


def test_the_gate_selects_the_new_revision_and_carries_the_policy():
    checks = gate.rollout_gate(canary(), ir.Environment(name="staging", namespace="ml-staging"))
    assert checks.per_revision and checks.window == "5m"
    for query in (checks.healthy, checks.traffic, checks.requests):
        assert f'kn_revision_name="{gate.REVISION}"' in query and 'k8s_namespace_name="ml-staging"' in query
        assert "mlopsdsl:" not in query  # inline: the rules may not be installed yet
    assert checks.traffic.endswith(">= 10") and checks.requests.endswith(" or vector(0)")
    assert checks.no_traffic == ir.NoTraffic() and checks.no_traffic.action == "rollback"


@pytest.mark.parametrize("interval,window", [(None, "2m"), (30, "2m"), (150, "3m"), (600, "10m")])
def test_the_window_covers_the_step_and_two_otlp_pushes(interval, window):
    assert gate.rollout_gate(canary(interval=interval)).window == window


def test_the_revision_name_is_checked_before_it_enters_a_query():
    checks = gate.rollout_gate(canary())
    assert 'kn_revision_name="churn-api-predictor-00002"' in gate.for_revision(checks.healthy,
                                                                               "churn-api-predictor-00002")
    for bad in ('x"} or vector(1) #', "Upper", "", "a" * 64):
        with pytest.raises(ValueError):
            gate.for_revision(checks.healthy, bad)


def test_grpc_error_rate_is_refused_with_its_own_code():
    with pytest.raises(promql.Unsupported) as info:
        gate.rollout_gate(canary(protocol="grpc-v2", grpc_port=9000))
    assert info.value.code == codes.ERROR_RATE_UNOBSERVABLE
    latency_only = ir.Compare(type="bool", op="<", left=P95, right=lit("duration", 0.25, "250ms"))
    assert gate.rollout_gate(canary(analysis=latency_only, protocol="grpc-v2", grpc_port=9000)).healthy


def test_probe_path_follows_the_protocol():
    probe = ir.NoTraffic(action="probe", probe_body="tests/request.json", probe_requests=20)
    project = canary()
    rollout = project.serving.rollout.model_copy(update={"no_traffic": probe})
    project = project.model_copy(update={"serving": project.serving.model_copy(
        update={"rollout": rollout, "protocol": "v2"})})
    assert gate.rollout_gate(project).probe_path == "/v2/models/churn-api/infer"


def test_no_traffic_reaches_the_ir_from_the_spec(tmp_path):
    spec = (REPO / "examples" / "churn" / "churn.yaml").read_text()
    interval = "    interval: 10m                    # time at each step before analysis decides\n"
    assert interval in spec
    spec = spec.replace(interval, "    interval: 10m\n    no_traffic: {min_requests: 50, action: probe, "
                                  "probe: {body: tests/request.json}}\n")
    shutil.copytree(REPO / "examples" / "churn", tmp_path / "churn")
    (tmp_path / "churn" / "churn.yaml").write_text(spec)
    result = driver.build_ir(str(tmp_path / "churn" / "churn.yaml"), env="staging")
    assert result.ir is not None, result.diagnostics
    policy = result.ir.serving.rollout.no_traffic
    assert policy == ir.NoTraffic(min_requests=50, action="probe", probe_body="tests/request.json", probe_requests=50)
    assert result.ir.serving.metrics == "knative-otel"


# --- promtool: the generated gate tests --------------------------------------------------------
def write_gate_tests(project: ir.Project, path) -> dict:
    doc = gate_tests.gate_tests(project)
    assert doc is not None
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return doc


def promtool(path) -> subprocess.CompletedProcess:
    return subprocess.run([PROMTOOL, "test", "rules", path.name], cwd=path.parent, capture_output=True, text=True)


@needs_promtool
def test_generated_gate_tests_pass_and_cover_canary_stable_and_no_traffic(tmp_path):
    doc = write_gate_tests(canary(), tmp_path / "gate.yaml")
    titles = " | ".join(t["name"] for t in doc["tests"])
    for needle in ("the stable one does not", "while the stable one meets it with 90%", "served nothing",
                   "fewer than 10", "more than 10"):
        assert needle in titles
    result = promtool(tmp_path / "gate.yaml")
    assert result.returncode == 0, result.stdout + result.stderr


@needs_promtool
def test_a_whole_service_query_passes_a_failing_canary_and_the_gate_does_not(tmp_path):
    """The defect: the deploy job's query measured the whole service, so a canary failing at
    10% of the traffic passed an error-rate gate averaged over 90% healthy traffic."""
    project = canary()
    doc = write_gate_tests(project, tmp_path / "gate.yaml")
    failing = next(t for t in doc["tests"] if "fails the analysis" in t["name"])
    whole_service = promql.compile_expr(ANALYSIS, dataclasses.replace(
        promql.context_for(project, recorded=False), window="5m"))
    failing["promql_expr_test"] = [{"expr": f"count({whole_service})", "eval_time": "7m", "exp_samples": []}]
    (tmp_path / "whole.yaml").write_text(yaml.safe_dump({"rule_files": [], "evaluation_interval": "1m",
                                                         "tests": [failing]}, sort_keys=False))
    assert promtool(tmp_path / "whole.yaml").returncode != 0  # the whole service looks healthy
    assert promtool(tmp_path / "gate.yaml").returncode == 0  # the gate sees the canary fail


@needs_promtool
@pytest.mark.parametrize("old,new", [
    (f'kn_revision_name="{gate.REVISION}", ', ""),  # the revision filter dropped
    ("< 0.01", "< 0.1"),  # the analysis threshold moved
    (">= 10", ">= 0"),  # no minimum request count
])
def test_a_wrong_gate_fails_its_generated_test(tmp_path, old, new, monkeypatch):
    real = gate.rollout_gate

    def broken(project, environment=None):
        checks = real(project, environment)
        return dataclasses.replace(checks, healthy=checks.healthy.replace(old, new),
                                   traffic=checks.traffic.replace(old, new))

    monkeypatch.setattr(gate, "rollout_gate", broken)
    write_gate_tests(canary(), tmp_path / "gate.yaml")
    result = promtool(tmp_path / "gate.yaml")
    assert result.returncode != 0, f"{old!r} -> {new!r} went unnoticed"


def test_histogram_placement_matches_prometheus_interpolation():
    bounds = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10)
    for targets in ([(0.95, 0.275)], [(0.5, 0.05), (0.95, 0.2), (0.99, 1.0)], [(0.5, 0.1375), (0.99, 0.55)]):
        fractions = series.histogram_fractions(bounds, targets)
        assert fractions is not None and fractions == sorted(fractions) and fractions[-1] <= 1
        for q, v in targets:
            assert series.histogram_quantile(q, bounds, fractions) == pytest.approx(v)
    assert series.histogram_fractions(bounds, [(0.95, 12.0)]) is None  # past the last bound
    assert series.histogram_fractions(bounds, [(0.5, 0.004), (0.99, 0.0045)]) is None  # one bucket, from 0

