"""What a person editing a spec in VS Code sees, through the real yaml-language-server.

The probe (shared/conformance/editor) drives yaml-language-server over LSP; each
call costs about 0.7 s, so these tests make few calls and share files. They skip
when Node or the probe's node_modules are not there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, SHARED

SCHEMA = REPO / "schemas" / "mlopsdsl.schema.json"
PROBE_DIR = Path(os.environ["MLOPSDSL_EDITOR_PROBE_DIR"]) if "MLOPSDSL_EDITOR_PROBE_DIR" in os.environ else (
    SHARED / "conformance" / "editor" if SHARED else None)

SPEC = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata:
  name: churn
model:
  framework: xgboost
pipeline:
  steps:
    train:
      run: [python, -m, churn.train]
      
monitoring:
  alerts:
    - name: HighLatency
      when: "${{ serving.latency.p95 > 250ms }}"
      severity: 
"""
STEP_KEY_LINE = 11       # the empty line inside `train:`, indented 6 spaces
SEVERITY_LINE = 16
FRAMEWORK_LINE = 6

BROKEN = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata:
  name: churn
model:
  framwork: xgboost
defaults:
  resources: {cpu: 500m, memory: 8GB}
"""


def _probe() -> Path:
    if PROBE_DIR is None or not (PROBE_DIR / "probe").is_file():
        pytest.skip("the editor probe (shared/conformance/editor/probe) is not available")
    if shutil.which("node") is None:
        pytest.skip("node is not installed; the editor probe needs Node >= 18")
    if not (PROBE_DIR / "node_modules" / "yaml-language-server").is_dir():
        pytest.skip(f"yaml-language-server is not installed: run {PROBE_DIR / 'install.sh'}")
    return PROBE_DIR / "probe"


def probe(*args: str) -> str:
    command = [str(_probe()), args[0], "--schema", str(SCHEMA), *args[1:]]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, f"probe exited {proc.returncode}: {proc.stderr.strip()}"
    return proc.stdout


@pytest.fixture(scope="module")
def spec(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("editor") / "spec.yaml"
    path.write_text(SPEC, encoding="utf-8")
    return path


def test_spec_fixture_positions_are_right():
    lines = SPEC.splitlines()
    assert lines[STEP_KEY_LINE - 1] == " " * 6
    assert lines[SEVERITY_LINE - 1].endswith("severity: ")
    assert lines[FRAMEWORK_LINE - 1] == "  framework: xgboost"


def test_step_keys_are_offered(spec: Path):
    offered = probe("complete", str(spec), f"{STEP_KEY_LINE}:7").splitlines()
    for key in ("inputs", "outputs", "resources", "retries", "when", "after", "for_each", "env", "timeout", "uses"):
        assert key in offered
    assert "run" not in offered  # already present in the mapping
    assert "run step" in offered and "uses step" in offered  # the step skeletons (defaultSnippets)


def test_enum_values_are_offered(spec: Path):
    assert probe("complete", str(spec), f"{SEVERITY_LINE}:17").split() == ["critical", "info", "warning"]


def test_framework_values_are_offered(tmp_path: Path):
    path = tmp_path / "spec.yaml"
    path.write_text(SPEC.replace("framework: xgboost", "framework: "), encoding="utf-8")
    offered = probe("complete", str(path), f"{FRAMEWORK_LINE}:14").split()
    assert offered == sorted(["sklearn", "xgboost", "lightgbm", "pytorch", "tensorflow", "onnx", "huggingface",
                              "triton", "custom"])


def test_hover_shows_the_description(spec: Path):
    text = probe("hover", str(spec), f"{FRAMEWORK_LINE}:4")
    assert "decides the artifact format and the serving runtime" in text
    assert "`xgboost`" in text  # the allowed values, documented


def test_component_keys_are_offered(tmp_path: Path):
    path = tmp_path / "component.yaml"
    path.write_text("apiVersion: mlopsdsl/v1\nkind: Component\n\n", encoding="utf-8")
    offered = probe("complete", str(path), "3:1").split()
    assert {"image", "run", "inputs", "outputs", "metadata"} <= set(offered)
    assert "pipeline" not in offered and "serving" not in offered


def test_mistakes_are_flagged_on_their_lines(tmp_path: Path):
    path = tmp_path / "broken.yaml"
    path.write_text(BROKEN, encoding="utf-8")
    found = probe("diagnose", str(path)).splitlines()
    assert any(line.startswith("6:3 ") and "framwork" in line for line in found), found
    assert any(line.startswith("8:34 ") and "not a memory quantity; use e.g. 8Gi or 512Mi" in line
               for line in found), found


def test_examples_are_clean_in_the_editor():
    churn = EXAMPLES / "churn" / "churn.yaml"
    if not churn.is_file():
        pytest.skip("examples/churn/churn.yaml is not there")
    assert probe("diagnose", str(churn)).strip() == ""
