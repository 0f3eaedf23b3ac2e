"""`retrain.yml`: the train flow on a schedule, by hand, and when drift is detected.

`repository_dispatch` with type `mlopsdsl-retrain` is the event the monitoring
backend's drift job sends when `monitoring.drift.on_drift: retrain`. Its
payload is never read: the retrain runs the spec's defaults, so nothing an
event sender writes reaches the workflow.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from mlopsdsl.backends.github import jobs
from mlopsdsl.backends.github.train import pick_environment, train_job
from mlopsdsl.ir import Project

__all__ = ["RETRAIN_EVENT", "build_retrain", "wanted"]

Report = Callable[[str, str], None]
RETRAIN_EVENT = "mlopsdsl-retrain"
_CRON_FIELD = re.compile(r"[0-9*/,\-A-Za-z]+")


def drift_retrains(project: Project) -> bool:
    drift = project.monitoring.drift if project.monitoring else None
    return bool(drift and drift.on_drift == "retrain")


def wanted(project: Project) -> bool:
    ci = project.ci
    return bool(ci and project.pipeline and (ci.retrain_schedule or drift_retrains(project)))


def build_retrain(project: Project, report: Report) -> dict[str, Any] | None:
    ci = project.ci
    assert ci is not None
    environment = pick_environment(project, ci.retrain_environment or ci.train_environment,
                                   "ci.github.retrain", report)
    if environment is None:
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
    on["repository_dispatch"] = {"types": [RETRAIN_EVENT]}
    job = train_job(project, environment, [], with_inputs=False, title="Retrain")
    return jobs.workflow(f"{project.name} retrain", on, {"retrain": job})
