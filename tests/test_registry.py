"""The backend registry: lazy discovery, did-you-mean, one-line plugin failures, IR version check."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass

import pytest

from conftest import run_cli
from mlopsdsl.backends import registry
from mlopsdsl.backends.base import Artifact, Backend
from mlopsdsl.ir import Project


class FakeBackend(Backend):
    """A target for tests: one YAML stream, one JSON file and one text file."""

    name = "fake"
    description = "a fake target for tests"

    def compile(self, project: Project) -> list[Artifact]:
        config = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": project.name},
                  "data": {"on": "yes", "labels": dict(sorted(project.labels.items())), "ratio": 0.25}}
        service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "svc"},
                   "spec": {"ports": [{"port": 80}], "selector": {"app": project.name}}}
        return [Artifact("fake/deploy.yaml", documents=(config, service), header=self.header(project)),
                Artifact("fake/info.json", format="json", documents=({"name": project.name, "n": 1},)),
                Artifact("fake/README.md", format="text", text=f"# {project.name}\n")]


class OtherBackend(Backend):
    name = "other"
    description = "a second fake target"

    def compile(self, project: Project) -> list[Artifact]:
        return [Artifact("other/one.yaml", documents=({"kind": "Thing", "metadata": {"name": "one"}},))]


class FutureBackend(Backend):
    name = "future"
    ir_major = 2

    def compile(self, project: Project) -> list[Artifact]:
        return []


@dataclass(frozen=True)
class FakeDist:
    name: str = "mlopsdsl"  # a built-in target; PluginDist below is an outside one
    version: str = "9.9"


@dataclass(frozen=True)
class PluginDist:
    name: str = "mlopsdsl-acme"
    version: str = "1.2"


@dataclass
class FakeEntryPoint:
    """Stands in for importlib.metadata.EntryPoint: same attributes, `load` returns `target`."""

    name: str
    target: object
    value: str = "fake_module:Fake"
    dist: FakeDist = FakeDist()

    def load(self):
        if isinstance(self.target, BaseException):
            raise self.target
        return self.target


def use_backends(monkeypatch, **backends: object) -> None:
    """Register `name=class` (or an exception to raise on load) as the only installed targets."""
    points = [FakeEntryPoint(name, target) for name, target in backends.items()]
    monkeypatch.setattr(registry, "_entry_points", lambda: points)


def test_real_entry_points_list_the_builtins_without_importing_them():
    code = ("import sys\nfrom mlopsdsl.backends import registry\n"
            "print(registry.names()); print(registry.installed()); print(registry.version_text())\n"
            "from mlopsdsl import cli\n"
            "try:\n    cli.main(['--version'])\nexcept SystemExit as e:\n    assert e.code == 0\n"
            "plugins = tuple(ep.value.split(':')[0] for ep in registry._entry_points())\n"
            "bad = [m for m in sys.modules if m == 'kfp' or m.startswith(('kfp.',) + plugins)]\n"
            "assert 'mlopsdsl.backends.kubeflow' in plugins and not bad, bad\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "['github', 'kserve', 'kubeflow', 'monitoring'" in proc.stdout  # outside plugins may follow
    assert "('kubeflow', 'mlopsdsl', " in proc.stdout
    assert "targets: github, kserve, kubeflow, monitoring" in proc.stdout


def test_version_lists_targets():
    code, out, _ = run_cli("--version")
    assert code == 0
    assert out.startswith("mlopsdsl ") and "targets: github, kserve, kubeflow, monitoring" in out


def test_targets_command_lists_name_distribution_version():
    code, out, _ = run_cli("targets")
    assert code == 0
    names = [line.split()[0] for line in out.splitlines()]
    assert names == registry.names() and {"github", "kserve", "kubeflow", "monitoring"} <= set(names)
    assert next(line for line in out.splitlines() if line.startswith("kubeflow ")).split()[1] == "mlopsdsl"


def test_unknown_target_suggests_and_lists(monkeypatch):
    with pytest.raises(registry.RegistryError) as info:
        registry.get("kserv")
    message = str(info.value)
    assert "unknown target 'kserv'" in message and "did you mean 'kserve'?" in message
    assert f"(installed: {', '.join(registry.names())})" in message
    assert "installed: github, kserve, kubeflow, monitoring" in message  # sorted; plugins may follow
    with pytest.raises(registry.RegistryError, match="did you mean 'kubeflow'"):
        registry.select("kserve,kubeflw")


def test_unknown_target_on_the_command_line_is_a_usage_error(write_spec, tmp_path):
    code, _, err = run_cli("compile", write_spec(), "--out", tmp_path / "out", "--target", "kserv")
    assert code == 2
    assert "did you mean 'kserve'?" in err and f"(installed: {', '.join(registry.names())})" in err
    assert "Traceback" not in err and not (tmp_path / "out").exists()


def test_select_keeps_order_and_drops_repeats(monkeypatch):
    use_backends(monkeypatch, fake=FakeBackend, other=OtherBackend)
    assert registry.select(None) == ["fake", "other"]
    assert registry.select("other, fake,other") == ["other", "fake"]
    with pytest.raises(registry.RegistryError, match="names no target"):
        registry.select(" , ")


def test_a_plugin_runs_only_when_named(monkeypatch):
    """Installing a plugin must not change what a plain `mlopsdsl compile` writes."""
    points = [FakeEntryPoint("fake", FakeBackend), FakeEntryPoint("acme", OtherBackend, dist=PluginDist())]
    monkeypatch.setattr(registry, "_entry_points", lambda: points)
    assert registry.core() == ["fake"]
    assert registry.select(None) == ["fake"]
    assert registry.select("acme,fake") == ["acme", "fake"]
    assert registry.names() == ["acme", "fake"]


def test_get_returns_a_fresh_instance(monkeypatch):
    use_backends(monkeypatch, fake=FakeBackend)
    first, second = registry.get("fake"), registry.get("fake")
    assert isinstance(first, FakeBackend) and first is not second
    assert registry.installed() == [("fake", "mlopsdsl", "9.9")]


def test_plugin_that_fails_to_import_is_one_line(monkeypatch):
    use_backends(monkeypatch, broken=ModuleNotFoundError("No module named 'kfp'"))
    with pytest.raises(registry.RegistryError) as info:
        registry.get("broken")
    message = str(info.value)
    assert "\n" not in message
    assert "target 'broken' (fake_module:Fake from mlopsdsl 9.9) failed to load" in message
    assert "ModuleNotFoundError: No module named 'kfp'" in message
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_ir_major_mismatch_is_refused(monkeypatch):
    use_backends(monkeypatch, future=FutureBackend)
    with pytest.raises(registry.RegistryError, match="reads IR major version 2, but this mlopsdsl produces IR 1"):
        registry.get("future")


def test_entry_point_that_is_not_a_backend(monkeypatch):
    use_backends(monkeypatch, odd=object)
    with pytest.raises(registry.RegistryError, match="is not a mlopsdsl Backend class"):
        registry.get("odd")


def test_no_targets_installed(monkeypatch):
    use_backends(monkeypatch)
    assert registry.installed() == []
    assert "targets: none installed" in registry.version_text()
    with pytest.raises(registry.RegistryError, match=r"\(installed: none\)"):
        registry.get("kubeflow")
