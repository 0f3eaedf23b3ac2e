"""`<project>-retrain.yml`: the train flow on a schedule, by hand, and when drift is detected.

A schedule or a manual run trains in `ci.github.retrain.environment`. The drift
job (monitoring target, `monitoring.drift.on_drift: retrain`) sends a
`repository_dispatch` of type `mlopsdsl-retrain-<project>` whose payload names the
environment the drift was seen in (`client_payload.environment`): the workflow
has one job per environment that can train, and only the named one runs, so a
staging drift retrains staging. The payload is only compared, never expanded; the
retrain runs that environment's spec defaults. Like training, a retrain waits for
the CI jobs of its commit.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from mlopsdsl.backends import events
from mlopsdsl.backends.github import jobs
from mlopsdsl.backends.github.shell import Clause, either, both, equals
from mlopsdsl.backends.github.train import pick_environment, train_job
from mlopsdsl.ir import Project

__all__ = ["build_retrain", "drift_retrains", "wanted"]

Report = Callable[[str, str], None]
_CRON_FIELD = re.compile(r"[0-9*/,\-A-Za-z]+")
_EVENT = "github.event_name"
_DRIFTED = "github.event.client_payload." + events.RETRAIN_ENVIRONMENT_KEY


def drift_retrains(project: Project) -> bool:
    drift = project.monitoring.drift if project.monitoring else None
    return bool(drift and drift.on_drift == "retrain")


def wanted(project: Project) -> bool:
    ci = project.ci
    return bool(ci and project.pipeline and (ci.retrain_schedule or drift_retrains(project)))


def job_id(name: str) -> str:
    return "retrain-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def build_retrain(project: Project, report: Report) -> dict[str, Any] | None:
    ci = project.ci
    assert ci is not None
    default = pick_environment(project, ci.retrain_environment or ci.train_environment, "ci.github.retrain", report)
    if default is None:
        return None
    on: dict[str, Any] = {}
    schedule = ci.retrain_schedule
    if schedule:
        fields = schedule.split()
        if len(fields) == 5 and all(_CRON_FIELD.fullmatch(f) for f in fields):
            on["schedule"] = [{"cron": " ".join(fields)}]
        else:
            report(f"the retrain schedule {schedule!r}", "GitHub takes a 5-field cron (UTC)")
    on["workflow_dispatch"] = {}
    drift = drift_retrains(project)
    if drift:
        on["repository_dispatch"] = {"types": [events.retrain_event(project)]}
    out = jobs.ci_jobs(project, report)
    needs = list(out)
    dispatched = equals(_EVENT, "repository_dispatch")
    for environment in project.environments:
        if environment is not default and not (drift and environment.kfp_host):
            continue
        named = both(dispatched, equals(_DRIFTED, environment.name))
        when: Clause = either(equals(_EVENT, "repository_dispatch", negate=True), named) \
            if environment is default else named
        if not drift:
            when = None
        out[job_id(environment.name)] = train_job(project.for_environment(environment.name), environment, [],
                                                  with_inputs=False, title="Retrain", needs=needs, when=when)
    return jobs.workflow(f"{project.name} retrain", on, out)
