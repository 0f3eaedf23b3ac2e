"""The rollout gate: what a deploy job asks Prometheus before each traffic step.

One function, `rollout_gate(project, environment)`, returns the queries; the
deploy workflow (github backend) runs them, and the monitoring backend writes
promtool tests of the very same strings (`monitoring/tests/rollout-gate.yaml`).
The SLIs are the ones alerts and dashboards read (`promql.raw_query`), inlined
because the deploy may run before the recording rules are installed, and
narrowed to ONE revision: the new one. A canary failing 9% of its requests at a
5% step is 9% here, not 0.45% of the whole service.

Contract for the caller, at each step (and after a blue/green switch):

1. `revision = kubectl get isvc NAME -o jsonpath='{.status.components.predictor.latestCreatedRevision}'`
   (KServe v0.20 `ComponentStatusSpec.LatestCreatedRevision`: the canary). Check it
   is a DNS-1123 label (`^[a-z0-9]([-a-z0-9]*[a-z0-9])?$`) before use, then replace
   `REVISION` (the placeholder, a valid label value, so the unsubstituted query still
   parses) in every query: `q=${GATE_HEALTHY//__REVISION__/$revision}`. With
   `per_revision` False (raw mode: one Deployment, no revisions) there is nothing to
   replace.
2. Wait at least `window` after the step began (a rate needs two scrapes of the new
   traffic; Knative's OTLP push exports every 60 s by default).
3. `traffic` returns a series exactly when the revision served `no_traffic.min_requests`
   requests in `window`. Empty: too few to judge; do `no_traffic.action`:
   `rollback`; `promote` (warn, trust readiness alone); `probe`: POST the file
   `no_traffic.probe_body` `no_traffic.probe_requests` times to the revision's tag URL
   (`status.components.predictor.traffic[?(@.tag=="latest")].url` with tag routing on)
   at `probe_path`, wait `window`, and judge once more (still empty: roll back).
4. `healthy` returns a series exactly when `rollout.analysis` holds for that revision
   (empty string: no analysis, readiness decides). Empty result, an error, or an
   unreachable Prometheus: roll back.

`requests` (a number, the revision's requests in `window`) is for the job's log.
Raises `promql.Unsupported` (with `.code`) when the analysis cannot be computed from
the serving metrics (e.g. `serving.error_rate` of a gRPC service).
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass

from mlopsdsl.backends import promql
from mlopsdsl.ir import Environment, NoTraffic, Project

__all__ = ["MIN_WINDOW", "REVISION", "Gate", "for_revision", "gate_window", "rollout_gate"]

REVISION = "__REVISION__"
MIN_WINDOW = 120  # seconds: two samples even when Knative pushes OTLP every 60 s
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_PROBE_PATH = {"v1": "/v1/models/{name}:predict", "v2": "/v2/models/{name}/infer"}


@dataclass(frozen=True)
class Gate:
    healthy: str  # a series iff the analysis holds for the revision; "" without an analysis
    traffic: str  # a series iff the revision served at least no_traffic.min_requests in `window`
    requests: str  # the revision's request count in `window` (for the log)
    window: str  # a Prometheus duration: how far back the queries look, and the least wait
    no_traffic: NoTraffic
    per_revision: bool  # the queries hold REVISION, to be replaced by the new revision's name
    probe_path: str = ""  # the endpoint `probe` posts to (`action: probe` only)


def gate_window(interval: float | None) -> str:
    """The step interval, rounded up to whole minutes, and never under MIN_WINDOW."""
    seconds = max(MIN_WINDOW, 60 * math.ceil((interval or 0) / 60))
    return promql.format_duration(seconds)


def rollout_gate(project: Project, environment: Environment | None = None) -> Gate:
    """The gate of `project.serving.rollout` for the deploy into `environment` (that environment's
    own rollout, analysis and policy, whatever `--env` the project was compiled for)."""
    if environment is not None:
        project = project.for_environment(environment.name)
    serving = project.serving
    if serving is None:
        raise promql.Unsupported("a rollout gate without a `serving:` section")
    rollout = serving.rollout
    window = gate_window(rollout.interval)
    base = promql.context_for(project, recorded=False)
    ctx = dataclasses.replace(base, namespace=environment.namespace if environment else base.namespace,
                              window=window, revision=REVISION)
    per_revision = bool(ctx.source and ctx.source.revision_label)
    healthy = promql.compile_expr(rollout.analysis, ctx) if rollout.analysis is not None else ""
    src = ctx.source
    assert src is not None
    count = f"sum(increase({src.requests}{promql.matchers(ctx.selector())}[{window}]))"
    probe_path = _PROBE_PATH.get(serving.protocol, "").format(name=serving.name)
    return Gate(healthy=healthy, traffic=f"{count} >= {rollout.no_traffic.min_requests}",
                requests=f"{count} or vector(0)", window=window, no_traffic=rollout.no_traffic,
                per_revision=per_revision, probe_path=probe_path if rollout.no_traffic.action == "probe" else "")


def for_revision(query: str, revision: str) -> str:
    """`query` for one revision: what the deploy job does in bash, with the same check."""
    if not _DNS_LABEL.match(revision):
        raise ValueError(f"not a Knative revision name: {revision!r}")
    return query.replace(REVISION, revision)

