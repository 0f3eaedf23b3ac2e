"""Resolved `${{ }}` conditions -> PromQL, shared by the monitoring and GitHub backends.

A condition compiles to a PromQL expression that returns a series exactly when
the condition holds (an alert's `expr`, or a rollout analysis query whose empty
result means "healthy"). Each `serving.*` / `drift.*` name is an SLI: one series,
scoped to one service in one namespace, defined once as a recording rule (see
`recording_rules`); alerts and dashboards select the recorded series, while the
deploy workflow (which may run before the rules are installed) inlines the raw
query (`PromContext(recorded=False)`).

Shape of the output, and why:
- comparisons put the threshold on the right (`250ms > p95` becomes `p95 < 0.25`)
  so the filtered series keeps the SLI's labels and its value is the metric's;
- `not` is pushed down (De Morgan, inverted comparisons) rather than compiled to
  `unless`: `vector(1) unless X` would fire when the metric is absent, which is
  "no data", not "condition holds";
- `and`/`or` and metric-to-metric arithmetic match `on(namespace, service)`, the
  two labels every recorded SLI carries (`on()` for inline queries), because the
  operands come from different metrics whose other labels differ;
- literals are in base units already (IR contract): seconds and fractions.
"""

from __future__ import annotations

from dataclasses import dataclass

from mlopsdsl.backends.monitoring import metrics as m
from mlopsdsl.diagnostics import codes
from mlopsdsl.ir import (Arith, Compare, DriftScore, Expr, Lit, Logic, Neg, Not, Project, Serving,
                         ServingMetric, render, walk)

__all__ = ["BY_FEATURE", "MATCH_LABELS", "PromContext", "Sli", "Unsupported", "compile_expr", "compile_value",
           "aggregate", "context_for", "fold", "source_for", "format_duration", "format_number", "is_const", "matchers", "normalize",
           "parse_duration", "raw_query", "recording_rules", "sli_of", "sli_query", "slis_in"]

_MIRROR = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_INVERSE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
MATCH_LABELS = ("namespace", "service")


class Unsupported(Exception):
    """A construct PromQL cannot express; the caller reports it with the right span.

    `code` is the diagnostic to report it as (MLD701 `unsupported-construct` unless a
    more precise code says why)."""

    def __init__(self, feature: str, hint: str | None = None, code: codes.Code = codes.UNSUPPORTED):
        super().__init__(feature)
        self.feature = feature
        self.hint = hint
        self.code = code


@dataclass(frozen=True)
class PromContext:
    namespace: str
    service: str  # the InferenceService name (the project name when nothing is served)
    project: str
    source: m.MetricSource | None  # None when the project serves nothing
    replicas: m.ReplicaSource = m.REPLICAS
    drift: m.DriftSource = m.DRIFT
    window: str = m.RATE_WINDOW
    recorded: bool = True  # select recording rules (alerts, dashboards) or inline raw queries
    revision: str | None = None  # inline queries: only this Knative revision's requests (the rollout gate)
    grpc: bool = False  # the service speaks gRPC: errors travel as HTTP 200 with a grpc-status trailer

    @property
    def on(self) -> str:
        return f"on({', '.join(MATCH_LABELS)})" if self.recorded else "on()"

    @property
    def rule_labels(self) -> dict[str, str]:
        """Labels every recorded SLI carries: what alerts route and inhibit on."""
        return {"namespace": self.namespace, "service": self.service}

    def selector(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The source's scope labels, narrowed to `revision` when one is given."""
        assert self.source is not None
        labels = self.source.labels(self.namespace, self.service)
        if self.revision is not None and self.source.revision_label:
            labels[self.source.revision_label] = self.revision
        return {**labels, **(extra or {})}


def source_for(serving: Serving, sources: dict[str, m.MetricSource] | None = None) -> m.MetricSource:
    """The metric source `serving.metrics` names (a subclass' `sources` may replace a row)."""
    return (sources or m.SOURCES)[serving.metrics]


def context_for(project: Project, *, recorded: bool = True,
                sources: dict[str, m.MetricSource] | None = None) -> PromContext:
    serving = project.serving
    return PromContext(namespace=serving.namespace if serving else project.namespace,
                       service=serving.name if serving else project.name,
                       project=project.name, source=source_for(serving, sources) if serving else None,
                       recorded=recorded, grpc=bool(serving and serving.protocol == "grpc-v2"))


@dataclass(frozen=True, order=True)
class Sli:
    """One service level indicator: a `serving.*` or `drift.*` name."""

    metric: str  # latency | error_rate | rps | replicas | drift
    quantile: float = 0.0  # latency only
    feature: str = ""  # drift only; "" = the maximum over features

    @property
    def record(self) -> str:
        return self.record_at(m.RECORD_PREFIX)

    def record_at(self, level: str) -> str:
        """The recording rule's name at a level (`mlopsdsl` per service, `mlopsdsl_revision` per revision)."""
        w = m.RATE_WINDOW
        if self.metric == "latency":
            digits = f"{self.quantile * 100:g}".replace(".", "_")
            return f"{level}:latency_seconds:p{digits}"
        return {"error_rate": f"{level}:error_ratio:rate{w}",
                "rps": f"{level}:requests:rate{w}",
                "replicas": f"{level}:replicas:available",
                "drift": f"{level}:drift_score:{'by_feature' if self.feature else 'max'}",
                }[self.metric]

    @property
    def per_revision(self) -> bool:
        """Whether a revision-level recording exists: request SLIs, not replicas or drift."""
        return self.metric in ("latency", "error_rate", "rps")

    @property
    def is_serving(self) -> bool:
        return self.metric != "drift"


# Stands for the one per-feature drift recording rule, whatever the feature.
BY_FEATURE = Sli("drift", feature="*")


def sli_of(node: Expr) -> Sli | None:
    if isinstance(node, ServingMetric):
        return Sli(node.metric, node.quantile or 0.0)
    if isinstance(node, DriftScore):
        return Sli("drift", feature=node.feature or "")
    return None


def slis_in(expr: Expr) -> list[Sli]:
    return sorted({s for s in map(sli_of, walk(expr)) if s})


# -- queries -----------------------------------------------------------------------------------

def format_number(value: float) -> str:
    return format(float(value), ".15g")


_UNITS = (("d", 86400), ("h", 3600), ("m", 60), ("s", 1))


def format_duration(seconds: float) -> str:
    """Seconds -> a Prometheus duration (`1h30m`, `250ms`); `0s` for zero."""
    millis = round(seconds * 1000)
    if millis % 1000:
        return f"{millis}ms"
    rest, parts = millis // 1000, []
    for unit, size in _UNITS:
        if rest >= size:
            parts.append(f"{rest // size}{unit}")
            rest %= size
    return "".join(parts) or "0s"


def parse_duration(text: str) -> float:
    """A Prometheus duration (`5m`, `1h30m`, `250ms`) -> seconds."""
    total, number = 0.0, ""
    sizes = {**dict(_UNITS), "ms": 0.001, "w": 604800, "y": 31536000}
    i = 0
    while i < len(text):
        if text[i].isdigit():
            number += text[i]
            i += 1
            continue
        unit = "ms" if text.startswith("ms", i) else text[i]
        total += int(number) * sizes[unit]
        number, i = "", i + len(unit)
    return total


def matchers(labels: dict[str, str], regex: dict[str, str] | None = None) -> str:
    def quote(v: str) -> str:
        return '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"'

    items = [f"{k}={quote(v)}" for k, v in labels.items()]
    items += [f"{k}=~{quote(v)}" for k, v in (regex or {}).items()]
    return "{" + ", ".join(items) + "}"


def aggregate(op: str, by: tuple[str, ...], inner: str) -> str:
    """`sum by (a, b) (inner)`, or `sum(inner)` when nothing is kept."""
    return f"{op} by ({', '.join(by)}) ({inner})" if by else f"{op}({inner})"


def _need_source(ctx: PromContext, sli: Sli) -> m.MetricSource:
    if ctx.source is None:
        raise Unsupported(f"serving.{sli.metric} without a `serving:` section",
                          "alerts on serving metrics need the model to be served by this spec")
    return ctx.source


def raw_query(sli: Sli, ctx: PromContext, *, per_revision: bool = False) -> str:
    """The SLI computed from the exporters' own metrics (the recording rule's `expr`).

    Service level (`per_revision=False`) sums every revision into one series without
    labels (the rule adds `namespace`/`service`); `per_revision=True` keeps the source's
    revision label. `ctx.revision` narrows either to one revision (the rollout gate).
    """
    if sli.metric == "drift":
        d = ctx.drift
        sel = matchers({"namespace": ctx.namespace, d.project_label: ctx.project})
        return aggregate("max", (d.feature_label,) if sli.feature else (), f"{d.metric}{sel}")
    src = _need_source(ctx, sli)
    if sli.metric == "replicas":
        r = ctx.replicas
        sel = matchers({r.namespace_label: ctx.namespace},
                       {r.deployment_label: r.deployment_regex.format(service=ctx.service)})
        return aggregate("sum", (), f"{r.metric}{sel}")
    keep = (src.revision_label,) if per_revision and src.revision_label else ()
    sel, w = ctx.selector(), ctx.window

    if sli.metric == "latency":
        buckets = aggregate("sum", ("le", *keep), f"rate({src.latency_bucket}{matchers(sel)}[{w}])")
        query = f"histogram_quantile({format_number(sli.quantile)}, {buckets})"
        return query if src.latency_divisor == 1 else f"{query} / {format_number(src.latency_divisor)}"
    total = aggregate("sum", keep, f"rate({src.requests}{matchers(sel)}[{w}])")
    if sli.metric == "rps":
        # No request series at all (never called, scaled to zero) is no traffic: 0, not "no data".
        return total if keep else f"{total} or vector(0)"
    error_label, error_regex = _errors(src, ctx)
    errors = aggregate("sum", keep, f"rate({src.requests}{matchers(sel, {error_label: error_regex})}[{w}])")
    # `or ... * 0`: with no failed request yet there is no error series at all, and a
    # bare ratio would be empty (neither above nor below any threshold) instead of 0.
    return f"({errors} or {total} * 0) / {total}"


def _errors(src: m.MetricSource, ctx: PromContext) -> tuple[str, str]:
    """The label and regex that mark a failed request, or Unsupported when the source cannot tell."""
    if ctx.grpc:
        if src.grpc_error_label is None:
            raise Unsupported(f"serving.error_rate of a grpc-v2 service with metrics '{src.name}'",
                              "gRPC errors travel as HTTP 200 with a grpc-status trailer, and no metric of this "
                              "source records grpc-status: judge latency and rps, serve REST (v2), or use "
                              "`serving.metrics: istio` (its grpc_response_status label)",
                              code=codes.ERROR_RATE_UNOBSERVABLE)
        return src.grpc_error_label, src.grpc_error_regex
    if src.error_label is None:
        raise Unsupported(f"serving.error_rate with metrics '{src.name}' (it records no response codes)",
                          "use `serving.metrics: istio`, or serverless with `knative-otel`",
                          code=codes.ERROR_RATE_UNOBSERVABLE)
    return src.error_label, src.error_regex


def sli_query(sli: Sli, ctx: PromContext) -> str:
    raw = raw_query(sli, ctx)  # also what raises when the source cannot say this SLI
    if not ctx.recorded:
        return f"({raw})"
    labels = dict(ctx.rule_labels)
    if sli.feature:
        labels[ctx.drift.feature_label] = sli.feature
    return sli.record + matchers(labels)


def recording_rules(ctx: PromContext, slis: list[Sli]) -> list[dict]:
    """One rule per distinct record name (per-feature drift shares one): every SLI per
    service, and the request SLIs once more per revision where the source has revisions."""
    rules, seen = [], set()
    levels = [(m.RECORD_PREFIX, False)]
    if ctx.source is not None and ctx.source.revision_label:
        levels.append((m.REVISION_PREFIX, True))
    for level, per_revision in levels:
        for sli in sorted(slis):
            name = sli.record_at(level)
            if name in seen or (per_revision and not sli.per_revision):
                continue
            seen.add(name)
            rules.append({"record": name, "expr": raw_query(sli, ctx, per_revision=per_revision),
                          "labels": dict(ctx.rule_labels)})
    return rules


# -- conditions --------------------------------------------------------------------------------

def is_const(expr: Expr) -> bool:
    return all(isinstance(n, (Lit, Arith, Neg)) for n in walk(expr))


def normalize(expr: Expr, negate: bool = False) -> Expr:
    """Push `not` down to comparisons and put constants on the right of comparisons."""
    if isinstance(expr, Not):
        return normalize(expr.operand, not negate)
    if isinstance(expr, Logic):
        op = {"and": "or", "or": "and"}[expr.op] if negate else expr.op
        return expr.model_copy(update={"op": op, "operands": tuple(normalize(o, negate) for o in expr.operands)})
    if isinstance(expr, Compare):
        op, left, right = (_INVERSE[expr.op] if negate else expr.op), expr.left, expr.right
        if is_const(left) and not is_const(right):
            op, left, right = _MIRROR[op], right, left
        return expr.model_copy(update={"op": op, "left": left, "right": right})
    if negate:
        raise Unsupported(f"`not {render(expr)}`", "negate a comparison, e.g. `not (serving.rps > 1)`")
    return expr


def compile_expr(expr: Expr, ctx: PromContext) -> str:
    """A boolean condition -> PromQL that returns a series exactly when it holds."""
    return _cond(normalize(expr), ctx)


def _cond(expr: Expr, ctx: PromContext) -> str:
    if isinstance(expr, Logic):
        return f" {expr.op} {ctx.on} ".join(f"({_cond(o, ctx)})" for o in expr.operands)
    if isinstance(expr, Compare):
        if is_const(expr.left):
            raise Unsupported(f"a comparison of constants (`{render(expr)}`)", "compare a serving or drift metric")
        left = compile_value(expr.left, ctx)
        if is_const(expr.right):
            return f"{left} {expr.op} {format_number(fold(expr.right))}"
        return f"{left} {expr.op} {ctx.on} {compile_value(expr.right, ctx)}"
    raise Unsupported(f"`{render(expr)}` as a condition", "write a comparison, e.g. `serving.rps < 1`")


def compile_value(expr: Expr, ctx: PromContext) -> str:
    """A numeric expression over SLIs and literals -> a PromQL instant vector or number."""
    if is_const(expr):
        return format_number(fold(expr))
    sli = sli_of(expr)
    if sli:
        return sli_query(sli, ctx)
    if isinstance(expr, Neg):
        return f"-({compile_value(expr.operand, ctx)})"
    if isinstance(expr, Arith):
        left, right = compile_value(expr.left, ctx), compile_value(expr.right, ctx)
        if expr.op == "/" and is_const(expr.right) and fold(expr.right) == 0:
            raise Unsupported(f"division by zero in `{render(expr)}`")
        both = not is_const(expr.left) and not is_const(expr.right)
        return f"({left} {expr.op} {ctx.on + ' ' if both else ''}{right})"
    raise Unsupported(f"`{render(expr)}` in a PromQL expression",
                      "Prometheus sees serving.* and drift.* metrics and literals only")


def fold(expr: Expr) -> float:
    if isinstance(expr, Lit):
        if isinstance(expr.value, bool) or not isinstance(expr.value, (int, float)):
            raise Unsupported(f"the literal `{render(expr)}` as a number")
        return float(expr.value)
    if isinstance(expr, Neg):
        return -fold(expr.operand)
    if isinstance(expr, Arith):
        a, b = fold(expr.left), fold(expr.right)
        if expr.op == "/" and b == 0:
            raise Unsupported(f"division by zero in `{render(expr)}`")
        return {"+": a + b, "-": a - b, "*": a * b, "/": a / b if b else 0.0}[expr.op]
    raise Unsupported(f"`{render(expr)}` as a constant")
