"""`<project>-deploy.yml`: one job per environment, in `ci.github.deploy.environments` order.

Each job is bound to a GitHub environment (its secrets, its protection rules:
`approval: true` means an admin adds required reviewers, which a workflow cannot
do for itself), waits for the previous environment's job, and shares a
concurrency group with every other deploy of that project and environment so two
rollouts never race (the newer waits; none is cancelled mid-rollout).

The deploy step runs `rollout.sh`, one constant bash script for every strategy
and environment; what differs (service, namespace, strategy, percents, waits,
the gate's queries) comes in through `env:` only, so the script a reviewer reads
is the script that runs. The sequence, and why each wait names the revision it
expects, is in docs/targets/kserve.md ("Rollouts") and at the top of the script.

The gate's queries come from one function, `rollout_gate`: per revision (only
the new revision's requests), with the spec's policy for a revision that got too
few requests to judge. The kubeconfig secret is written to a 0600 file under
$RUNNER_TEMP (umask 077) and removed on exit; it is never echoed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any, Callable

from mlopsdsl.backends import events, gate as gates, k8s, promql
from mlopsdsl.backends.github import deploy_model, jobs
from mlopsdsl.backends.github.pins import KUBECTL_VERSION, uses
from mlopsdsl.backends.github.shell import Context, Env, Script, Secret, run_step, spec_text
from mlopsdsl.ir import Environment, Project

__all__ = ["KUBECONFIG", "PROMETHEUS_TOKEN", "Gate", "build_deploy", "deploy_step", "percents", "rollout_gate",
           "wanted"]

Report = Callable[[str, str], None]
KUBECONFIG = "KUBECONFIG"  # environment secret: a kubeconfig for the environment's namespace
PROMETHEUS_TOKEN = "PROMETHEUS_TOKEN"  # optional secret: bearer token for the Prometheus API
READY_TIMEOUT = 600  # seconds a revision may take to become ready (each wait of the rollout)
POLL = 5  # seconds between two reads of the InferenceService while waiting
_HEALTH = {"v1": "/v1/models/{name}", "v2": "/v2/health/ready"}
ROLLOUT = resources.files("mlopsdsl.backends.github").joinpath("rollout.sh").read_text(encoding="utf-8")


_DURATION = re.compile(r"([0-9]+)(ms|s|m|h|d)")
_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class Gate:
    """What the deploy job asks Prometheus after each step, as the script reads it."""

    healthy: str  # a series iff the analysis holds for the new revision ("" without an analysis)
    traffic: str = ""  # a series iff the new revision served enough requests to judge
    requests: str = ""  # the new revision's request count, for the log
    window: float = 0.0  # seconds the queries look back: the least wait after a step
    per_revision: bool = False  # the queries name the new revision (gates.REVISION stands for it)
    no_traffic: str = "rollback"  # too few requests: rollback | promote | probe
    probe_path: str = ""
    probe_body: str = ""
    probe_requests: int = 0


def rollout_gate(project: Project, environment: Environment, report: Report) -> Gate:
    """THE one place the deploy job's queries come from: the monitoring side's gate
    (`mlopsdsl.backends.gate`), the same SLIs as the alerts, narrowed to the new revision."""
    rollout = project.serving.rollout if project.serving else None
    if rollout is None or rollout.analysis is None:
        return Gate(healthy="")  # no analysis: readiness decides, and traffic does not matter
    try:
        gate = gates.rollout_gate(project, environment)
    except promql.Unsupported as exc:
        report(f"the rollout analysis {exc.feature}", exc.hint or "")
        return Gate(healthy="")
    policy = gate.no_traffic
    window = sum(int(n) * _SECONDS[unit] for n, unit in _DURATION.findall(gate.window))
    return Gate(healthy=gate.healthy, traffic=gate.traffic, requests=gate.requests, window=window,
                per_revision=gate.per_revision, no_traffic=policy.action, probe_path=gate.probe_path,
                probe_body=policy.probe_body or "", probe_requests=policy.probe_requests or policy.min_requests)


def percents(project: Project, report: Report) -> list[int]:
    rollout = project.serving.rollout if project.serving else None
    if rollout is None or rollout.strategy != "canary":
        return [100]
    out = []
    for pct in rollout.steps or (100.0,):
        if k8s.whole_percent(pct) is None:
            report(f"a canary step of {pct:g}%", "KServe's canaryTrafficPercent is a whole number")
        out.append(int(round(pct)))
    return out


def step_wait(project: Project, gate: Gate) -> int:
    """Seconds at each step before the gate decides: the interval, and never less than the gate's window."""
    rollout = project.serving.rollout if project.serving else None
    return int(math.ceil(max((rollout.interval or 0) if rollout else 0, gate.window if gate.healthy else 0)))


def deploy_step(project: Project, environment: Environment, gate: Gate, report: Report) -> dict[str, Any]:
    serving = project.serving
    assert serving is not None
    rollout = serving.rollout
    env = Env()
    env.bind("KUBECONFIG_DATA", Secret(KUBECONFIG))
    env.bind("ISVC", serving.name)
    env.bind("NAMESPACE", environment.namespace)
    env.bind("MANIFESTS", "build/kserve")
    env.bind("STRATEGY", rollout.strategy)
    env.bind("ROLLOUT_STEPS", " ".join(str(p) for p in percents(project, report)))
    components = ["predictor", "transformer"] if serving.transformer else ["predictor"]
    env.bind("COMPONENTS", " ".join(components))
    env.bind("ENTRY", components[-1])  # where requests enter: the tag URL the smoke test and probe call
    env.bind("STEP_WAIT", step_wait(project, gate))
    env.bind("READY_TIMEOUT", READY_TIMEOUT)
    env.bind("POLL", POLL)
    env.bind("HEALTH_PATH", _HEALTH.get(serving.protocol, "").format(name=serving.name))
    env.bind("GATE_PER_REVISION", gate.per_revision)
    env.bind("REVISION_PLACEHOLDER", gates.REVISION)
    env.bind("GATE_HEALTHY", gate.healthy)
    env.bind("GATE_TRAFFIC", gate.traffic)
    env.bind("GATE_REQUESTS", gate.requests)
    env.bind("NO_TRAFFIC", gate.no_traffic)
    env.bind("PROBE_PATH", gate.probe_path)
    env.bind("PROBE_BODY", gate.probe_body)
    env.bind("PROBE_REQUESTS", gate.probe_requests)
    env.bind("PROMETHEUS_URL", Context("vars.PROMETHEUS_URL"))
    env.bind("PROMETHEUS_TOKEN", Secret(PROMETHEUS_TOKEN))
    name = f"Deploy {serving.name} to {environment.name} ({rollout.strategy})"
    return run_step(name, Script().text(_without_comments(ROLLOUT)), env, shell="bash")


def _without_comments(script: str) -> str:
    """The script without its file header (the step's name and the docs say what it is)."""
    return re.sub(r"\A(#[^\n]*\n)+", "", script)


def minutes(project: Project, gate: Gate) -> int:
    """A job timeout that fits the whole rollout: every wait, every readiness, a rollback, and slack."""
    rollout = project.serving.rollout if project.serving else None
    stages = len(rollout.steps) if rollout and rollout.strategy == "canary" else 2
    wait = step_wait(project, gate) * (2 if gate.no_traffic == "probe" else 1)
    seconds = stages * wait + (stages + 4) * READY_TIMEOUT
    return 15 + int(math.ceil(seconds / 60))


def wanted(project: Project) -> bool:
    return bool(project.ci and project.ci.deploy_environments and project.serving)


def job_id(name: str) -> str:
    return "deploy-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def build_deploy(project: Project, report: Report) -> dict[str, Any]:
    ci = project.ci
    assert ci is not None and ci.mlopsdsl is not None
    by_name = {e.name: e for e in project.environments}
    out: dict[str, Any] = {}
    previous = None
    for name in ci.deploy_environments:
        environment = by_name.get(name)
        if environment is None:
            report(f"deploying to the undeclared environment '{name}'", "declare it under `environments:`")
            continue
        # Each job deploys its environment's own spec (rollout steps, interval, analysis), whatever `--env` was.
        resolved = project.for_environment(name)
        gate = rollout_gate(resolved, environment, report)
        steps = [
            jobs.checkout(),
            jobs.setup_python(ci.mlopsdsl.python),
            jobs.install_mlopsdsl(ci.mlopsdsl),
            deploy_model.compile_step(project, environment),
            {"name": "Set up kubectl", "uses": uses("setup-kubectl"), "with": {"version": KUBECTL_VERSION}},
            deploy_step(resolved, environment, gate, report),
        ]
        concurrency = {"group": spec_text(f"{project.name}-deploy-{environment.name}"), "cancel-in-progress": False}
        out[job_id(name)] = jobs.job(f"Deploy to {environment.name}", ci.runs_on, steps,
                                     timeout=minutes(resolved, gate), environment=environment.name,
                                     url=environment.url, concurrency=concurrency,
                                     needs=[previous] if previous else None)
        previous = job_id(name)
    on = {"workflow_dispatch": {"inputs": deploy_model.model_input()},
          "repository_dispatch": {"types": [events.deploy_event(project)]}}
    return jobs.workflow(f"{project.name} deploy", on, out)
