"""`monitoring:`: alerts, drift detection, dashboards, notifications and Prometheus settings."""

from __future__ import annotations

from mlopsdsl.language.formats import fmt
from mlopsdsl.language.table import BOOL, STRING, TEXT, Def, Field, Section, enum, labels, list_of, ref


ALERT = Section("Alert", name="alert", schema={"defaultSnippets": [
    {"label": "alert", "body": {"name": "${1:HighErrorRate}", "when": "\\${{ ${2:serving.error_rate > 1%} }}",
                                "for": "${3:5m}", "severity": "${4:warning}"}}]}, fields={
    "name": Field(fmt(r"^[A-Z][A-Za-z0-9]*$", "an alert name in PascalCase", "HighLatency"),
                  "The alert's name, PascalCase as in Prometheus.", "Alert.name", required=True,
                  docs_type="PascalCase name"),
    "when": Field(ref("expr"), "When to fire: an expression over `serving.*` and `drift.*`.", "Alert.when",
                  required=True, context="alert_when", schema={"examples": ["${{ serving.latency.p95 > 250ms }}"]}),
    "for": Field(ref("duration"), "How long the condition must hold before firing.", "Alert.for_duration",
                 default="0s", zero_ok=True),
    "severity": Field(enum({"info": "For the record.", "warning": "Look soon.", "critical": "Page now."}),
                      "How urgent the alert is.", "Alert.severity", default="warning"),
    "summary": Field(STRING, "One-line summary in the notification.", "Alert.summary"),
    "description": Field(STRING, "Longer text in the notification.", "Alert.description"),
    "runbook_url": Field(ref("url"), "A link to what to do.", "Alert.runbook_url"),
    "labels": labels("Extra Prometheus labels on the alert.", "Alert.labels"),
})

DRIFT = Section("Drift", name="drift", fields={
    "reference": Field(ref("expr"), "The reference data: `${{ data.NAME }}`.", "Drift.reference", required=True,
                       context="drift_reference", schema={"examples": ["${{ data.reference }}"]}),
    "method": Field(enum({"psi": "Population stability index.", "ks": "Kolmogorov-Smirnov test.",
                          "wasserstein": "Wasserstein distance.", "chi2": "Chi-squared test."}),
                    "The drift statistic; `ks` and `wasserstein` only on numeric features (MLD682).", "Drift.method",
                    default="psi"),
    "threshold": Field({"type": "number", "exclusiveMinimum": 0},
                       "A feature scoring above this has drifted (`0.2` is the usual PSI level; set your own for the "
                       "other methods).", "Drift.threshold", default=0.2),
    "features": Field(list_of(TEXT, minItems=1, uniqueItems=True),
                      "Columns to watch; each must be in the reference's `schema`.", "Drift.features", required=True),
    "schedule": Field(ref("cron"), "When to compute drift (cron, 5 fields or `@hourly`..., UTC).", "Drift.schedule",
                      default="@hourly"),
    "on_drift": Field(enum({"retrain": "Dispatch the retrain workflow in the environment that drifted.",
                            "alert": "Only alert."}),
                      "What happens when drift is found.", "Drift.on_drift", default="alert"),
    "image": Field(ref("image"), "The drift job's image: where CI pushes the one built from the generated "
                                 "`monitoring/drift/Dockerfile` (tagged with `metadata.version` when no tag is given), "
                                 "or your own image with `mlopsdsl[drift]` installed. Required by the monitoring "
                                 "target (MLD681).", "Drift.image",
                   schema={"examples": ["ghcr.io/acme/churn-drift"]}),
    "current": Field(ref("expr"), "The current sample as a data source, `${{ data.NAME }}`, instead of the request "
                                  "log (exactly one of the two: MLD680).", "Drift.current", context="drift_current",
                     schema={"examples": ["${{ data.live }}"]}),
    "request_log": Field(Section("Request log", fields={
        "uri": Field(TEXT, "Where KServe's payload logger writes the predictor's requests (its `url`): "
                           "`s3://bucket/prefix` (or `gs://`, `abfs://`).", "RequestLog.uri", required=True,
                     schema={"examples": ["s3://acme-ml/request-logs"]}),
        "storage_key": Field(TEXT, "The key in KServe's storage-config Secret with that bucket's credentials.",
                             "RequestLog.storage_key", required=True),
        "path": Field(TEXT, "The logger's `storage.path`.", "RequestLog.path", default="mlopsdsl"),
        "window": Field(ref("duration"), "How far back each run reads.", "RequestLog.window", default="1d"),
    }), "The current sample: the requests KServe's logger stored (the kserve target turns the logger on; REST "
        "services only, MLD683).",
        "Drift.request_log", docs_type="`{uri, storage_key, path, window}`"),
    "credentials": Field(list_of(ref("dns_label"), uniqueItems=True),
                         "Kubernetes Secrets (by name) whose keys become the job's environment, e.g. the "
                         "`AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY` that read the reference and the log.",
                         "Drift.credentials", schema={"examples": [["s3-drift-reader"]]}),
    "min_rows": Field({"type": "integer", "minimum": 1}, "Fewest current rows to judge; fewer is no verdict.",
                      "Drift.min_rows", default=50),
})

DASHBOARD_SETTINGS = Section("Dashboards", schema={"x-noun": "a mapping {enabled, folder, refresh}"}, fields={
    "enabled": Field(BOOL, "Generate the dashboard.", "Dashboards.enabled", default=True),
    "folder": Field(TEXT, "The Grafana folder.", "Dashboards.folder"),
    "refresh": Field(ref("duration"), "The dashboard's refresh interval.", "Dashboards.refresh"),
})
DASHBOARDS = Def("dashboards", {"anyOf": [{"type": "boolean", "x-noun": "true or false"}, DASHBOARD_SETTINGS],
                                "title": "Dashboards"})

_SECRET = ref("secret_name")
NOTIFY = Section("Notify", name="notify", fields={
    "slack": Field(Section("Slack", fields={
        "channel": Field(TEXT, "The channel, e.g. `#ml-alerts`.", "Notify.slack_channel", required=True),
        "webhook_secret": Field(_SECRET, "The secret (by name) holding the webhook URL.", "Notify.slack_webhook_secret",
                                required=True),
    }), "Notify a Slack channel.", "Notify", docs_type="`{channel, webhook_secret}`"),
    "pagerduty": Field(Section("PagerDuty", fields={
        "routing_key_secret": Field(_SECRET, "The secret (by name) holding the routing key.",
                                    "Notify.pagerduty_routing_key_secret", required=True),
    }), "Page through PagerDuty.", "Notify", docs_type="`{routing_key_secret}`"),
    "email": Field(Section("Email", fields={
        "to": Field(list_of(TEXT, minItems=1), "Recipients.", "Notify.email_to", required=True),
    }), "Send email.", "Notify", docs_type="`{to}`"),
})

MONITORING = Section("Monitoring", name="monitoring", fields={
    "alerts": Field(list_of(ALERT), "Prometheus alerting rules.", "Monitoring.alerts", docs_type="list of alerts"),
    "drift": Field(DRIFT, "Data drift detection against a reference data set.", "Monitoring.drift"),
    "dashboards": Field(DASHBOARDS, "A Grafana dashboard: `true`, or `{enabled, folder, refresh}`.",
                        "Monitoring.dashboards", docs_type="bool, or `{enabled, folder, refresh}`"),
    "notify": Field(NOTIFY, "Where alerts go.", "Monitoring.notify", docs_type="`{slack, pagerduty, email}`"),
    "prometheus": Field(Section("Prometheus", fields={
        "rule_labels": labels("Labels the Prometheus operator selects rules by.", "Monitoring.rule_labels",
                              default={"release": "prometheus"}),
        "namespace": Field(ref("dns_label"), "The namespace for the rules.", "Monitoring.namespace",
                           default="monitoring"),
    }), "Prometheus operator settings.", "Monitoring", docs_type="`{rule_labels, namespace}`"),
})
