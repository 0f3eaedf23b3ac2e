"""promtool tests of the recording rules themselves: every recorded SLI read back from a known world.

The alert tests exercise the rules an alert reads; the dashboard's panels and the per-revision
view of a rollout read the others. Here one world holds a Knative split as the exporter writes it
(series.py): a stable revision with most of the traffic and a canary with more errors and a slower
tail, Deployments of both revisions beside the transformer's (which `serving.replicas` must not
count), another InferenceService of the namespace failing every request, and drift scores of this
project beside another project's. The expected values are worked
out from that world, not from the rules: rates and ratios are sums, and a latency quantile is
Prometheus' `histogram_quantile` over the summed buckets (`series.histogram_quantile`). A second
world serves nothing: `serving.rps` reads 0, the error ratio and latencies have no value, and no
per-revision series exist.

Values are compared within 1e-9 (`count by (...) (abs(rule - v) < 1e-9)`): promtool compares floats
exactly, and a sum of rates is not exact in binary.
"""

from __future__ import annotations

import dataclasses

from mlopsdsl.backends import promql
from mlopsdsl.backends.monitoring import metrics, series

# (revision number, requests per second, error ratio, (quantile, seconds) targets)
# (targets in buckets apart from each other in Knative's, OpenCensus' and Envoy's bounds alike)
STABLE = (1, 9.0, 0.005, ((0.5, 0.03), (0.95, 0.2), (0.99, 2.0)))
CANARY = (2, 1.0, 0.2, ((0.5, 0.3), (0.95, 2.0), (0.99, 7.0)))
DECOY = "shadow"  # another InferenceService in the namespace: `<service>-shadow`
DRIFT_SCORES = (0.08, 0.31)  # per declared feature, cycled
STEPS = 12
AT = f"{STEPS - 2}m"
TOLERANCE = 1e-9


def _revisions(ctx: promql.PromContext) -> list[series.Revision]:
    chosen = (STABLE, CANARY) if ctx.source.revision_label else ((1, 10.0, 0.02, STABLE[3]),)
    return [series.Revision(series.revision_name(ctx, n), rps, ratio, _fitting(ctx, latencies))
            for n, rps, ratio, latencies in chosen]


def _fitting(ctx: promql.PromContext, latencies: tuple) -> tuple:
    """The latency targets, or the median alone where the source's bounds cannot hold them all (the
    expected value of every quantile is read from the histogram either way)."""
    src = ctx.source
    fits = series.histogram_fractions(src.bounds, [(q, v * src.latency_divisor) for q, v in latencies])
    return latencies if fits is not None else latencies[:1]


def _fractions(ctx: promql.PromContext, revision: series.Revision) -> list[float]:
    src = ctx.source
    fractions = series.histogram_fractions(src.bounds, [(q, v * src.latency_divisor) for q, v in revision.latencies])
    assert fractions is not None, f"{src.name}: no histogram of its bounds has the latencies {revision.latencies}"
    return fractions


def _latency(ctx: promql.PromContext, q: float, revisions: list[series.Revision]) -> float:
    """What `histogram_quantile(q, sum by (le) (rate(...)))` returns over these revisions, in seconds."""
    total = sum(r.rps for r in revisions)
    mixed = [sum(r.rps * f for r, f in zip(revisions, column)) / total
             for column in zip(*(_fractions(ctx, r) for r in revisions))]
    return series.histogram_quantile(q, ctx.source.bounds, mixed) / ctx.source.latency_divisor


def _value(sli: promql.Sli, ctx: promql.PromContext, revisions: list[series.Revision]) -> float:
    if sli.metric == "rps":
        return sum(r.rps for r in revisions)
    if sli.metric == "error_rate":
        return sum(r.rps * r.error_ratio for r in revisions) / sum(r.rps for r in revisions)
    return _latency(ctx, sli.quantile, revisions)


def _check(record: str, ctx: promql.PromContext, value: float | None, extra: dict[str, str] | None = None) -> dict:
    """`record` holds one series with the rule's labels (and `extra`) equal to `value`; None: no series."""
    labels = {**ctx.rule_labels, **(extra or {})}
    if value is None:
        return {"expr": record + promql.matchers(labels), "eval_time": AT, "exp_samples": []}
    if value == 0:
        return {"expr": record + promql.matchers(labels), "eval_time": AT,
                "exp_samples": [{"labels": record + promql.matchers(labels), "value": 0}]}
    near = f"abs({record}{promql.matchers(labels)} - {value:.12g}) < {TOLERANCE:g}"
    return {"expr": f"count by ({', '.join(labels)}) ({near})", "eval_time": AT,
            "exp_samples": [{"labels": promql.matchers(labels), "value": 1}]}


def _other_series(ctx: promql.PromContext, recorded: set[str], features: tuple[str, ...]) -> tuple[list, list]:
    """Replica and drift series (this service's and decoys), and what their rules must read."""
    r, d = ctx.replicas, ctx.drift
    deployments = ({f"{ctx.service}-predictor-{n:05d}-deployment": c for n, c in ((1, 3), (2, 1))}
                   if ctx.source is not None and ctx.source.revision_label else {f"{ctx.service}-predictor": 4})
    deployments[f"{ctx.service}-transformer-00001-deployment"] = 7  # not the predictor: not counted
    lines = [series.line(r.metric, {r.namespace_label: ctx.namespace, r.deployment_label: name}, count, 0, STEPS)
             for name, count in deployments.items()]
    scores = {f: DRIFT_SCORES[i % len(DRIFT_SCORES)] for i, f in enumerate(features)} if "drift" in recorded else {}
    for project, values in ((ctx.project, scores), (f"{ctx.project}-other", {f: 0.9 for f in features})):
        lines += [series.line(d.metric, {"namespace": ctx.namespace, d.project_label: project, d.feature_label: f,
                                         d.method_label: "psi"}, v, 0, STEPS) for f, v in values.items()]
    checks = [_check(promql.Sli("replicas").record, ctx, 4.0)] if "replicas" in recorded else []
    if scores:
        checks.append(_check(promql.Sli("drift").record, ctx, max(scores.values())))
        checks += [_check(promql.BY_FEATURE.record, ctx, v, {d.feature_label: f}) for f, v in scores.items()]
    return lines, checks


def recording_tests(ctx: promql.PromContext, slis: list[promql.Sli], features: tuple[str, ...]) -> dict | None:
    """The test file for the recording rules of these SLIs, or None when there are none."""
    if not slis:
        return None
    requests = [s for s in slis if s.metric in ("latency", "error_rate", "rps")] if ctx.source is not None else []
    recorded = {s.metric for s in slis}
    other, other_checks = _other_series(ctx, recorded, features)
    tests = []
    if requests:
        revisions = _revisions(ctx)
        checks = [_check(s.record, ctx, _value(s, ctx, revisions)) for s in requests]
        label = ctx.source.revision_label
        if label:
            for s in requests:
                record = s.record_at(metrics.REVISION_PREFIX)
                checks += [_check(record, ctx, _value(s, ctx, [r]), {label: r.name}) for r in revisions]
                checks.append({"expr": f"count({record}{promql.matchers(ctx.rule_labels)})", "eval_time": AT,
                               "exp_samples": [{"labels": "{}", "value": len(revisions)}]})  # no other revision
        # another service in the namespace, failing every request: no rule of this one may see it
        decoy = dataclasses.replace(ctx, service=f"{ctx.service}-{DECOY}")
        decoys = series.request_series(decoy, [series.Revision(series.revision_name(decoy, 3), 5.0, 1.0,
                                                               ((0.5, 7.0),))], STEPS)
        tests.append({"name": "recording rules: a stable and a canary revision share the traffic",
                      "interval": f"{series.STEP_MINUTES}m",
                      "input_series": series.request_series(ctx, revisions, STEPS) + decoys + other,
                      "promql_expr_test": checks + other_checks})
        idle = [_check(s.record, ctx, 0.0 if s.metric == "rps" else None) for s in requests]
        if label:
            idle += [_check(s.record_at(metrics.REVISION_PREFIX), ctx, None) for s in requests]
        tests.append({"name": "recording rules: no traffic (no request series): rps reads 0, the rest no value",
                      "interval": f"{series.STEP_MINUTES}m", "input_series": other,
                      "promql_expr_test": idle})
    elif other_checks:
        tests.append({"name": "recording rules: replicas and drift", "interval": f"{series.STEP_MINUTES}m",
                      "input_series": other, "promql_expr_test": other_checks})
    if not tests:
        return None
    return {"rule_files": ["../rules.yaml"], "evaluation_interval": f"{series.STEP_MINUTES}m", "tests": tests}
