"""Generate valid mlopsdsl specs of N pipeline steps for benchmarks and scale tests.

    python bench/gen_spec.py --steps 1000 --shape mixed --out /tmp/x.yaml

Shapes (the DAG of `pipeline.steps`):
    chain    s0001 -> s0002 -> ... -> sN            (deepest graph)
    diamond  repeated top -> {left, right} -> join  (joins: several inputs per step)
    fanout   s0001 -> every other step              (one very wide layer)
    mixed    a seeded random DAG with `when` gates on metrics fields, `for_each`
             fan-outs, `after` edges, params and data references

Every spec is complete (metadata, model, tracking, params, data, defaults, pipeline with
on_exit, serving, monitoring, ci, environments) so each later stage has work to do.
Output is a pure function of (N, shape, environments): the text is built by hand rather than
by yaml.dump so the layout is stable, reads like a hand-written spec, and is fast at N=5,000.

`--environments E` (default 2: staging, and production which sets one value) adds
environments until there are E; each added one overrides what an environment typically does
(serving replicas, a param default, one step's memory), so validate's per-environment cost
can be measured.
"""

from __future__ import annotations

import argparse
import json
import random
from typing import Callable

SHAPES = ("chain", "diamond", "fanout", "mixed")
MAX_STEPS = 99_999  # step names are s + 4..5 digits; the benchmark stops at 5,000
METRICS_EVERY = 5  # in `mixed`, every 5th plain step declares metrics fields `when` can use


def step_name(i: int) -> str:
    return f"s{i:04d}"


def q(text: str) -> str:
    """A double-quoted YAML scalar; JSON string syntax is a subset of it."""
    return json.dumps(text)


def ref(i: int, output: str = "data") -> str:
    return q(f"${{{{ steps.{step_name(i)}.outputs.{output} }}}}")


class Step:
    """One step as the generator needs it: enough structure to emit YAML lines."""

    def __init__(self, index: int) -> None:
        self.index = index
        self.inputs: list[int] = []  # upstream steps whose `data` output this one reads
        self.after: list[int] = []
        self.when: str | None = None
        self.for_each: str | None = None
        self.metrics = False
        self.model = False
        self.reads_raw = False
        self.extras: list[str] = []  # pre-rendered `key: value` lines (retries, resources, ...)

    @property
    def name(self) -> str:
        return step_name(self.index)

    def lines(self) -> list[str]:
        run = ["python", "-m", "app.step", "--name", self.name]
        if self.reads_raw:
            run += ["--src", q("${{ data.raw.uri }}")]
        if self.for_each is not None:
            run += ["--item", q("${{ item }}")]
        for k in range(len(self.inputs)):
            run += [f"--in{k + 1}", q(f"${{{{ inputs.in{k + 1}.path }}}}")]
        run += ["--lr", q("${{ params.learning_rate }}"), "--out", q("${{ outputs.data.path }}")]
        out = [f"    {self.name}:"]
        if self.for_each is not None:
            out += [f"      for_each: {self.for_each}", "      parallelism: 4"]
        if self.when is not None:
            out.append(f"      when: {self.when}")
        out.append(f"      run: [{', '.join(run)}]")
        if self.inputs:
            out.append("      inputs:")
            out += [f"        in{k + 1}: {ref(i)}" for k, i in enumerate(self.inputs)]
        out.append("      outputs:")
        out.append("        data: Dataset")
        if self.metrics:
            out.append("        metrics: {type: Metrics, fields: {accuracy: float, loss: float}}")
        if self.model:
            out.append("        model: Model")
        if self.after:
            out.append(f"      after: [{', '.join(step_name(i) for i in self.after)}]")
        out += [f"      {line}" for line in self.extras]
        return out


# --- shapes: each returns the N steps with their edges ------------------------------------


def chain(n: int, rng: random.Random) -> list[Step]:
    steps = [Step(i) for i in range(1, n + 1)]
    for s in steps[1:]:
        s.inputs = [s.index - 1]
    return steps


def diamond(n: int, rng: random.Random) -> list[Step]:
    """Blocks of four: top reads the previous join; left and right read top; join reads both."""
    steps = [Step(i) for i in range(1, n + 1)]
    for s in steps[1:]:
        role = (s.index - 1) % 4  # 0 top, 1 left, 2 right, 3 join
        if role == 0:
            s.inputs = [s.index - 1]
        elif role in (1, 2):
            s.inputs = [s.index - role]
        else:
            s.inputs = [s.index - 2, s.index - 1]
    return steps


def fanout(n: int, rng: random.Random) -> list[Step]:
    steps = [Step(i) for i in range(1, n + 1)]
    for s in steps[1:]:
        s.inputs = [1]
    return steps


def mixed(n: int, rng: random.Random) -> list[Step]:
    """A random DAG that keeps the checker's rules: gated and looped steps are leaves.

    Nothing reads the output of a `when` or `for_each` step, so no step silently depends
    on one that may not run (or that yields a list); `after` and inputs name only plain
    steps, and `when` reads the metrics fields of an earlier plain step.
    """
    steps: list[Step] = []
    plain: list[int] = []  # indices whose outputs later steps may consume
    with_metrics: list[int] = []
    for i in range(1, n + 1):
        s = Step(i)
        roll = rng.random()
        last = i == n
        if i == 1:
            s.reads_raw = True
        elif not last and roll < 0.10 and with_metrics:
            m = rng.choice(with_metrics[-20:])
            s.when = q(f"${{{{ steps.{step_name(m)}.outputs.metrics.accuracy >= params.min_accuracy }}}}")
            s.inputs = [m]
        elif not last and roll < 0.20:
            s.inputs = [rng.choice(plain[-50:])]
            s.for_each = ("[eu, us, apac]" if i % 2 else q("${{ ['2024-Q1', '2024-Q2', '2024-Q3'] }}"))
        else:
            window = plain[-50:]
            s.inputs = sorted(rng.sample(window, min(len(window), rng.randint(1, 3))))
            if rng.random() < 0.2:
                later = [j for j in window if j not in s.inputs]
                if later:
                    s.after = [rng.choice(later)]
            s.reads_raw = rng.random() < 0.05
            _vary(s, rng)
        if s.when is None and s.for_each is None:
            plain.append(i)
            if len(plain) % METRICS_EVERY == 0:
                s.metrics = True
                with_metrics.append(i)
        steps.append(s)
    return steps


def _vary(s: Step, rng: random.Random) -> None:
    """Per-step overrides of the defaults, so the checker sees every shape of them."""
    roll = rng.random()
    if roll < 0.05:
        s.extras += ["resources: {cpu: \"2\", memory: 4Gi, gpu: 1}", "timeout: 2h",
                     "tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]"]
    elif roll < 0.10:
        s.extras += ["retries: {count: 3, backoff: 30s, max_backoff: 5m, factor: 2}"]
    elif roll < 0.15:
        s.extras += ["cache: false", "retries: 0"]


SHAPE_FUNCS: dict[str, Callable[[int, random.Random], list[Step]]] = {
    "chain": chain, "diamond": diamond, "fanout": fanout, "mixed": mixed,
}


# --- the rest of the spec -------------------------------------------------------------------


def header(n: int, shape: str) -> list[str]:
    return f"""# Generated by bench/gen_spec.py --steps {n} --shape {shape}; do not edit.
apiVersion: mlopsdsl/v1
kind: Project
metadata:
  name: bench-{shape}-{n}
  version: 1.0.0
  description: Generated {shape} pipeline of {n} steps
  owners: [ml-platform@acme.example]
  labels: {{team: platform, shape: {shape}}}
model:
  name: bench-model
  task: classification
  framework: sklearn
tracking:
  mlflow: {{uri: http://mlflow.mlops.svc:5000, experiment: bench-{shape}}}
params:
  learning_rate: {{type: float, default: 0.05, min: 0.0001, max: 1}}
  max_depth: {{type: int, default: 6, min: 1, max: 32}}
  min_accuracy: {{type: float, default: 0.8, min: 0, max: 1}}
  balanced: {{type: bool, default: true}}
  solver: {{type: str, default: lbfgs, choices: [lbfgs, saga, liblinear]}}
data:
  raw:
    uri: s3://acme-ml/bench/raw/
    format: parquet
  reference:
    dvc: {{repo: https://github.com/acme/bench-data, path: data/reference.parquet, rev: v1}}
    schema: {{age: int, income: float, segment: category, active: bool}}
defaults:
  image: ghcr.io/acme/bench:1.0.0
  resources: {{cpu: 500m, memory: 1Gi}}
  retries: 2
  cache: true
  timeout: 1h
  env: {{LOG_LEVEL: info}}
pipeline:
  description: Generated {shape} DAG
  steps:""".splitlines()


def footer(model_step: str) -> list[str]:
    return f"""  on_exit:
    run: [python, -m, app.notify]
    env: {{SLACK_WEBHOOK_URL: "${{{{ secrets.slack_webhook }}}}"}}
serving:
  name: bench-api
  model: "${{{{ steps.{model_step}.outputs.model }}}}"
  storage_uri: s3://acme-ml/models/bench/${{{{ metadata.version }}}}/
  protocol: v2
  replicas: {{min: 1, max: 4}}
  autoscaling: {{metric: rps, target: 50}}
  resources: {{cpu: "1", memory: 2Gi}}
  rollout:
    strategy: canary
    steps: [10%, 50%, 100%]
    interval: 5m
    analysis: "${{{{ serving.error_rate < 1% and serving.latency.p95 < 250ms }}}}"
monitoring:
  alerts:
    - {{name: HighLatency, when: "${{{{ serving.latency.p95 > 250ms }}}}", for: 5m, severity: warning}}
    - {{name: HighErrorRate, when: "${{{{ serving.error_rate > 1% }}}}", for: 5m, severity: critical}}
  drift:
    reference: "${{{{ data.reference }}}}"
    method: psi
    threshold: 0.2
    features: [age, income, segment]
    schedule: "0 * * * *"
    on_drift: alert
    request_log: {{uri: s3://bench/request-logs, storage_key: request-logs}}
    image: ghcr.io/acme/bench-drift
  dashboards: true
  notify:
    slack: {{channel: "#ml-bench", webhook_secret: slack_webhook}}
ci:
  github:
    on: {{push: {{branches: [main]}}, pull_request: {{branches: [main]}}}}
    python: "3.11"
    mlopsdsl: git+https://github.com/acme/mlopsdsl@0123456789abcdef0123456789abcdef01234567
    install: [pip install -r requirements.txt]
    test: [pytest -q]
    train: {{on_branch: main}}
    deploy: {{environments: [staging, production]}}
    retrain: {{schedule: "0 3 * * 1"}}
environments:
  staging: {{namespace: ml-staging, kfp_host: https://kfp.staging.acme.example}}
  production:
    namespace: ml-prod
    kfp_host: https://kfp.acme.example
    approval: true
    set: {{serving.replicas.min: 2}}
""".splitlines()


BASE_ENVIRONMENTS = 2  # staging, production (footer)


def extra_environments(count: int, steps: list[Step]) -> list[str]:
    """Environments 3..count, each with a `set:` of three paths: serving, params, one step."""
    lines = []
    for k in range(BASE_ENVIRONMENTS + 1, count + 1):
        step = steps[(k * 7919) % len(steps)].name  # spread over the pipeline, deterministically
        lines += [f"  region{k:04d}:", f"    namespace: ml-region{k:04d}",
                  f"    set: {{serving.replicas.min: {1 + k % 3}, params.learning_rate.default: 0.0{1 + k % 9},",
                  f"          pipeline.steps.{step}.resources.memory: {2 + k % 6}Gi}}"]
    return lines


def generate(n: int, shape: str, environments: int = BASE_ENVIRONMENTS) -> str:
    """The spec text for (n, shape, environments); the same bytes every time."""
    if shape not in SHAPE_FUNCS:
        raise ValueError(f"unknown shape {shape!r}; choose from {', '.join(SHAPES)}")
    if not 1 <= n <= MAX_STEPS:
        raise ValueError(f"steps must be between 1 and {MAX_STEPS}, not {n}")
    if not BASE_ENVIRONMENTS <= environments <= 9_999:
        raise ValueError(f"environments must be between {BASE_ENVIRONMENTS} and 9999, not {environments}")
    rng = random.Random(n * 10 + SHAPES.index(shape))  # int seed: stable across Python runs
    steps = SHAPE_FUNCS[shape](n, rng)
    steps[-1].model = True  # every shape ends in a plain step: it is the served model
    lines = header(n, shape)
    for s in steps:
        lines += s.lines()
    lines += footer(steps[-1].name) + extra_environments(environments, steps)
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, required=True, help="number of pipeline steps (1..99999)")
    parser.add_argument("--shape", choices=SHAPES, default="mixed")
    parser.add_argument("--environments", type=int, default=BASE_ENVIRONMENTS,
                        help=f"number of environments (default {BASE_ENVIRONMENTS})")
    parser.add_argument("--out", required=True, help="file to write ('-' for stdout)")
    args = parser.parse_args(argv)
    try:
        text = generate(args.steps, args.shape, args.environments)
    except ValueError as exc:
        parser.error(str(exc))
    if args.out == "-":
        print(text, end="")
    else:
        with open(args.out, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
