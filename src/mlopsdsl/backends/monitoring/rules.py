"""PrometheusRule (recording rules + alerts) and the PodMonitor that feeds them.

Selection matters more than syntax here: the Prometheus Operator loads a
PrometheusRule only when its labels match the Prometheus object's
`ruleSelector`, and kube-prometheus-stack's default selector is
`release: <helm release>` (`release: prometheus` for a release named
`prometheus`). A rule that matches nothing is accepted by the API server and
silently never evaluated, so the labels come from `monitoring.prometheus.rule_labels`
and the same labels go on the PodMonitor (the default `podMonitorSelector`
works the same way).

Why a PodMonitor and not a ServiceMonitor: in serverless mode each Knative
revision has its own private Service, created and deleted with revisions, and
the queue-proxy port is declared on the pod; a PodMonitor selecting
`serving.kserve.io/inferenceservice=<name>` follows every revision (canaries
included) without depending on Knative's Service naming, and its relabelings
give each series the revision it came from. Raw mode scrapes the same pods
(the model server's port, or the Istio sidecar's).
"""

from __future__ import annotations

from dataclasses import dataclass

from mlopsdsl.backends import k8s, promql
from mlopsdsl.ir import Alert, Project, render



@dataclass(frozen=True)
class CompiledAlert:
    alert: Alert
    expr: str  # PromQL
    labels: dict[str, str]  # the rule's labels (severity, namespace, service, user labels)
    annotations: dict[str, str]  # as written in the rule (Go-template escaped)
    expanded: dict[str, str]  # what Prometheus expands them to (the user's text)


def escape_template(text: str) -> str:
    """User text is not a Go template: `{{` must come out as written."""
    return text.replace("{{", '{{ "{{" }}')


def compile_alert(alert: Alert, ctx: promql.PromContext) -> CompiledAlert:
    expr = promql.compile_expr(alert.when, ctx)
    labels = {**alert.labels, "severity": alert.severity, **ctx.rule_labels}
    condition = render(alert.when)
    expanded = {
        "summary": alert.summary or f"{alert.name}: {condition}",
        "description": alert.description or (
            f"{condition} has held for {promql.format_duration(alert.for_duration)} "
            f"on {ctx.service} in {ctx.namespace}."),
    }
    if alert.runbook_url:
        expanded["runbook_url"] = alert.runbook_url
    annotations = {k: escape_template(v) for k, v in expanded.items()}
    return CompiledAlert(alert, expr, labels, annotations, expanded)


def alert_rule(compiled: CompiledAlert) -> dict:
    rule: dict = {"alert": compiled.alert.name, "expr": compiled.expr}
    if compiled.alert.for_duration:
        rule["for"] = promql.format_duration(compiled.alert.for_duration)
    rule["labels"] = compiled.labels
    rule["annotations"] = compiled.annotations
    return rule


def rule_groups(project: Project, recording: list[dict], alerts: list[CompiledAlert]) -> list[dict]:
    # Recording rules first: promtool and Prometheus evaluate groups in order, so the
    # alerts of one evaluation see SLIs recorded at the same timestamp.
    groups = []
    if recording:
        groups.append({"name": f"{project.name}.slis", "rules": recording})
    if alerts:
        groups.append({"name": f"{project.name}.alerts", "rules": [alert_rule(a) for a in alerts]})
    return groups


def prometheus_rule(project: Project, namespace: str, labels: dict[str, str], groups: list[dict]) -> dict:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": f"{project.name}-mlopsdsl", "namespace": namespace,
                     "labels": {**k8s.MANAGED_BY, **labels}},
        "spec": {"groups": groups},
    }


def served_services(project: Project, primary: str) -> list[str]:
    variants = project.serving.variants if project.serving else ()
    return [primary] + [k8s.variant_name(project.serving, v) for v in variants]


def pod_monitor(project: Project, ctx: promql.PromContext, labels: dict[str, str]) -> dict | None:
    source = ctx.source
    if source is None:
        return None
    endpoint: dict = {}
    if source.port:
        endpoint["port"] = source.port
    else:
        endpoint["portNumber"] = source.port_number
    endpoint.update({"path": source.path, "interval": "30s"})
    if source.relabel:
        # The OTel exporter keeps namespace/service/revision on `target_info` only; copy
        # them from the pod onto every series, under the names OTLP promotion would give.
        endpoint["relabelings"] = [{"action": "replace", "sourceLabels": [meta], "targetLabel": label}
                                   for meta, label in source.relabel]
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": f"{ctx.service}-metrics", "namespace": ctx.namespace,
                     "labels": {**k8s.MANAGED_BY, **labels}},
        "spec": {
            # Every InferenceService of the split: the primary and each A/B variant (KServe labels
            # their pods with the InferenceService's name).
            "selector": {"matchExpressions": [{"key": "serving.kserve.io/inferenceservice", "operator": "In",
                                               "values": served_services(project, ctx.service)}]},
            "namespaceSelector": {"matchNames": [ctx.namespace]},
            "podMetricsEndpoints": [endpoint],
        },
    }
