"""`serving:` and `monitoring:` -> `ir.Serving` and `ir.Monitoring`."""

from __future__ import annotations

from typing import Any

from mlopsdsl.ir import models as m
from mlopsdsl.ir.expr import DataRef, StepOutputRef
from mlopsdsl.ir.lower_values import percent_number, seconds
from mlopsdsl.ir.lower_steps import lower_env, lower_resources
from mlopsdsl.expr.units import cron_fields
from mlopsdsl.language import setting


def lower_serving(low) -> m.Serving:
    serving = low.section("serving")
    model = low.expr(("serving", "model")) if "model" in serving else None
    replicas = serving.get("replicas") or {}
    autoscaling = serving.get("autoscaling") or {}
    framework = setting(low.section("model"), "model.framework")
    minimum = int(setting(replicas, "serving.replicas.min"))
    protocol = setting(serving, "serving.protocol")
    mode = setting(serving, "serving.deployment_mode")
    return m.Serving(
        name=serving["name"], namespace=low.environment.namespace if low.environment else "default",
        model_step=model.step if isinstance(model, StepOutputRef) else None,
        model_output=model.output if isinstance(model, StepOutputRef) else None,
        storage_uri=low.plain(("serving", "storage_uri"), serving.get("storage_uri", "")),
        storage_secret=serving.get("storage_secret"), framework=framework,
        protocol=protocol, deployment_mode=mode, metrics=serving.get("metrics") or m.SERVING_METRICS_DEFAULT[mode],
        grpc_port=serving.get("grpc_port"),
        knative_features=tuple(serving.get("knative_features") or ()),
        runtime=serving.get("runtime"), min_replicas=minimum, max_replicas=int(replicas.get("max", max(minimum, 1))),
        autoscale_metric=autoscaling.get("metric"),
        autoscale_target=float(autoscaling["target"]) if "target" in autoscaling else None,
        resources=lower_resources(serving.get("resources")), transformer=_transformer(low, serving),
        rollout=_rollout(low, serving.get("rollout") or {}),
        variants=tuple(_variant(low, i, v, framework) for i, v in enumerate(serving.get("variants") or [])),
        span=low.span(("serving",)))


def _transformer(low, serving: dict[str, Any]) -> m.Transformer | None:
    transformer = serving.get("transformer")
    if not isinstance(transformer, dict):
        return None
    base = ("serving", "transformer")
    return m.Transformer(image=low.plain(base + ("image",), transformer["image"]),
                         command=tuple(low.plain(base + ("run", i), a) for i, a in
                                       enumerate(transformer.get("run") or ())),
                         env=tuple(lower_env(low, base + ("env",), transformer.get("env") or {})),
                         resources=lower_resources(transformer.get("resources")))


def _rollout(low, rollout: dict[str, Any]) -> m.Rollout:
    strategy = rollout.get("strategy", "direct")
    return m.Rollout(strategy=strategy, steps=tuple(percent_number(s) for s in rollout.get("steps") or ()),
                     interval=seconds(rollout.get("interval")),
                     analysis=low.expr(("serving", "rollout", "analysis")) if "analysis" in rollout else None,
                     no_traffic=_no_traffic(rollout.get("no_traffic")), span=low.span(("serving", "rollout")))


_NO_TRAFFIC = "serving.rollout.no_traffic."


def _no_traffic(raw: Any) -> m.NoTraffic:
    if not isinstance(raw, dict):
        return m.NoTraffic()
    probe = raw.get("probe") or {}
    minimum = int(setting(raw, _NO_TRAFFIC + "min_requests"))
    return m.NoTraffic(min_requests=minimum, action=setting(raw, _NO_TRAFFIC + "action"), probe_body=probe.get("body"),
                       probe_requests=int(probe.get("requests", minimum)) if probe else 0)


def _variant(low, i: int, variant: dict[str, Any], framework: str) -> m.Variant:
    base = ("serving", "variants", i)
    return m.Variant(name=variant["name"], storage_uri=low.plain(base + ("storage_uri",), variant["storage_uri"]),
                     weight=percent_number(variant["weight"]), framework=variant.get("framework", framework),
                     version=str(variant["version"]) if "version" in variant else None,
                     resources=lower_resources(variant.get("resources")))


def lower_monitoring(low) -> m.Monitoring:
    monitoring = low.section("monitoring")
    prometheus = monitoring.get("prometheus") or {}
    # where Prometheus, Alertmanager and the Pushgateway run (kube-prometheus-stack's usual home)
    namespace = setting(prometheus, "monitoring.prometheus.namespace")
    return m.Monitoring(
        namespace=namespace,
        alerts=tuple(_alert(low, i, a) for i, a in enumerate(monitoring.get("alerts") or [])),
        drift=_drift(low, monitoring.get("drift")), dashboards=_dashboards(monitoring.get("dashboards")),
        notify=_notify(monitoring.get("notify") or {}),
        rule_labels={str(k): str(v) for k, v in setting(prometheus, "monitoring.prometheus.rule_labels").items()})


def _alert(low, i: int, alert: dict[str, Any]) -> m.Alert:
    base = ("monitoring", "alerts", i)
    return m.Alert(name=alert["name"], when=low.expr(base + ("when",)),
                   for_duration=seconds(setting(alert, "monitoring.alerts.*.for")),
                   severity=setting(alert, "monitoring.alerts.*.severity"),
                   summary=low.plain(base + ("summary",), alert.get("summary", "")),
                   description=low.plain(base + ("description",), alert.get("description", "")),
                   runbook_url=alert.get("runbook_url"),
                   labels={str(k): str(v) for k, v in (alert.get("labels") or {}).items()}, span=low.span(base))


_LOG = "monitoring.drift.request_log."


def _drift(low, drift: Any) -> m.Drift | None:
    if not isinstance(drift, dict):
        return None
    reference = low.expr(("monitoring", "drift", "reference"))
    current = low.expr(("monitoring", "drift", "current")) if "current" in drift else None
    log = drift.get("request_log")
    request_log = m.RequestLog(uri=log["uri"], storage_key=log["storage_key"], path=setting(log, _LOG + "path"),
                               window=seconds(setting(log, _LOG + "window"))) if isinstance(log, dict) else None
    return m.Drift(reference=reference.name if isinstance(reference, DataRef) else str(drift.get("reference")),
                   method=setting(drift, "monitoring.drift.method"),
                   threshold=float(setting(drift, "monitoring.drift.threshold")),
                   features=tuple(drift.get("features") or ()),
                   schedule=cron_fields(setting(drift, "monitoring.drift.schedule")),
                   on_drift=setting(drift, "monitoring.drift.on_drift"), image=drift.get("image"),
                   current=current.name if isinstance(current, DataRef) else None, request_log=request_log,
                   credentials=tuple(drift.get("credentials") or ()),
                   min_rows=int(setting(drift, "monitoring.drift.min_rows")),
                   span=low.span(("monitoring", "drift")))


def _dashboards(raw: Any) -> m.Dashboards:
    if isinstance(raw, bool):
        return m.Dashboards(enabled=raw)
    if isinstance(raw, dict):
        return m.Dashboards(enabled=bool(setting(raw, "monitoring.dashboards.enabled")), folder=raw.get("folder"),
                            refresh=seconds(raw.get("refresh")))
    return m.Dashboards()


def _notify(raw: dict[str, Any]) -> m.Notify:
    slack, pagerduty, email = (raw.get(k) or {} for k in ("slack", "pagerduty", "email"))
    return m.Notify(slack_channel=slack.get("channel"), slack_webhook_secret=slack.get("webhook_secret"),
                    pagerduty_routing_key_secret=pagerduty.get("routing_key_secret"),
                    email_to=tuple(email.get("to") or ()))



