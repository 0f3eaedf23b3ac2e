"""`deploy.yml`: one job per environment, in `ci.github.deploy.environments` order.

Each job is bound to a GitHub environment (its secrets, its protection
rules: `approval: true` means an admin adds required reviewers, which a
workflow cannot do for itself), waits for the previous environment's job,
and shares a concurrency group with every other deploy of that environment
so two rollouts never race (the newer waits; none is cancelled mid-rollout).

The deploy step: apply the KServe manifests, then drive the rollout.

One constant bash script serves every strategy and environment; what differs
(service, namespace, strategy, percents, interval, the analysis PromQL) comes
in through `env:` only, so the script a reviewer reads is the script that runs.

Sequence (see docs/targets/github.md):
- the kubeconfig secret is written to a 0600 file under $RUNNER_TEMP (umask
  077) and removed on exit; it is never echoed;
- first deploy of a service, or `direct`: apply and wait for Ready;
- `canary`: apply, set canaryTrafficPercent to the first step, wait Ready; for
  each further step: sleep the interval, run the analysis query against
  Prometheus (healthy = a non-empty result, since the query returns a series
  exactly when the condition holds), then promote; unhealthy or unreachable
  -> canaryTrafficPercent 0 and the job fails;
- `blue_green`: apply at 0% with tag routing, smoke-test the `latest` tag URL,
  switch to 100%, and when an analysis is given, check it after the interval
  and switch back to 0% on failure.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, Callable

from mlopsdsl.backends import events, promql
from mlopsdsl.backends.github import jobs
from mlopsdsl.backends.github.pins import KUBECTL_VERSION, uses
from mlopsdsl.backends.github.shell import Context, Env, Script, Secret, run_step, spec_text
from mlopsdsl.ir import Environment, Project

__all__ = ["KUBECONFIG", "PROMETHEUS_TOKEN", "analysis_query", "build_deploy", "deploy_step",
           "percents", "wanted"]

Report = Callable[[str, str], None]
KUBECONFIG = "KUBECONFIG"  # environment secret: a kubeconfig for the environment's namespace
PROMETHEUS_TOKEN = "PROMETHEUS_TOKEN"  # optional secret: bearer token for the Prometheus API
READY_TIMEOUT = 600  # seconds `kubectl wait` allows a revision to become Ready
_HEALTH = {"v1": "/v1/models/{name}", "v2": "/v2/health/ready"}

ROLLOUT = r'''set -euo pipefail
umask 077
kubeconfig="$RUNNER_TEMP/kubeconfig"
trap 'rm -f "$kubeconfig"' EXIT
printf '%s\n' "$KUBECONFIG_DATA" > "$kubeconfig"
export KUBECONFIG="$kubeconfig"

set_traffic() {
  case "$1" in
    ''|*[!0-9]*) echo "::error::invalid traffic percent"; exit 1 ;;
  esac
  kubectl patch isvc "$ISVC" -n "$NAMESPACE" --type merge \
    -p "{\"spec\":{\"predictor\":{\"canaryTrafficPercent\":$1}}}"
}

wait_ready() {
  kubectl wait --for=condition=Ready "isvc/$ISVC" -n "$NAMESPACE" --timeout="${READY_TIMEOUT}s"
}

healthy() {
  if [ -z "$ANALYSIS_QUERY" ]; then
    return 0
  fi
  if [ -z "$PROMETHEUS_URL" ]; then
    echo "::error::the PROMETHEUS_URL variable is not set: cannot run the rollout analysis"
    return 1
  fi
  local auth=() response
  if [ -n "$PROMETHEUS_TOKEN" ]; then
    auth=(--config -)
  fi
  response=$(printf 'header = "Authorization: Bearer %s"\n' "$PROMETHEUS_TOKEN" |
    curl --fail --silent --show-error "${auth[@]}" --get \
      --data-urlencode "query=$ANALYSIS_QUERY" "$PROMETHEUS_URL/api/v1/query") || return 1
  jq -e '.status == "success" and (.data.result | length > 0)' <<< "$response" > /dev/null
}

rollback() {
  echo "::error::$1: rolling back (canaryTrafficPercent 0)"
  set_traffic 0
  exit 1
}

existed=false
if kubectl get isvc "$ISVC" -n "$NAMESPACE" > /dev/null 2>&1; then
  existed=true
fi
kubectl apply -f "$MANIFESTS" -n "$NAMESPACE"
if [ "$existed" = false ] || [ "$STRATEGY" = direct ]; then
  wait_ready
  exit 0
fi

read -r -a steps <<< "$ROLLOUT_STEPS"
if [ "$STRATEGY" = blue_green ]; then
  kubectl annotate isvc "$ISVC" -n "$NAMESPACE" --overwrite serving.kserve.io/enable-tag-routing=true
  set_traffic 0
  wait_ready
  if [ -n "$HEALTH_PATH" ]; then
    url=$(kubectl get isvc "$ISVC" -n "$NAMESPACE" \
      -o jsonpath='{.status.components.predictor.traffic[?(@.tag=="latest")].url}')
    curl --fail --silent --show-error --retry 5 --retry-all-errors "$url$HEALTH_PATH" > /dev/null ||
      rollback "smoke test of the new revision failed"
  fi
  set_traffic 100
  wait_ready
  if [ -n "$ANALYSIS_QUERY" ]; then
    sleep "$INTERVAL"
    healthy || rollback "rollout analysis failed after the switch"
  fi
  exit 0
fi

set_traffic "${steps[0]}"
wait_ready
for percent in "${steps[@]:1}"; do
  sleep "$INTERVAL"
  healthy || rollback "rollout analysis failed before ${percent}%"
  set_traffic "$percent"
  wait_ready
done
'''


def percents(project: Project, report: Report) -> list[int]:
    rollout = project.serving.rollout if project.serving else None
    if rollout is None or rollout.strategy != "canary":
        return [100]
    out = []
    for pct in rollout.steps or (100.0,):
        if float(pct) != int(pct):
            report(f"a canary step of {pct:g}%", "KServe's canaryTrafficPercent is a whole number")
        out.append(int(round(pct)))
    return out


def analysis_query(project: Project, environment: Environment, report: Report) -> str:
    rollout = project.serving.rollout if project.serving else None
    if rollout is None or rollout.analysis is None:
        return ""
    # Inline raw queries: the deploy may run before the monitoring rules are installed.
    # The IR is resolved for one environment; each deploy job watches its own namespace.
    ctx = dataclasses.replace(promql.context_for(project, recorded=False), namespace=environment.namespace)
    try:
        return promql.compile_expr(rollout.analysis, ctx)
    except promql.Unsupported as exc:
        report(f"the rollout analysis {exc.feature}", exc.hint or "")
        return ""


def deploy_step(project: Project, environment: Environment, report: Report) -> dict[str, Any]:
    serving = project.serving
    assert serving is not None
    rollout = serving.rollout
    env = Env()
    env.bind("KUBECONFIG_DATA", Secret(KUBECONFIG))
    env.bind("ISVC", serving.name)
    env.bind("NAMESPACE", environment.namespace)
    env.bind("MANIFESTS", "build/kserve/")
    env.bind("STRATEGY", rollout.strategy)
    env.bind("ROLLOUT_STEPS", " ".join(str(p) for p in percents(project, report)))
    env.bind("INTERVAL", int(math.ceil(rollout.interval or 0)))
    env.bind("READY_TIMEOUT", READY_TIMEOUT)
    env.bind("HEALTH_PATH", _HEALTH.get(serving.protocol, "").format(name=serving.name))
    env.bind("ANALYSIS_QUERY", analysis_query(project, environment, report))
    env.bind("PROMETHEUS_URL", Context("vars.PROMETHEUS_URL"))
    env.bind("PROMETHEUS_TOKEN", Secret(PROMETHEUS_TOKEN))
    name = f"Deploy {serving.name} to {environment.name} ({rollout.strategy})"
    return run_step(name, Script().text(ROLLOUT), env, shell="bash")


def minutes(project: Project) -> int:
    """A job timeout that fits the whole rollout: every wait, every Ready, plus slack."""
    rollout = project.serving.rollout if project.serving else None
    stages = len(rollout.steps) if rollout and rollout.strategy == "canary" else 2
    seconds = stages * ((rollout.interval or 0) if rollout else 0) + (stages + 1) * READY_TIMEOUT
    return 15 + int(math.ceil(seconds / 60))


def wanted(project: Project) -> bool:
    return bool(project.ci and project.ci.deploy_environments and project.serving)


def job_id(name: str) -> str:
    return "deploy-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in name)


def build_deploy(project: Project, report: Report) -> dict[str, Any]:
    ci = project.ci
    assert ci is not None
    assert ci.mlopsdsl is not None
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
        steps = [
            jobs.checkout(),
            jobs.setup_python(ci.mlopsdsl.python),
            jobs.install_mlopsdsl(ci.mlopsdsl),
            jobs.compile_step(project, environment, "kserve"),
            {"name": "Set up kubectl", "uses": uses("setup-kubectl"), "with": {"version": KUBECTL_VERSION}},
            deploy_step(resolved, environment, report),
        ]
        concurrency = {"group": spec_text(f"{project.name}-deploy-{environment.name}"), "cancel-in-progress": False}
        out[job_id(name)] = jobs.job(f"Deploy to {environment.name}", ci.runs_on, steps,
                                     timeout=minutes(resolved), environment=environment.name, url=environment.url,
                                     concurrency=concurrency, needs=[previous] if previous else None)
        previous = job_id(name)
    on = {"workflow_dispatch": {}, "repository_dispatch": {"types": [events.deploy_event(project)]}}
    return jobs.workflow(f"{project.name} deploy", on, out)
