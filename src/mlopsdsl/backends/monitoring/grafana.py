"""Grafana dashboard: the recorded SLIs, replicas, drift per feature, alert thresholds.

Panels query the recording rules (the same series the alerts read), so a panel
and an alert can never disagree about what "p95 latency" means; on Knative a row
shows latency, error ratio and rps per revision (the canary beside the stable one),
from the per-revision rules the rollout gate's queries are built like. The datasource
is a template variable (`${datasource}`), so one JSON imports into any Grafana.
The uid is derived from the project (and environment) name, so re-importing
replaces the dashboard instead of adding a copy. Thresholds of alerts that
compare one SLI to a constant are drawn as threshold lines on that SLI's panel.
"""

from __future__ import annotations

import hashlib
import json
import re

from mlopsdsl.backends import promql
from mlopsdsl.backends.monitoring import metrics
from mlopsdsl.backends import k8s
from mlopsdsl.backends.monitoring.rules import CompiledAlert
from mlopsdsl.ir import Compare, Monitoring, Project, walk

DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
_COLORS = {"info": "blue", "warning": "orange", "critical": "red"}


def uid(project: Project) -> str:
    base = "mlopsdsl-" + project.name + (f"-{project.environment.name}" if project.environment else "")
    base = re.sub(r"[^A-Za-z0-9_-]", "-", base)
    if len(base) <= 40:
        return base
    return base[:31] + "-" + hashlib.sha256(base.encode()).hexdigest()[:8]


def thresholds(alerts: list[CompiledAlert]) -> dict[str, list[tuple[float, str]]]:
    """SLI metric -> (threshold, severity) for every `SLI op constant` in an alert."""
    out: dict[str, list] = {}
    for compiled in alerts:
        for node in walk(promql.normalize(compiled.alert.when)):
            if isinstance(node, Compare) and promql.is_const(node.right):
                sli = promql.sli_of(node.left)
                if sli is not None:
                    out.setdefault(sli.metric, []).append((promql.fold(node.right), compiled.alert.severity))
    return out


def _panel(pid: int, title: str, unit: str, targets: list[tuple[str, str]], pos: tuple[int, int, int],
           lines: list[tuple[float, str]]) -> dict:
    x, y, w = pos
    steps = [{"color": "green", "value": None}] + [
        {"color": _COLORS[sev], "value": value} for value, sev in sorted(set(lines))]
    return {
        "type": "timeseries", "id": pid, "title": title, "datasource": DATASOURCE,
        "gridPos": {"h": 8, "w": w, "x": x, "y": y},
        "fieldConfig": {"defaults": {
            "unit": unit,
            "thresholds": {"mode": "absolute", "steps": steps},
            "custom": {"thresholdsStyle": {"mode": "line" if lines else "off"}}}, "overrides": []},
        "options": {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True},
                    "tooltip": {"mode": "multi", "sort": "none"}},
        "targets": [{"refId": chr(ord("A") + i), "datasource": DATASOURCE, "expr": expr, "legendFormat": legend}
                    for i, (expr, legend) in enumerate(targets)],
    }


def _row(pid: int, title: str, y: int) -> dict:
    return {"type": "row", "id": pid, "title": title, "collapsed": False,
            "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}, "panels": []}


def panels(project: Project, mon: Monitoring, ctx: promql.PromContext, alerts: list[CompiledAlert]) -> list[dict]:
    lines = thresholds(alerts)
    out: list[dict] = []
    y = 0

    def q(sli: promql.Sli) -> str:
        return promql.sli_query(sli, ctx)

    if project.serving:
        quantiles = sorted(set(metrics.DASHBOARD_QUANTILES) | {
            s.quantile for a in alerts for s in promql.slis_in(a.alert.when) if s.metric == "latency"})
        out.append(_row(len(out) + 1, "Serving", y))
        y += 1
        serving = [("Latency", "s", [(q(promql.Sli("latency", qq)), f"p{qq * 100:g}") for qq in quantiles], "latency"),
                   ("Requests per second", "reqps", [(q(promql.Sli("rps")), "rps")], "rps"),
                   ("Replicas (available)", "short", [(q(promql.Sli("replicas")), "replicas")], "replicas")]
        if sayable(promql.Sli("error_rate"), ctx):
            serving.insert(1, ("Error ratio (5xx)", "percentunit", [(q(promql.Sli("error_rate")), "errors")],
                               "error_rate"))
        for i, (title, unit, targets, metric) in enumerate(serving):
            out.append(_panel(len(out) + 1, title, unit, targets, (12 * (i % 2), y + 8 * (i // 2), 12),
                              lines.get(metric, [])))
        y += 8 * ((len(serving) + 1) // 2)
        if ctx.source and ctx.source.revision_label:
            out += _revision_panels(len(out) + 1, ctx, y, lines)
            y += 1 + 8 * 2
    if mon.drift:
        out.append(_row(len(out) + 1, f"Drift ({mon.drift.method})", y))
        by_feature = promql.BY_FEATURE.record + promql.matchers(ctx.rule_labels)
        drift_lines = lines.get("drift", []) + [(mon.drift.threshold, "warning")]
        out.append(_panel(len(out) + 1, "Drift score by feature", "short", [(by_feature, "{{feature}}")],
                          (0, y + 1, 24), drift_lines))
    return out


def sayable(sli: promql.Sli, ctx: promql.PromContext) -> bool:
    try:
        promql.raw_query(sli, ctx)
    except promql.Unsupported:
        return False
    return True


def _revision_panels(first: int, ctx: promql.PromContext, y: int, lines: dict) -> list[dict]:
    """The same SLIs per Knative revision: a canary and the stable revision side by side."""
    label = ctx.source.revision_label
    legend = "{{" + label + "}}"

    def per_revision(sli: promql.Sli) -> str:
        return sli.record_at(metrics.REVISION_PREFIX) + promql.matchers(ctx.rule_labels)

    panels = [("p95 latency by revision", "s", promql.Sli("latency", 0.95), "latency"),
              ("Requests per second by revision", "reqps", promql.Sli("rps"), "rps")]
    if sayable(promql.Sli("error_rate"), ctx):
        panels.insert(1, ("Error ratio by revision", "percentunit", promql.Sli("error_rate"), "error_rate"))
    out = [_row(first, "By revision (canary and stable)", y)]
    for i, (title, unit, sli, metric) in enumerate(panels):
        out.append(_panel(first + 1 + i, title, unit, [(per_revision(sli), legend)],
                          (12 * (i % 2), y + 1 + 8 * (i // 2), 12), lines.get(metric, [])))
    return out


def dashboard(project: Project, mon: Monitoring, ctx: promql.PromContext, alerts: list[CompiledAlert]) -> dict:
    refresh = promql.format_duration(mon.dashboards.refresh) if mon.dashboards.refresh else "1m"
    title = project.name + (f" ({project.environment.name})" if project.environment else "")
    return {
        "uid": uid(project), "title": f"{title} - mlopsdsl",
        "description": f"Serving SLIs and drift of {project.name}, generated by mlopsdsl from {project.spec_path}.",
        "tags": ["mlopsdsl", project.name], "timezone": "utc", "editable": False, "graphTooltip": 1,
        "schemaVersion": 39, "version": 1, "refresh": refresh, "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{"name": "datasource", "label": "Prometheus", "type": "datasource",
                                 "query": "prometheus", "hide": 0, "refresh": 1, "options": []}]},
        "annotations": {"list": []}, "links": [],
        "panels": panels(project, mon, ctx, alerts),
    }


def configmap(project: Project, mon: Monitoring, ctx: promql.PromContext, board: dict) -> dict:
    """The same dashboard for kube-prometheus-stack's Grafana sidecar (label `grafana_dashboard`)."""
    meta: dict = {"name": f"{project.name}-dashboard", "namespace": ctx.namespace,
                  "labels": {**k8s.MANAGED_BY, "grafana_dashboard": "1"}}
    if mon.dashboards.folder:
        meta["annotations"] = {"grafana_folder": mon.dashboards.folder}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": meta,
            "data": {f"{project.name}.json": json.dumps(board, indent=2, sort_keys=False) + "\n"}}
