"""The shared PromQL compiler: each SLI, unit, comparison direction and boolean shape,
the raw queries behind the recording rules, what is refused, and promtool parsing it all."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess

import pytest
import yaml

from mlopsdsl import ir
from mlopsdsl.backends import promql
from mlopsdsl.backends.monitoring import metrics
from mlopsdsl.diagnostics import codes

CTX = promql.PromContext(namespace="ml-prod", service="churn-api", project="churn",
                         source=metrics.KNATIVE_OTEL)
INLINE = promql.PromContext(namespace="ml-prod", service="churn-api", project="churn",
                            source=metrics.KNATIVE_OTEL, recorded=False)
SEL = '{namespace="ml-prod", service="churn-api"}'


def lat(q: float) -> ir.ServingMetric:
    return ir.ServingMetric(type="duration", metric="latency", quantile=q)


ERR = ir.ServingMetric(type="percent", metric="error_rate")
RPS = ir.ServingMetric(type="float", metric="rps")
REPLICAS = ir.ServingMetric(type="int", metric="replicas")
DRIFT = ir.DriftScore(type="float")


def ms(n: float) -> ir.Lit:
    return ir.Lit(type="duration", value=n / 1000, text=f"{n:g}ms")


def pct(n: float) -> ir.Lit:
    return ir.Lit(type="percent", value=n / 100, text=f"{n:g}%")


def num(n: float) -> ir.Lit:
    return ir.Lit(type="float", value=n)


def cmp(op: str, left, right) -> ir.Compare:
    return ir.Compare(type="bool", op=op, left=left, right=right)


def both(*ops) -> ir.Logic:
    return ir.Logic(type="bool", op="and", operands=ops)


def either(*ops) -> ir.Logic:
    return ir.Logic(type="bool", op="or", operands=ops)


def no(x) -> ir.Not:
    return ir.Not(type="bool", operand=x)


# --- each SLI and unit -------------------------------------------------------------------------
@pytest.mark.parametrize("expr,expected", [
    (cmp(">", lat(0.95), ms(250)), f"mlopsdsl:latency_seconds:p95{SEL} > 0.25"),
    (cmp(">", lat(0.99), ms(1500)), f"mlopsdsl:latency_seconds:p99{SEL} > 1.5"),
    (cmp(">=", lat(0.5), ms(20)), f"mlopsdsl:latency_seconds:p50{SEL} >= 0.02"),
    (cmp(">", lat(0.999), ms(2000)), f"mlopsdsl:latency_seconds:p99_9{SEL} > 2"),
    (cmp(">", ERR, pct(1)), f"mlopsdsl:error_ratio:rate5m{SEL} > 0.01"),
    (cmp(">", ERR, pct(0.5)), f"mlopsdsl:error_ratio:rate5m{SEL} > 0.005"),
    (cmp("<", RPS, num(1)), f"mlopsdsl:requests:rate5m{SEL} < 1"),
    (cmp("==", REPLICAS, ir.Lit(type="int", value=0)), f"mlopsdsl:replicas:available{SEL} == 0"),
    (cmp(">", DRIFT, num(0.2)), f"mlopsdsl:drift_score:max{SEL} > 0.2"),
    (cmp(">", ir.DriftScore(type="float", feature="tenure"), num(0.3)),
     'mlopsdsl:drift_score:by_feature{namespace="ml-prod", service="churn-api", feature="tenure"} > 0.3'),
])
def test_each_sli_and_unit(expr, expected):
    assert promql.compile_expr(expr, CTX) == expected


def test_threshold_goes_right_and_the_operator_mirrors():
    assert promql.compile_expr(cmp(">", ms(250), lat(0.95)), CTX) == f"mlopsdsl:latency_seconds:p95{SEL} < 0.25"
    assert promql.compile_expr(cmp("<=", pct(1), ERR), CTX) == f"mlopsdsl:error_ratio:rate5m{SEL} >= 0.01"


@pytest.mark.parametrize("op,inverse", [(">", "<="), (">=", "<"), ("<", ">="), ("<=", ">"), ("==", "!="),
                                        ("!=", "==")])
def test_not_inverts_the_comparison(op, inverse):
    assert promql.compile_expr(no(cmp(op, RPS, num(1))), CTX) == f"mlopsdsl:requests:rate5m{SEL} {inverse} 1"


def test_and_or_match_on_the_scope_labels():
    expr = both(cmp("<", ERR, pct(1)), cmp("<", lat(0.95), ms(250)))
    assert promql.compile_expr(expr, CTX) == (
        f"(mlopsdsl:error_ratio:rate5m{SEL} < 0.01) and on(namespace, service) "
        f"(mlopsdsl:latency_seconds:p95{SEL} < 0.25)")
    expr = either(cmp(">", ERR, pct(5)), cmp(">", DRIFT, num(0.2)), cmp("<", RPS, num(1)))
    assert promql.compile_expr(expr, CTX).count(" or on(namespace, service) ") == 2


def test_de_morgan():
    expr = no(both(cmp("<", ERR, pct(1)), cmp("<", lat(0.95), ms(250))))
    assert promql.compile_expr(expr, CTX) == (
        f"(mlopsdsl:error_ratio:rate5m{SEL} >= 0.01) or on(namespace, service) "
        f"(mlopsdsl:latency_seconds:p95{SEL} >= 0.25)")
    assert promql.compile_expr(no(no(cmp(">", RPS, num(3)))), CTX) == f"mlopsdsl:requests:rate5m{SEL} > 3"


def test_arithmetic_on_metrics():
    ratio = cmp(">", lat(0.99), ir.Arith(type="duration", op="*", left=lat(0.5), right=num(3)))
    assert promql.compile_expr(ratio, CTX) == (
        f"mlopsdsl:latency_seconds:p99{SEL} > on(namespace, service) (mlopsdsl:latency_seconds:p50{SEL} * 3)")
    failing_rps = cmp(">", ir.Arith(type="float", op="*", left=ERR, right=RPS), num(5))
    assert promql.compile_expr(failing_rps, CTX) == (
        f"(mlopsdsl:error_ratio:rate5m{SEL} * on(namespace, service) mlopsdsl:requests:rate5m{SEL}) > 5")


def test_constant_arithmetic_is_folded_in_base_units():
    budget = ir.Arith(type="duration", op="+", left=ms(200), right=ms(50))
    assert promql.compile_expr(cmp(">", lat(0.95), budget), CTX) == f"mlopsdsl:latency_seconds:p95{SEL} > 0.25"
    neg = cmp(">", ir.Neg(type="float", operand=RPS), ir.Neg(type="float", operand=num(2)))
    assert promql.compile_expr(neg, CTX) == f"-(mlopsdsl:requests:rate5m{SEL}) > -2"


# --- what is refused ---------------------------------------------------------------------------
@pytest.mark.parametrize("expr,needle", [
    (cmp(">", ir.ParamRef(type="float", name="threshold"), num(1)), "params.threshold"),
    (cmp(">", lat(0.95), ir.ParamRef(type="duration", name="budget")), "params.budget"),
    (cmp(">", num(2), num(1)), "comparison of constants"),
    (no(ir.Lit(type="bool", value=True)), "not true"),
    (ir.Lit(type="bool", value=True), "as a condition"),
    (cmp(">", ir.Arith(type="float", op="/", left=RPS, right=num(0)), num(1)), "division by zero"),
])
def test_unsupported(expr, needle):
    with pytest.raises(promql.Unsupported) as info:
        promql.compile_expr(expr, CTX)
    assert needle in info.value.feature


def test_serving_metric_without_serving_and_error_rate_without_codes():
    no_serving = promql.PromContext(namespace="ml", service="churn", project="churn", source=None)
    with pytest.raises(promql.Unsupported, match="serving"):
        promql.compile_expr(cmp(">", ERR, pct(1)), no_serving)
    assert promql.compile_expr(cmp(">", DRIFT, num(0.2)), no_serving).startswith("mlopsdsl:drift_score:max")
    kserve = promql.PromContext(namespace="ml", service="churn", project="churn",
                                source=metrics.KSERVE_MODEL_SERVER)
    with pytest.raises(promql.Unsupported) as info:
        promql.compile_expr(cmp(">", ERR, pct(1)), kserve)
    assert "response codes" in info.value.feature and info.value.hint
    assert info.value.code == codes.ERROR_RATE_UNOBSERVABLE


# --- raw queries (recording rules and rollout analysis) ----------------------------------------
def test_quantiles_are_histogram_quantile_over_summed_bucket_rates():
    query = promql.raw_query(promql.Sli("latency", 0.95), CTX)
    assert query == ('histogram_quantile(0.95, sum by (le) '
                     '(rate(kn_serving_invocation_duration_seconds_bucket{k8s_namespace_name="ml-prod", '
                     'kn_service_name="churn-api-predictor"}[5m])))')
    assert "max" not in query and "/ 1000" not in query  # OTel histograms are in seconds already
    legacy = dataclasses.replace(CTX, source=metrics.KNATIVE_OPENCENSUS)
    assert promql.raw_query(promql.Sli("latency", 0.95), legacy).endswith(") / 1000")


def test_per_revision_keeps_the_revision_label_and_the_gate_selects_one():
    query = promql.raw_query(promql.Sli("error_rate"), CTX, per_revision=True)
    assert query.count("sum by (kn_revision_name) (") == 3
    one = promql.raw_query(promql.Sli("rps"), dataclasses.replace(INLINE, revision="churn-api-predictor-00002"))
    assert 'kn_revision_name="churn-api-predictor-00002"' in one and "by (" not in one


def test_no_traffic_reads_zero_rps_and_no_error_ratio():
    assert promql.raw_query(promql.Sli("rps"), CTX).endswith(" or vector(0)")
    assert "vector(0)" not in promql.raw_query(promql.Sli("error_rate"), CTX)


def test_error_ratio_is_zero_not_empty_without_errors():
    query = promql.raw_query(promql.Sli("error_rate"), CTX)
    assert 'http_response_status_code=~"5.."' in query and " * 0) / " in query


def test_inline_mode_for_the_deploy_workflow():
    expr = both(cmp("<", ERR, pct(1)), cmp("<", lat(0.95), ms(250)))
    text = promql.compile_expr(expr, INLINE)
    assert "mlopsdsl:" not in text and " and on() " in text and "histogram_quantile(0.95" in text


@pytest.mark.parametrize("name,names", [
    ("knative-otel", ("kn_serving_invocation_duration_seconds_bucket", "kn_serving_invocation_duration_seconds_count",
                      'http_response_status_code=~"5.."', "kn_revision_name")),
    ("knative-opencensus", ("revision_request_latencies_bucket", "revision_request_count",
                            'response_code_class=~"5xx"', "revision_name")),
    ("istio", ("istio_request_duration_milliseconds_bucket", "istio_requests_total", 'reporter="destination"',
               'response_code=~"5.."')),
])
def test_each_metrics_source_names(name, names):
    ctx = dataclasses.replace(CTX, source=metrics.SOURCES[name])
    text = " ".join(r["expr"] for r in promql.recording_rules(ctx, [promql.Sli("latency", 0.5),
                                                                    promql.Sli("error_rate")]))
    assert all(n in text for n in names), text


def test_grpc_errors_are_refused_unless_the_source_records_grpc_status():
    grpc = dataclasses.replace(CTX, grpc=True)
    with pytest.raises(promql.Unsupported) as info:
        promql.compile_expr(cmp(">", ERR, pct(1)), grpc)
    assert info.value.code == codes.ERROR_RATE_UNOBSERVABLE and "grpc-status" in info.value.hint
    assert promql.compile_expr(cmp(">", lat(0.95), ms(250)), grpc)  # latency is still measured
    istio = promql.raw_query(promql.Sli("error_rate"), dataclasses.replace(grpc, source=metrics.ISTIO_SIDECAR))
    assert 'grpc_response_status=~"2|4|12|13|14|15"' in istio


def test_label_values_are_escaped():
    assert promql.matchers({"a": 'x"y\\z'}) == '{a="x\\"y\\\\z"}'


@pytest.mark.parametrize("seconds,text", [(0, "0s"), (0.25, "250ms"), (30, "30s"), (300, "5m"), (5400, "1h30m"),
                                          (86400 + 60, "1d1m")])
def test_durations(seconds, text):
    assert promql.format_duration(seconds) == text
    assert promql.parse_duration(text) == seconds


# --- the judge: promtool parses every compiled form --------------------------------------------
@pytest.mark.skipif(not shutil.which("promtool"), reason="promtool not installed")
def test_promtool_parses_everything_compiled(tmp_path):
    exprs = [cmp(">", lat(0.95), ms(250)), cmp(">", ms(250), lat(0.95)), no(both(cmp("<", ERR, pct(1)), cmp(">", RPS, num(3)))),
             either(cmp(">", DRIFT, num(0.2)), cmp("==", REPLICAS, num(0))),
             cmp(">", lat(0.99), ir.Arith(type="duration", op="*", left=lat(0.5), right=num(3)))]
    rules = [{"alert": f"A{i}", "expr": promql.compile_expr(e, ctx)}
             for i, (e, ctx) in enumerate((e, c) for e in exprs for c in (CTX, INLINE))]
    slis = [promql.Sli("latency", 0.95), promql.Sli("error_rate"), promql.Sli("rps"), promql.Sli("replicas"),
            promql.Sli("drift"), promql.Sli("drift", feature="x")]
    for source in metrics.SOURCES.values():
        ctx = promql.PromContext(namespace="ml", service="s", project="p", source=source)
        sayable = [sli for sli in slis if source.error_label or sli.metric != "error_rate"]
        rules += [{"record": f"{r['record']}_{source.name.replace('-', '_')}", "expr": r["expr"]}
                  for r in promql.recording_rules(ctx, sayable)]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "g", "rules": rules}]}))
    result = subprocess.run(["promtool", "check", "rules", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
