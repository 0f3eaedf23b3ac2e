"""Benchmark `mlopsdsl compile --target kubeflow` against kfp's own compiler on the same pipeline.

    python bench/bench_kubeflow.py                      # N = 100,1000 chain, 3 rounds
    python bench/bench_kubeflow.py --sizes 100 --repeat 5 --json /tmp/kfp.json
    python bench/bench_kubeflow.py --breakdown SPEC       # in-process: front end / backend / serialize

Both sides are whole processes, interleaved by bench/harness.py with the floor. The
peer is this same file run by the conformance judges' venv (kfp 2.17): it reads the
generated spec, writes the equivalent kfp DSL (one container component per step with
the same inputs, outputs, command and `params.learning_rate`; defaults' image,
resources, retries, env and tracking env; the exit handler with its secret) and runs
it: import kfp, define, `@dsl.pipeline` tracing, `Compiler().compile()`. Target:
mlopsdsl at least 40x faster at 1,000 steps (docs/targets/kubeflow.md has the numbers).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

VENV_PYTHON = Path(os.environ.get("CONFORMANCE_VENV", Path.home() / ".cache/mlopsdsl-conformance/venv")) / "bin/python"
_REF = re.compile(r"\$\{\{\s*([a-z_.0-9]+)\s*\}\}")


def _seconds(duration: str) -> int:
    return int(duration[:-1]) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[duration[-1]]


def kfp_source(spec: dict) -> str:
    """The kfp DSL program equivalent to a generated spec's pipeline (steps, edges, params)."""
    defaults = spec.get("defaults", {})
    image, res = defaults.get("image", "python:3.11"), defaults.get("resources", {})
    env = {**defaults.get("env", {})}
    mlflow = spec.get("tracking", {}).get("mlflow")
    if mlflow:
        env.update(MLFLOW_TRACKING_URI=mlflow["uri"], MLFLOW_EXPERIMENT_NAME=mlflow["experiment"])
    kinds = {"int": "int", "float": "float", "bool": "bool", "str": "str"}
    lines = ["from kfp import compiler, dsl, kubernetes",
             "from kfp.dsl import ContainerSpec, Dataset, Input, Model, Output, Artifact, Metrics", ""]
    calls = []
    steps = spec["pipeline"]["steps"]
    for name, step in steps.items():
        outputs = {k: (v if isinstance(v, str) else v["type"]) for k, v in step.get("outputs", {}).items()}
        inputs = step.get("inputs", {})
        used_params = sorted({m.split(".")[1] for arg in step["run"] for m in _REF.findall(str(arg))
                              if m.startswith("params.")})
        args = [f"{k}: Input[Dataset]" for k in inputs] + \
               [f"{p}: {kinds[spec['params'][p]['type']]}" for p in used_params] + \
               [f"{k}: Output[{t if t in ('Dataset', 'Model', 'Metrics') else 'Artifact'}]" for k, t in outputs.items()]

        def arg_text(arg: str) -> str:
            match = _REF.fullmatch(str(arg).strip())
            if not match:
                return repr(str(arg))
            root, _, rest = match.group(1).partition(".")
            if root == "params":
                return rest
            return f"{rest.split('.')[0]}.path"

        command = ", ".join(arg_text(a) for a in step["run"])
        lines += ["@dsl.container_component", f"def {name}({', '.join(args)}):",
                  f"    return ContainerSpec(image={image!r}, command=[{command}])", ""]
        wires = [f"{k}=t_{v.split('.')[1]}.outputs[{v.split('.')[3].rstrip(' }')!r}]"
                 for k, v in inputs.items()] + [f"{p}={p}" for p in used_params]
        calls.append(f"        t_{name} = {name}({', '.join(wires)})")
        calls.append(f"        t_{name}.set_cpu_request({res.get('cpu', '500m')!r})"
                     f".set_memory_request({res.get('memory', '1Gi')!r})"
                     f".set_retry(num_retries={defaults.get('retries', 0)})")
        calls += [f"        t_{name}.set_env_variable({k!r}, {v!r})" for k, v in sorted(env.items())]
        if defaults.get("timeout"):
            calls.append(f"        kubernetes.set_timeout(t_{name}, {_seconds(defaults['timeout'])})")
    lines += ["@dsl.container_component", "def notify():",
              f"    return ContainerSpec(image={image!r}, command=['python', '-m', 'app.notify'])", ""]
    params = ", ".join(f"{n}: {kinds[p['type']]} = {p['default']!r}" for n, p in spec.get("params", {}).items())
    lines += [f"@dsl.pipeline(name={spec['metadata']['name']!r})", f"def pipeline({params}):",
              "    done = notify()",
              "    kubernetes.use_secret_as_env(done, secret_name='slack-webhook', "
              "secret_key_to_env={'slack_webhook': 'SLACK_WEBHOOK_URL'})",
              "    with dsl.ExitHandler(done):", *calls, "",
              "import sys", "compiler.Compiler().compile(pipeline, sys.argv[1])", ""]
    return "\n".join(lines)


def peer(spec_path: str, out: str) -> None:
    """Run by the judges' venv: generate the DSL for the spec and execute it (kfp compiles)."""
    import yaml

    with open(spec_path, encoding="utf-8") as handle:
        source = kfp_source(yaml.safe_load(handle))
    sys.argv = [spec_path, out]
    # dont_inherit: this file's `from __future__ import annotations` would turn the generated
    # signatures into strings, which kfp cannot read
    exec(compile(source, "<kfp-pipeline>", "exec", dont_inherit=True), {"__name__": "__main__"})


def breakdown(spec_path: str) -> None:
    """In-process split of one compile (where the whole-process time goes), after the imports."""
    import time

    start = time.perf_counter()
    from mlopsdsl import driver
    from mlopsdsl.backends.kubeflow import KubeflowBackend
    from mlopsdsl.serialize import to_bytes

    marks = [("import", time.perf_counter())]
    result = driver.build_ir(spec_path)
    marks.append(("front end (build_ir)", time.perf_counter()))
    artifacts = KubeflowBackend().compile(result.ir)
    marks.append(("kubeflow backend", time.perf_counter()))
    size = sum(len(to_bytes(a)) for a in artifacts)
    marks.append(("serialize", time.perf_counter()))
    previous = start
    for label, mark in marks:
        print(f"{label:>22}: {(mark - previous) * 1000:8.0f} ms")
        previous = mark
    print(f"{'output':>22}: {size / 1024:8.0f} KiB")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--breakdown"]:
        breakdown(sys.argv[2])
        raise SystemExit(0)
    if sys.argv[1:2] == ["--kfp-peer"]:
        peer(sys.argv[2], sys.argv[3])
        raise SystemExit(0)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from harness import Command, main  # noqa: E402  (a sibling script, not a package)

    if not VENV_PYTHON.exists():
        raise SystemExit(f"the judges' venv is missing ({VENV_PYTHON}): run shared/conformance/install.sh")
    argv = sys.argv[1:]
    for flag, value in (("--sizes", "100,1000"), ("--shape", "chain"), ("--repeat", "3")):
        if flag not in argv:
            argv += [flag, value]
    mlopsdsl = Command("mlopsdsl", ["{python}", "-m", "mlopsdsl", "compile", "{spec}", "--out", "{tmp}/out",
                                    "--target", "kubeflow"])
    kfp = Command("kfp", [str(VENV_PYTHON), str(Path(__file__).resolve()), "--kfp-peer", "{spec}",
                          "{tmp}/pipeline.yaml"])
    raise SystemExit(main([mlopsdsl, kfp], __doc__.splitlines()[0], argv))
