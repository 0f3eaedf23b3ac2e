"""A target's rules live in the target (`Backend.check`) and run for the targets being compiled;
`validate` runs the built-in targets' checks, so it never passes what their compile refuses."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from conftest import REPO, run_cli

from mlopsdsl.backends.base import Backend
from mlopsdsl.diagnostics import codes
from mlopsdsl.driver import build_ir, check_file
from mlopsdsl.ir import Project

ONNX_V1 = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: churn, version: 1.0.0}
model: {name: churn, task: classification, framework: onnx}
serving:
  name: churn-api
  storage_uri: s3://acme/models/churn/
  protocol: v1
"""


def test_validate_runs_the_builtin_targets_checks_at_the_value(write_spec):
    spec = write_spec(ONNX_V1)
    (found,) = check_file(str(spec)).diagnostics
    assert found.code is codes.SERVING_PROTOCOL and (found.span.file, found.span.line) == (str(spec), 8)
    assert "no KServe runtime serves 'onnx'" in found.message


def test_compile_for_another_serving_target_warns_instead_of_failing(write_spec, tmp_path):
    spec = write_spec(ONNX_V1)
    code, out, err = run_cli("compile", spec, "--out", tmp_path / "out", "--target", "seldon")
    assert code == 0, out + err
    assert "MLD708" in out and "MLD602" not in out  # Seldon's own approximation, not KServe's refusal
    assert (tmp_path / "out" / "seldon" / "churn-api.yaml").is_file()
    code, out, _ = run_cli("compile", spec, "--out", tmp_path / "kserve", "--target", "kserve")
    assert code == 1 and "MLD602" in out and not (tmp_path / "kserve").exists()


def test_a_compile_checks_only_the_targets_it_names(write_spec):
    ir = build_ir(str(write_spec(ONNX_V1))).ir
    assert ir is not None  # the front end alone does not refuse it: KServe does
    from mlopsdsl.compiler import compile_project

    assert [d.code for d in compile_project(ir, ["kserve"]).diagnostics] == [codes.SERVING_PROTOCOL]
    assert compile_project(ir, ["kubeflow", "monitoring"]).ok


def test_validate_env_checks_the_spec_as_that_environment_lowers_it(write_spec):
    spec = write_spec(ONNX_V1.replace("protocol: v1", "protocol: v2") + """\
environments:
  prod: {set: {serving.protocol: v1}}
""")
    assert check_file(str(spec), env=None).diagnostics[0].code is codes.SERVING_PROTOCOL  # found in prod's variant
    assert [d.code for d in check_file(str(spec), env="prod").diagnostics] == [codes.SERVING_PROTOCOL]


def test_a_report_without_a_span_points_at_the_spec_not_a_made_up_file():
    class Bare(Backend):
        name = "bare"

        def check(self, project: Project) -> None:
            self.unsupported("anything", None)
            self.warn(codes.TARGET_LIMIT, "too big", project.locate("serving", "name"))

    project = Project(name="x", version="1.0.0", spec_path="specs/x.yaml")
    found = Bare().run_check(project)
    assert [str(d.span) for d in found] == ["specs/x.yaml:1:1", "specs/x.yaml:1:1"]


# Words that name a target or its machinery, as code (identifiers, messages, hints): a rule that
# says them belongs in that target's `check`. `github` is a section of the language (`ci.github`), and
# so is an environment's `kfp_host`.
TARGET_WORDS = re.compile(r"kserve|knative|kubeflow|kfp(?!_host)|seldon|triton|torchserve|cronjob|inferenceservice",
                          re.IGNORECASE)


def _code_words(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and node.body
                  and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.Name):
            found.append((node.lineno, node.id))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            found += [(node.lineno, f"{getattr(node, 'module', '') or ''}.{a.name}") for a in node.names]
    return found


@pytest.mark.parametrize("path", sorted((REPO / "src" / "mlopsdsl" / "check").glob("*.py")), ids=lambda p: p.name)
def test_no_check_module_names_a_target(path):
    named = [(line, text) for line, text in _code_words(path)
             if TARGET_WORDS.search(text) or "mlopsdsl.backends" in text or "mlopsdsl.support" in text]
    assert named == [], f"{path.name} states a target's rule: move it into that target's `check`"


def test_the_scan_sees_a_target_in_a_message(tmp_path):
    module = tmp_path / "m.py"
    module.write_text('"""KServe in a docstring is fine."""\nHINT = "no KServe runtime serves it"\n', encoding="utf-8")
    assert [line for line, text in _code_words(module) if TARGET_WORDS.search(text)] == [2]
