"""promtool tests of the rollout gate: the exact queries the deploy job runs (gate.py).

Each case is a Knative split the deploy job can meet, written as the queue-proxy
exports it (series.py): a stable revision (`-00001`) and the new one (`-00002`),
with the new revision's name put in the queries as the job does. Expected:

- the new revision meets the analysis while the stable one fails it: healthy;
- the new revision fails it while the stable one, with most of the traffic, meets it:
  NOT healthy (a whole-service query would average the failure away);
- the new revision served nothing: no traffic, `requests` reads 0, not healthy;
- it served fewer than `no_traffic.min_requests` in the window: no traffic;
- it served more: traffic.

`count(query)` is what is compared: 1 when the query returns a series, nothing when
it returns none, which is how the job reads every gate query.
"""

from __future__ import annotations

import dataclasses

from mlopsdsl.backends import gate, promql
from mlopsdsl.backends.monitoring import rule_tests, series
from mlopsdsl.ir import Project

STABLE_SHARE = 0.9


def _revision(ctx: promql.PromContext, n: int, world: dict, share: float) -> series.Revision:
    rates = {s.metric: v for s, v in world.items() if s.metric in ("rps", "error_rate")}
    latencies = tuple(sorted((s.quantile, v) for s, v in world.items() if s.metric == "latency"))
    rps = rates.get("rps", series.REQUESTS_PER_SECOND * share)
    return series.Revision(series.revision_name(ctx, n), rps, rates.get("error_rate", 0.0),
                           latencies or ((0.5, 0.04), (0.99, 0.2)))


def gate_tests(project: Project) -> dict | None:
    """The test file, or None when the project has no canary/blue-green gate on Knative revisions."""
    serving = project.serving
    if serving is None or serving.rollout.strategy == "direct":
        return None
    try:
        checks = gate.rollout_gate(project, project.environment)
    except promql.Unsupported:
        return None  # reported where the deploy workflow is compiled
    if not checks.per_revision:
        return None
    ctx = dataclasses.replace(promql.context_for(project, recorded=False), window=checks.window)
    minutes = int(promql.parse_duration(checks.window) // 60)
    steps = minutes + 4
    new = series.revision_name(ctx, 2)

    def query(text: str) -> str:
        return f"count({gate.for_revision(text, new)})"

    def case(title: str, stable: series.Revision, fresh: series.Revision, expect: dict[str, bool],
             requests: float | None = None) -> dict:
        tests = [{"expr": query(getattr(checks, name)), "eval_time": f"{minutes + 2}m",
                  "exp_samples": [{"labels": "{}", "value": 1}] if holds else []}
                 for name, holds in expect.items() if getattr(checks, name)]
        if requests is not None:
            tests.append({"expr": gate.for_revision(checks.requests, new), "eval_time": f"{minutes + 2}m",
                          "exp_samples": [{"labels": "{}", "value": requests}]})
        return {"name": f"rollout gate: {title}", "interval": f"{series.STEP_MINUTES}m",
                "input_series": series.request_series(ctx, [stable, fresh], steps), "promql_expr_test": tests}

    healthy_world = {}
    cases = []
    if serving.rollout.analysis is not None:
        fire, quiet = rule_tests.choose_worlds(promql.normalize(serving.rollout.analysis), ctx)
        if fire is not None and quiet is not None:
            healthy_world = fire
            cases.append(case("the new revision meets the analysis, the stable one does not",
                              _revision(ctx, 1, quiet, STABLE_SHARE), _revision(ctx, 2, fire, 1 - STABLE_SHARE),
                              {"healthy": True, "traffic": True}))
            cases.append(case(f"the new revision fails the analysis while the stable one meets it "
                              f"with {STABLE_SHARE:.0%} of the traffic",
                              _revision(ctx, 1, fire, STABLE_SHARE), _revision(ctx, 2, quiet, 1 - STABLE_SHARE),
                              {"healthy": False, "traffic": True}))
    stable = _revision(ctx, 1, healthy_world, STABLE_SHARE)
    idle = dataclasses.replace(_revision(ctx, 2, healthy_world, 0), rps=0.0)
    cases.append(case("the new revision served nothing: no traffic, no verdict", stable, idle,
                      {"traffic": False}, requests=0))
    least = checks.no_traffic.min_requests
    for title, total, enough in ((f"fewer than {least} requests in {checks.window}: no traffic", least / 2, False),
                                 (f"more than {least} requests in {checks.window}: traffic", least * 2, True)):
        fresh = dataclasses.replace(idle, rps=total / (minutes * 60))
        cases.append(case(title, stable, fresh, {"traffic": enough}))
    return {"rule_files": [], "evaluation_interval": f"{series.STEP_MINUTES}m", "tests": cases}
