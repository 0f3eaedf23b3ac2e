"""Specs `validate` passes and `compile` refuses for a built-in target (found by the fuzz campaign).

Each is a target's own refusal, made where the target builds the construct; its
`Backend.check` builds the same parts (and drops them), so `validate`, which runs the
built-in targets' checks, reports each one, and `compile` still refuses it.
"""

from __future__ import annotations

import pytest
from conftest import EXAMPLES, example_with

from mlopsdsl.compiler import compile_project
from mlopsdsl.driver import build_ir, validate_file

MINIMAL = (EXAMPLES / "minimal" / "minimal.yaml").read_text(encoding="utf-8")
VISION = "vision/defects.yaml"
PREPARE_OUTPUTS = "      outputs: {table: Dataset}      # a file the next steps can consume"

CASES = {
    "kubeflow: a run-time value in an env value (MLD701)": (
        ("  version: 0.1.0\n", "  version: 0.1.0\nparams:\n  lr: {type: float, default: 0.1}\n"),
        (PREPARE_OUTPUTS, PREPARE_OUTPUTS + '\n      env: {LR: "${{ params.lr }}"}')),
    "github: `${{` in a parameter's choices (MLD701)": (
        ("choices: [tiny, resnet50, efficientnet_b3, convnext_tiny]",
         "choices: [tiny, resnet50, '${{ metadata.version }}', convnext_tiny]"), VISION),
    "monitoring: an alert on serving.* without `serving:` (MLD701)": (
        (MINIMAL[MINIMAL.index("serving:\n"):MINIMAL.index("monitoring:\n")], ""),),
    "kubeflow: a step reads an output of a `when` step under the same condition (MLD707)": (
        ("  version: 0.1.0\n", "  version: 0.1.0\nparams:\n  go: {type: bool, default: true}\n"),
        ("      run: [python, -m, house_prices.prepare,", '      when: "${{ params.go }}"\n      run: [python, -m, house_prices.prepare,'),
        ("      run: [python, -m, house_prices.train,", '      when: "${{ params.go }}"\n      run: [python, -m, house_prices.train,'),
        ("      run: [python, -m, house_prices.evaluate,", '      when: "${{ params.go }}"\n      run: [python, -m, house_prices.evaluate,')),
}


def _spec(tmp_path, replacements) -> str:
    if isinstance(replacements[-1], str):  # a case on another example than the minimal one
        return example_with(tmp_path, *replacements[:-1], example=replacements[-1])
    return example_with(tmp_path, *replacements)


@pytest.mark.parametrize("name", CASES)
def test_compile_refuses_it(tmp_path, name):
    path = _spec(tmp_path, CASES[name])
    built = build_ir(path)
    assert built.ok and built.ir is not None, [str(d) for d in built.diagnostics]
    output = compile_project(built.ir)
    assert not output.ok, f"{name}: compile no longer refuses it"


@pytest.mark.parametrize("name", CASES)
def test_validate_reports_what_compile_refuses(tmp_path, name):
    result = validate_file(_spec(tmp_path, CASES[name]))
    assert not result.ok


def test_the_exit_handler_is_checked_as_the_steps_are(tmp_path):
    spec = example_with(tmp_path, ('SLACK_WEBHOOK_URL: "${{ secrets.slack_webhook }}"',
                                   'SLACK_WEBHOOK_URL: "${{ secrets.slack_webhook }}"\n      DEPTH: "${{ params.max_depth }}"'),
                        example="churn/churn.yaml")
    (tmp_path / "components").symlink_to(EXAMPLES / "churn" / "components")
    found = [d for d in validate_file(spec).diagnostics if d.is_error]
    assert [(d.code.code, "environment variable 'DEPTH'" in d.message) for d in found] == [("MLD701", True)], found
