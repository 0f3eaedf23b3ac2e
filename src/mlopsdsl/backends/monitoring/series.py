"""Synthetic exporter series for the generated promtool tests, shaped as the exporter writes them.

A test is only as good as its input: series here carry the exporter's metric
names, its labels (scope, revision, status, OTel scope, and the target labels the
Prometheus Operator adds to a PodMonitor scrape), its own histogram bucket bounds
(`metrics.MetricSource.bounds`, never `le` values chosen to fit), counters that
only increase, one histogram per status code (as OTel and OpenCensus keep one per
attribute set), and traffic split over the revisions and pods of a Knative split.

`histogram_fractions` places cumulative bucket counts so that Prometheus'
`histogram_quantile` (linear interpolation inside the bucket that holds the rank)
returns each wanted quantile exactly; `histogram_quantile` is that algorithm, so
the placement is checked before a test is written.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from mlopsdsl.backends import promql
from mlopsdsl.backends.monitoring import metrics as m

Labels = dict[str, str]
STEP_MINUTES = 1
REQUESTS_PER_SECOND = 10.0  # traffic when `serving.rps` is not under test
GRPC_FAILED = "14"  # UNAVAILABLE


def histogram_quantile(q: float, bounds: tuple[float, ...], cumulative: list[float]) -> float:
    """Prometheus' classic `histogram_quantile` over cumulative fractions (`+Inf` = 1)."""
    rank = q * 1.0
    for i, c in enumerate(cumulative):
        if c >= rank:
            lo, below = (bounds[i - 1], cumulative[i - 1]) if i else (0.0, 0.0)
            count = c - below
            return bounds[i] if count == 0 else lo + (bounds[i] - lo) * (rank - below) / count
    return bounds[-1]  # the rank is in the +Inf bucket: the last finite bound


def histogram_fractions(bounds: tuple[float, ...], targets: list[tuple[float, float]]) -> list[float] | None:
    """Cumulative fractions at `bounds` whose quantile q is v for each (q, v), or None if none can be.

    Inside a bucket the interpolation is linear, so quantiles sharing a bucket must be
    collinear, the first bucket starts from 0, and a bucket adjacent to the previous
    target's starts where that one ended; elsewhere there is room, and half of it is used.
    """
    targets = sorted(targets, key=lambda t: t[1])
    groups: dict[int, list[tuple[float, float]]] = {}
    for q, v in targets:
        j = next((i for i, b in enumerate(bounds) if v <= b), None)
        if j is None or v <= 0:
            return None
        groups.setdefault(j, []).append((q, v))
    cumulative: list[float | None] = [None] * len(bounds)
    last_j, last = -1, 0.0
    order = sorted(groups)
    for n, j in enumerate(order):
        lo, hi = (bounds[j - 1] if j else 0.0), bounds[j]
        points = [(q, (v - lo) / (hi - lo)) for q, v in groups[j]]
        upper = min(q for q, _ in groups[order[n + 1]]) if n + 1 < len(order) else 1.0
        forced = j - 1 == last_j
        if len(points) > 1:
            (q1, t1), (q2, t2) = points[0], points[-1]
            slope = (q2 - q1) / (t2 - t1) if t2 > t1 else 0.0
            if slope <= 0 or any(not math.isclose(q, q1 + slope * (t - t1), abs_tol=1e-12) for q, t in points):
                return None
            start = q1 - slope * t1
        else:
            ((q, t),) = points
            if forced:
                start = last
            else:
                room_above = (upper - q) * t / (1 - t) if t < 1 else math.inf
                start = q - 0.5 * min(q - last, room_above)
            slope = (q - start) / t
        if forced and not math.isclose(start, last, abs_tol=1e-12):
            return None
        end = start + slope
        if start < last - 1e-12 or end > upper + 1e-12 or slope <= 0:
            return None
        for i in range(last_j + 1, j):
            cumulative[i] = last
        if j:
            cumulative[j - 1] = start  # the bucket below rises to where this one starts (== last when forced)
        cumulative[j] = end
        last_j, last = j, end
    out = [c if c is not None else 1.0 for c in cumulative]
    out = [min(1.0, c) for c in out]
    if any(not math.isclose(histogram_quantile(q, bounds, out), v, rel_tol=1e-9) for q, v in targets):
        return None
    return out


def num(x: float) -> str:
    text = f"{x:.9f}".rstrip("0").rstrip(".")  # no exponent: promtool's series notation
    return text if text not in ("", "-0") else "0"


def line(metric: str, labels: Labels, start: float, per_step: float, steps: int) -> dict:
    return {"series": metric + promql.matchers(labels), "values": f"{num(start)}+{num(per_step)}x{steps}"}


@dataclass(frozen=True)
class Revision:
    """One revision's share of a world: its name, traffic, error ratio and latency quantiles."""

    name: str
    rps: float
    error_ratio: float = 0.0
    latencies: tuple[tuple[float, float], ...] = ()  # (quantile, seconds)


def revision_name(ctx: promql.PromContext, n: int) -> str:
    return f"{ctx.service}-predictor-{n:05d}"


def request_series(ctx: promql.PromContext, revisions: list[Revision], steps: int) -> list[dict]:
    """Every request series the exporter of `ctx.source` would show for these revisions."""
    src = ctx.source
    assert src is not None
    out: list[dict] = []
    for i, rev in enumerate(revisions):
        if rev.rps == 0:
            continue  # a revision never called has no series at all (OTel records on first use)
        target = {"namespace": ctx.namespace, "container": src.container, "pod": f"{rev.name}-deployment-7d9c-{i}x",
                  "job": f"{ctx.namespace}/{ctx.service}-metrics"}
        base = {**target, **src.labels(ctx.namespace, ctx.service),
                **{k: v.format(service=ctx.service) for k, v in src.sample_extra}}
        if src.revision_label:
            base[src.revision_label] = rev.name
        per_step = rev.rps * 60 * STEP_MINUTES
        for status, share in _statuses(src, ctx, rev.error_ratio):
            labels, count = {**base, **status}, per_step * share
            if rev.latencies:
                fractions = histogram_fractions(src.bounds, [(q, v * src.latency_divisor) for q, v in rev.latencies])
                assert fractions is not None, "choose_worlds keeps only worlds a histogram can produce"
                for bound, fraction in zip(src.bounds, fractions):
                    out.append(line(src.latency_bucket, {**labels, "le": num(bound)}, 0, count * fraction, steps))
                out.append(line(src.latency_bucket, {**labels, "le": "+Inf"}, 0, count, steps))
            out.append(line(src.requests, labels, 0, count, steps))
    return out


def _statuses(src: m.MetricSource, ctx: promql.PromContext, ratio: float) -> list[tuple[Labels, float]]:
    ok = dict(src.sample_ok)
    if ctx.grpc and src.grpc_error_label:
        ok[src.grpc_error_label] = "0"
        failed = {**ok, src.grpc_error_label: GRPC_FAILED}
    elif src.error_label:
        failed = dict(src.sample_error)
    else:
        return [(ok, 1.0)]
    return [(ok, 1 - ratio), (failed, ratio)]
