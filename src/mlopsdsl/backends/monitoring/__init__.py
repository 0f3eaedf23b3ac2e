"""The monitoring target: Prometheus rules, scraping, Alertmanager, Grafana, the drift job.

Artifacts (under `monitoring/`):
- `prometheus-rules.yaml`  PrometheusRule: one recording rule per SLI, then the alerts
- `podmonitor.yaml`        PodMonitor scraping the model pods (see rules.py for why)
- `alertmanager.yaml`      routes by severity, inhibition, receivers from `notify`
- `grafana-dashboard.json` SLIs, replicas, drift per feature, alert thresholds (and the
  same in `grafana-dashboard-configmap.yaml` for the kube-prometheus-stack sidecar)
- `drift-cronjob.yaml`     ConfigMap + CronJob running the drift job (see drift.py)
- `drift/Dockerfile`       the drift job's image, from `ci.github.mlopsdsl`'s requirement
- `SETUP.md`               what the cluster must provide (also printed after compile)
- `rules.yaml`             the same groups as a plain rule file (`rule_files:` of a Prometheus
                           without the Operator; what the tests load)
- `tests/<Alert>.yaml`     promtool unit tests generated from each alert:
                           `promtool test rules monitoring/tests/*.yaml`
- `tests/recording-rules.yaml` promtool tests of every recording rule: canary and stable sharing the
                           traffic, and no traffic
- `tests/rollout-gate.yaml` promtool tests of the deploy job's gate queries (gate.py) on a
                           canary/stable split, with and without traffic

The metric names behind every query live in one table, `metrics.py`, keyed by
`serving.metrics`; a cluster with other exporters overrides `sources` in a subclass.
"""

from __future__ import annotations

from typing import ClassVar

from mlopsdsl.backends import promql
from mlopsdsl.backends.base import Artifact, Backend, codes, decide
from mlopsdsl.backends.monitoring import (alertmanager, checks, drift, gate_tests, grafana, metrics,
                                          recording_tests, rule_tests, rules, setup)
from mlopsdsl.ir import Project

__all__ = ["MonitoringBackend"]


class MonitoringBackend(Backend):
    name = "monitoring"
    description = "Prometheus rules with generated promtool tests, Alertmanager, Grafana, drift CronJob"
    sources: ClassVar[dict[str, metrics.MetricSource]] = metrics.SOURCES
    decisions = {
        "Step": "n/a: alerts and drift watch the served model, not the pipeline's steps",
        **decide("emit", "Serving", "name namespace protocol deployment_mode metrics rollout variants"),
        **decide("n/a: how the model is served, which the kserve target writes; the metrics do not depend on it",
                 "Serving", "model_step model_output storage_uri storage_secret framework runtime grpc_port "
                            "knative_features min_replicas max_replicas autoscale_metric autoscale_target resources "
                            "transformer"),
    }

    def check(self, project: Project) -> None:
        checks.check(project, self.warn)
        if project.monitoring is not None:  # what PromQL cannot say is found by compiling each alert
            ctx = promql.context_for(project, sources=self.sources)
            for alert in project.monitoring.alerts:
                try:
                    rules.compile_alert(alert, ctx)
                except promql.Unsupported as exc:
                    self.refuse(exc, f"alert '{alert.name}'", alert.span)

    def compile(self, project: Project) -> list[Artifact]:
        mon = project.monitoring
        if mon is None:
            return []
        ctx = promql.context_for(project, sources=self.sources)
        compiled = []
        for alert in mon.alerts:
            try:
                compiled.append(rules.compile_alert(alert, ctx))
            except promql.Unsupported as exc:
                self.refuse(exc, f"alert '{alert.name}'", alert.span)
        slis = self._slis(project, ctx, [c.alert for c in compiled])
        recording = promql.recording_rules(ctx, slis)
        groups = rules.rule_groups(project, recording, compiled)
        header = self.header(project)
        out = []
        if groups:
            doc = rules.prometheus_rule(project, project.namespace, mon.rule_labels, groups)
            out.append(Artifact("monitoring/prometheus-rules.yaml", documents=(doc,), header=header))
            out.append(Artifact("monitoring/rules.yaml", documents=({"groups": groups},), header=header))
        monitor = rules.pod_monitor(project, ctx, mon.rule_labels)
        if monitor:
            out.append(Artifact("monitoring/podmonitor.yaml", documents=(monitor,), header=header))
        for case in compiled:
            test = rule_tests.alert_tests(case, ctx, project)
            if test is not None:
                out.append(Artifact(f"monitoring/tests/{case.alert.name}.yaml", documents=(test,), header=header))
        recorded = recording_tests.recording_tests(ctx, slis, mon.drift.features if mon.drift else ())
        if recorded is not None and groups:
            out.append(Artifact("monitoring/tests/recording-rules.yaml", documents=(recorded,), header=header))
        gate_test = gate_tests.gate_tests(project)
        if gate_test is not None:
            out.append(Artifact("monitoring/tests/rollout-gate.yaml", documents=(gate_test,), header=header))
        out.append(Artifact("monitoring/alertmanager.yaml",
                            documents=(alertmanager.config(project, mon, ctx),), header=header))
        if mon.dashboards.enabled:
            board = grafana.dashboard(project, mon, ctx, compiled)
            out.append(Artifact("monitoring/grafana-dashboard.json", format="json", documents=(board,)))
            out.append(Artifact("monitoring/grafana-dashboard-configmap.yaml", header=header,
                                documents=(grafana.configmap(project, mon, ctx, board),)))
        if mon.drift:
            docs = drift.documents(project, mon, ctx, self)
            out.append(Artifact("monitoring/drift-cronjob.yaml", documents=tuple(docs), header=header))
            build = drift.dockerfile(project)
            if build is not None:
                out.append(Artifact("monitoring/drift/Dockerfile", format="text", text=build))
        self._apply = setup.apply_item(out)  # read off what was just built (next_steps prints it too)
        out.append(setup.note(project, self.next_steps(project)))
        return out

    def next_steps(self, project: Project) -> list[str]:
        """Who may apply it, and what the cluster must provide (Knative's request metrics, selectors, Secrets,
        the Pushgateway)."""
        apply = getattr(self, "_apply", None)
        return ([apply] if apply else []) + setup.checklist(project)

    def refuse(self, exc: promql.Unsupported, where: str, span) -> None:
        """Report what PromQL cannot say, under its own code when it has one."""
        if exc.code is codes.UNSUPPORTED:
            self.unsupported(f"{exc.feature} ({where})", span, exc.hint)
        else:
            self.warn(exc.code, f"{where}: {exc.feature}", span, exc.hint)

    def _slis(self, project: Project, ctx: promql.PromContext, alerts: list) -> list[promql.Sli]:
        """Every SLI an alert or the dashboard reads; unsayable ones are left to the alert's report."""
        wanted = {s for a in alerts for s in promql.slis_in(a.when)}
        if project.serving:
            wanted |= {promql.Sli("latency", q) for q in metrics.DASHBOARD_QUANTILES}
            wanted |= {promql.Sli("rps"), promql.Sli("replicas"), promql.Sli("error_rate")}
        if project.monitoring and project.monitoring.drift:
            wanted |= {promql.Sli("drift"), promql.BY_FEATURE}
        return [sli for sli in sorted(wanted) if grafana.sayable(sli, ctx)]
