"""promtool unit tests generated from each alert's condition.

For an alert we look for two worlds that differ in one SLI only: in the first
the condition holds (that SLI sits 10% past the threshold it is compared to),
in the second it does not (10% short). Each world becomes raw exporter series
(histogram buckets, request counters, gauges: the same metrics the recording
rules read, see metrics.py), so a test exercises the whole chain: raw metric ->
recording rule -> unit conversion -> alert threshold -> `for`. A wrong unit
(`250` instead of `0.25`) or a wrong metric name makes the firing case fail.

The worlds are found by evaluating the condition here, in Python, with PromQL's
own semantics for what matters: comparisons filter, `and`/`or` keep the left
side's labels, metric-to-metric operations keep only the `on(...)` labels. The
labels of that result are the alert's expected labels.
"""

from __future__ import annotations

import itertools
import math
import operator
from typing import Optional

from mlopsdsl.backends import promql
from mlopsdsl.backends.monitoring import series
from mlopsdsl.backends.monitoring.rules import CompiledAlert
from mlopsdsl.ir import Arith, Compare, Expr, Logic, Neg, Project, walk

Labels = dict[str, str]
Value = Optional[tuple[float, Labels]]

STEP_MINUTES = series.STEP_MINUTES
MARGIN = 0.1  # "just over / just under" a threshold
MAX_WORLDS = 20000
_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
        "==": operator.eq, "!=": operator.ne}
_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul}
# Values a world may give an SLI that no threshold constrains (healthy-looking traffic).
_GRID = {"latency": (0.05, 0.2, 1.0), "error_rate": (0.0, 0.05, 0.5), "rps": (10.0, 0.0, 100.0),
         "replicas": (1.0, 0.0, 5.0), "drift": (0.0, 0.5)}


def series_labels(sli: promql.Sli, ctx: promql.PromContext) -> Labels:
    """Labels of a recorded SLI series (recording-rule output), without `__name__`."""
    if sli.metric == "drift" and sli.feature:
        return {ctx.drift.feature_label: sli.feature, **ctx.rule_labels}
    return dict(ctx.rule_labels)


# -- evaluation --------------------------------------------------------------------------------

def evaluate(expr: Expr, world: dict, ctx: promql.PromContext) -> Labels | None:
    """Labels of the series the (normalized) condition returns, or None when it returns nothing."""
    if isinstance(expr, Logic):
        results = [evaluate(o, world, ctx) for o in expr.operands]
        if expr.op == "and":
            return results[0] if all(r is not None for r in results) else None
        return next((r for r in results if r is not None), None)
    assert isinstance(expr, Compare)
    left = value(expr.left, world, ctx)
    if left is None:
        return None
    if promql.is_const(expr.right):
        return left[1] if _OPS[expr.op](left[0], promql.fold(expr.right)) else None
    right = value(expr.right, world, ctx)
    if right is None or not _OPS[expr.op](left[0], right[0]):
        return None
    return _on(left[1], ctx)


def _on(labels: Labels, ctx: promql.PromContext) -> Labels:
    keep = promql.MATCH_LABELS if ctx.recorded else ()
    return {k: v for k, v in labels.items() if k in keep}


def value(expr: Expr, world: dict, ctx: promql.PromContext) -> Value:
    if promql.is_const(expr):
        return promql.fold(expr), {}
    sli = promql.sli_of(expr)
    if sli is not None:
        return (world[sli], series_labels(sli, ctx)) if sli in world else None
    if isinstance(expr, Neg):
        inner = value(expr.operand, world, ctx)
        return None if inner is None else (-inner[0], inner[1])
    assert isinstance(expr, Arith)
    a, b = value(expr.left, world, ctx), value(expr.right, world, ctx)
    if a is None or b is None:
        return None
    result = _divide(a[0], b[0]) if expr.op == "/" else _ARITH[expr.op](a[0], b[0])
    both = not promql.is_const(expr.left) and not promql.is_const(expr.right)
    return result, (_on(a[1], ctx) if both else (a[1] or b[1]))


def _divide(a: float, b: float) -> float:
    if b:
        return a / b
    return math.nan if a == 0 else math.copysign(math.inf, a)


# -- choosing the worlds -----------------------------------------------------------------------

def _candidates(expr: Expr, slis: list[promql.Sli], ctx) -> dict[promql.Sli, list[tuple[float, int | None]]]:
    """Per SLI: (value, pair id) — values just over/under each threshold share a pair id.

    A comparison's threshold for one SLI is where `left - right` crosses zero with
    every other SLI at its default, so `p99 > 4 * p50` and `error_rate * rps > 2`
    get thresholds too, not only `SLI > constant`.
    """
    out: dict[promql.Sli, list] = {s: [] for s in slis}
    pair = 0
    for node in walk(expr):
        if not isinstance(node, Compare):
            continue
        for leaf in promql.slis_in(node):
            target = _solve(node, leaf, ctx)
            if target is None or target < 0:
                continue
            pair += 1
            lo, hi = (target * (1 - MARGIN), target * (1 + MARGIN)) if target else (0.0, 0.01)
            out[leaf] += [(hi, pair), (lo, pair)]
            if node.op in ("==", "!=") and (target == 0 or leaf.metric in ("replicas", "drift")):
                pair += 1
                out[leaf] += [(target, pair), (hi, pair)]
    for sli in slis:
        out[sli] += [(v, None) for v in _GRID[sli.metric] if all(v != c for c, _ in out[sli])]
    return out


def _solve(node: Compare, sli: promql.Sli, ctx) -> float | None:
    """The value of one SLI at which a comparison linear in it flips (others at their defaults)."""
    others = {s: _GRID[s.metric][0] for s in promql.slis_in(node) if s != sli}

    def gap(x: float) -> float | None:
        world = {**others, sli: x}
        left, right = value(node.left, world, ctx), value(node.right, world, ctx)
        return None if left is None or right is None else left[0] - right[0]

    at = [gap(x) for x in (0.0, 1.0, 2.0)]
    if any(v is None or not math.isfinite(v) for v in at):
        return None
    f0, f1, f2 = at
    if f1 == f0 or not math.isclose(f2 - f1, f1 - f0, rel_tol=1e-9, abs_tol=1e-12):
        return None
    return -f0 / (f1 - f0)


def _feasible(world: dict, ctx: promql.PromContext) -> bool:
    latencies = sorted((s.quantile, v) for s, v in world.items() if s.metric == "latency")
    if any(v <= 0 for _, v in latencies) or any(b[1] <= a[1] for a, b in zip(latencies, latencies[1:])):
        return False  # one histogram must produce them all: quantiles strictly increase
    src = ctx.source
    if latencies and (src is None or series.histogram_fractions(
            src.bounds, [(q, v * src.latency_divisor) for q, v in latencies]) is None):
        return False  # the exporter's own buckets cannot yield these quantiles
    for sli, v in world.items():
        if v < 0 or (sli.metric == "error_rate" and v > 1):
            return False
    rps = [v for s, v in world.items() if s.metric == "rps"]
    if rps and rps[0] == 0 and any(s.metric == "error_rate" for s in world):
        return False  # no traffic: the error ratio is NaN
    maximum = [v for s, v in world.items() if s.metric == "drift" and not s.feature]
    features = [v for s, v in world.items() if s.metric == "drift" and s.feature]
    return not (maximum and features and max(features) > maximum[0])


def choose_worlds(expr: Expr, ctx: promql.PromContext):
    """(firing world, quiet world) differing in one SLI, or (firing, None) / (None, None)."""
    slis = promql.slis_in(expr)
    cands = _candidates(expr, slis, ctx)
    if math.prod(len(c) for c in cands.values()) > MAX_WORLDS:
        cands = {s: [c for c in cs if c[1] is not None] or cs[:1] for s, cs in cands.items()}
    partner = {s: {} for s in slis}
    for s, cs in cands.items():
        for v, p in cs:
            if p is not None:
                partner[s].setdefault(p, []).append(v)
    first_fire = None
    for combo in itertools.product(*(cands[s] for s in slis)):
        world = {s: v for s, (v, _) in zip(slis, combo)}
        if not _feasible(world, ctx) or evaluate(expr, world, ctx) is None:
            continue
        first_fire = first_fire or world
        for s, (v, p) in zip(slis, combo):
            for other in partner[s].get(p, []) if p is not None else []:
                quiet = {**world, s: other}
                if other != v and _feasible(quiet, ctx) and evaluate(expr, quiet, ctx) is None:
                    return world, quiet
    return first_fire, None


# -- the promtool test file --------------------------------------------------------------------

# Knative splits a rollout's traffic over revisions; a service-level SLI must sum them.
SPLIT = ((1, 0.8), (2, 0.2))


def input_series(world: dict, ctx: promql.PromContext, steps: int) -> list[dict]:
    out: list[dict] = []
    if ctx.source is not None and any(s.is_serving and s.metric != "replicas" for s in world):
        rates = {s.metric: v for s, v in world.items() if s.metric in ("rps", "error_rate")}
        latencies = tuple(sorted((s.quantile, v) for s, v in world.items() if s.metric == "latency"))
        rps = rates.get("rps", series.REQUESTS_PER_SECOND)
        split = SPLIT if ctx.source.revision_label else ((1, 1.0),)
        out += series.request_series(ctx, [
            series.Revision(series.revision_name(ctx, n), rps * share, rates.get("error_rate", 0.0), latencies)
            for n, share in split], steps)
    for sli, v in world.items():
        if sli.metric == "replicas":
            r = ctx.replicas
            out.append(series.line(r.metric, {r.namespace_label: ctx.namespace,
                                              r.deployment_label: r.sample_deployment.format(service=ctx.service)},
                                   v, 0, steps))
    return out + _drift_series(world, ctx, steps)


def _drift_series(world: dict, ctx: promql.PromContext, steps: int) -> list[dict]:
    d = ctx.drift
    scores = {s.feature: v for s, v in world.items() if s.metric == "drift"}
    if "" in scores and all(scores[""] > v for f, v in scores.items() if f):
        scores["_max_probe"] = scores[""]  # a feature that carries the maximum
    scores.pop("", None)
    return [{"series": d.metric + promql.matchers({"namespace": ctx.namespace, d.project_label: ctx.project,
                                                   d.feature_label: f, d.method_label: "psi"}),
             "values": f"{series.num(v)}+0x{steps}"} for f, v in sorted(scores.items())]


REQUEST_SLIS = ("latency", "error_rate", "rps")


def no_traffic(world: dict) -> dict | None:
    """The world with no requests: rps reads 0 (the rule's `or vector(0)`), error ratio and latency have
    no value; other SLIs as they were. None when the condition reads no request SLI."""
    if not any(s.metric in REQUEST_SLIS for s in world):
        return None
    idle = {s: v for s, v in world.items() if s.metric not in REQUEST_SLIS}
    idle.update({s: 0.0 for s in world if s.metric == "rps"})
    return idle


def alert_tests(compiled: CompiledAlert, ctx: promql.PromContext, project: Project) -> dict | None:
    expr = promql.normalize(compiled.alert.when)
    fire, quiet = choose_worlds(expr, ctx)
    if fire is None:
        return None
    name = compiled.alert.name
    window = promql.parse_duration(ctx.window)
    eval_s = math.ceil((compiled.alert.for_duration + window) / 60) * 60 + 120
    steps = eval_s // 60 + 1
    labels = {**evaluate(expr, fire, ctx), **compiled.labels}
    fired = [{"exp_labels": labels, "exp_annotations": compiled.expanded}]

    def case(title: str, world: dict, at: float, alerts: list) -> dict:
        return {"name": f"{name}: {title}", "interval": f"{STEP_MINUTES}m",
                "input_series": input_series(world, ctx, steps),
                "alert_rule_test": [{"eval_time": promql.format_duration(at), "alertname": name,
                                     "exp_alerts": alerts}]}

    tests = [case("fires past the threshold for longer than `for`", fire, eval_s, fired)]
    if compiled.alert.for_duration >= 120:
        tests.append(case("pending, not firing, before `for` has passed", fire,
                          compiled.alert.for_duration - 60, []))
    if quiet is not None:
        tests.append(case("stays quiet just short of the threshold", quiet, eval_s, []))
    idle = no_traffic(fire)
    if idle is not None:
        holds = evaluate(expr, idle, ctx)
        title = "no traffic (no request series at all): " + ("fires, rps reads 0" if holds is not None else
                                                              "stays quiet, no error ratio or latency to judge")
        expected = [{"exp_labels": {**holds, **compiled.labels}, "exp_annotations": compiled.expanded}] \
            if holds is not None else []
        tests.append(case(title, idle, eval_s, expected))
    return {"rule_files": ["../rules.yaml"], "evaluation_interval": f"{STEP_MINUTES}m", "tests": tests}
