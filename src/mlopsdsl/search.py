"""Run a hyperparameter search with Optuna, each trial being the step's own command.

    python -m mlopsdsl.search --space JSON --objective FIELD [--goal maximize] [--algorithm tpe]
        --trials N [--parallel P] [--max-failed K] [--seed S] [--outputs DIR]
        [--result NAME=FILE ...] [--trials-file FILE] -- COMMAND...

The engine of `tune: {engine: optuna}`: the search task of the pipeline runs this (its source, with
`python3 -c`, in the step's image, which must have `optuna`), and so does a local run. COMMAND is
the step's command with `${trialParameters.P}` where a tuned parameter goes (Katib's placeholder, so
one trial command serves both engines) and `--outputs DIR` where it writes its outputs; each trial
gets its own copy of DIR, runs as a subprocess, and reports the objective by writing its metrics
JSON (`{"auc": 0.91}`) to DIR/<output>, the file the step's declared Metrics output names.
`--result NAME=FILE` writes the best trial's parameter NAME (or the objective, by its field name) to
FILE; `--trials-file` writes every trial's parameters, objective and state as JSON, for any step
that wants them all.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
from typing import Any, Optional

PLACEHOLDER = "${trialParameters.%s}"
SAMPLERS = {  # tune.algorithm -> Optuna sampler (name, keyword arguments)
    "tpe": ("TPESampler", {}),
    "multivariate_tpe": ("TPESampler", {"multivariate": True}),
    "random": ("RandomSampler", {}),
    "grid": ("GridSampler", {}),
    "bayesian": ("GPSampler", {}),
    "cmaes": ("CmaEsSampler", {}),
    "sobol": ("QMCSampler", {"qmc_type": "sobol"}),
}


def suggest(trial: Any, name: str, space: dict[str, Any]) -> Any:
    kind = space["kind"]
    if kind == "choice":
        return trial.suggest_categorical(name, space["values"])
    if kind == "int":
        return trial.suggest_int(name, int(space["low"]), int(space["high"]), step=int(space.get("step") or 1))
    return trial.suggest_float(name, space["low"], space["high"], log=kind == "loguniform",
                               step=space.get("step") if kind == "uniform" else None)


def grid(space: dict[str, dict[str, Any]]) -> dict[str, list[Any]]:
    """GridSampler wants the values themselves (the checks made sure every float has a step)."""
    values = {}
    for name, dim in space.items():
        if dim["kind"] == "choice":
            values[name] = list(dim["values"])
            continue
        step = dim.get("step") or 1
        count = int((dim["high"] - dim["low"]) / step + 1e-9) + 1
        values[name] = [round(dim["low"] + i * step, 12) for i in range(count)]  # 0.1 * 3 is not 0.3
        if dim["kind"] == "int":
            values[name] = [int(v) for v in values[name]]
    return values


def text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class Search:
    def __init__(self, args: argparse.Namespace, command: list[str]) -> None:
        self.args, self.command = args, command
        self.space: dict[str, dict[str, Any]] = json.loads(args.space)
        self.failed = 0
        self.lock = threading.Lock()

    def objective(self, trial: Any) -> float:
        values = {name: suggest(trial, name, dim) for name, dim in self.space.items()}
        with tempfile.TemporaryDirectory(prefix=f"trial-{trial.number}-") as outputs:
            argv = []
            for arg in self.command:
                for name, value in values.items():
                    arg = arg.replace(PLACEHOLDER % name, text(value))
                argv.append(arg.replace(self.args.outputs, outputs) if self.args.outputs else arg)
            done = subprocess.run(argv, capture_output=True, text=True)
            status = "ok" if done.returncode == 0 else f"exit {done.returncode}"
            print(f"mlopsdsl.search: trial {trial.number} {values}: {status}", flush=True)
            if done.returncode != 0:
                sys.stderr.write(done.stderr[-2000:])
                with self.lock:
                    self.failed += 1
                    if self.args.max_failed is not None and self.failed > self.args.max_failed:
                        trial.study.stop()
                return math.nan  # Optuna records the trial as failed and goes on
            metrics = self._metrics(outputs)
        if self.args.objective not in metrics:
            raise SystemExit(f"mlopsdsl.search: metrics field {self.args.objective!r} is missing from the trial's "
                             f"metrics {sorted(metrics)}")
        for name, value in metrics.items():
            trial.set_user_attr(name, value)
        print(f"mlopsdsl.search: trial {trial.number}: {self.args.objective}={metrics[self.args.objective]}",
              flush=True)
        return float(metrics[self.args.objective])

    def _metrics(self, outputs: str) -> dict[str, Any]:
        path = os.path.join(outputs, self.args.metrics) if self.args.outputs else self.args.metrics
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        if isinstance(data.get("metrics"), list):  # KFP v1's form
            data = {m.get("name"): m.get("numberValue", m.get("value")) for m in data["metrics"]}
        return data


def sampler(algorithm: str, seed: Optional[int], space: dict[str, dict[str, Any]]) -> Any:
    import optuna

    name, options = SAMPLERS[algorithm]
    if algorithm == "grid":
        return optuna.samplers.GridSampler(grid(space), seed=seed)
    try:
        return getattr(optuna.samplers, name)(seed=seed, **options)
    except ImportError as exc:
        raise SystemExit(f"mlopsdsl.search: `algorithm: {algorithm}` needs Optuna's {name}, which needs "
                         f"a package this image lacks: {exc}") from exc


def main(argv: Optional[list[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--" not in argv:
        raise SystemExit("usage: python -m mlopsdsl.search OPTIONS -- COMMAND...")
    split = argv.index("--")
    parser = argparse.ArgumentParser(prog="mlopsdsl.search")
    parser.add_argument("--space", required=True, help="JSON: name -> {kind, low, high, step, values}")
    parser.add_argument("--objective", required=True, help="the metrics field to optimize")
    parser.add_argument("--metrics", required=True, help="the metrics file, relative to --outputs")
    parser.add_argument("--goal", choices=("maximize", "minimize"), default="maximize")
    parser.add_argument("--algorithm", choices=sorted(SAMPLERS), default="tpe")
    parser.add_argument("--trials", type=int, required=True)
    parser.add_argument("--parallel", type=int, default=1)
    parser.add_argument("--max-failed", type=int)
    parser.add_argument("--seed", type=int, default=0, help="the sampler's seed (a rerun proposes the same values)")
    parser.add_argument("--outputs", help="the output directory named in COMMAND; each trial gets its own")
    parser.add_argument("--result", action="append", default=[], metavar="NAME=FILE")
    parser.add_argument("--trials-file", help="write every trial as JSON here")
    args = parser.parse_args(argv[:split])
    try:
        import optuna
    except ImportError:
        raise SystemExit("mlopsdsl.search: `tune: {engine: optuna}` needs the optuna package in the step's "
                         "image (pip install optuna)") from None
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    search = Search(args, argv[split + 1:])
    study = optuna.create_study(direction=args.goal, sampler=sampler(args.algorithm, args.seed, search.space))
    study.optimize(search.objective, n_trials=args.trials, n_jobs=args.parallel)
    if args.trials_file:
        os.makedirs(os.path.dirname(args.trials_file) or ".", exist_ok=True)
        with open(args.trials_file, "w", encoding="utf-8") as fh:
            json.dump([{"number": t.number, "params": t.params, "value": t.value, "state": t.state.name,
                        "metrics": t.user_attrs} for t in study.trials], fh, sort_keys=True)
    if not any(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials):
        print("mlopsdsl.search: no trial finished", file=sys.stderr)
        return 1
    best = study.best_trial
    print(f"mlopsdsl.search: best trial {best.number}: {best.params} {args.objective}={best.value}", flush=True)
    values = {**best.params, args.objective: best.value}
    for item in args.result:
        name, path = item.split("=", 1)
        os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text(values[name]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
