"""Inputs that crashed mlopsdsl (issue 13): each now ends with exit 1 or 2 and a positioned diagnostic.

Every case starts from the shipped minimal example and changes one thing, runs the
real command line in-process, and asserts the exit code, the code of the diagnostic
and where it points: never MLD901, never a traceback.
"""

from __future__ import annotations

import re

import pytest
from conftest import EXAMPLES, example_with

from mlopsdsl import cli

MINIMAL = (EXAMPLES / "minimal" / "minimal.yaml").read_text(encoding="utf-8")
ALERT = "${{ serving.error_rate > 5% }}"
# the line of `version:` in the example: the params these tests insert right after it start one below
VERSION_LINE = MINIMAL.splitlines().index("  version: 0.1.0") + 1


def _spec(tmp_path, *replacements: tuple[str, str]) -> str:
    return example_with(tmp_path, *replacements)


def run(capsys, *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    output = captured.out + captured.err
    assert "MLD901" not in output and "Traceback" not in output, output
    return code, output


def codes_in(output: str) -> list[str]:
    return re.findall(r"\[(MLD\d{3})\]", output)


DEEP = {
    "500 and": "serving.error_rate > 5%" + " and true" * 500,
    "500 not": "not " * 500 + "(serving.error_rate > 5%)",
    "1,000 + 1%": "serving.error_rate > 5%" + " + 1%" * 1000,
    "300 nested lists": "serving.error_rate > " + "[" * 300 + "1" + "]" * 300,
    "300 parentheses": "serving.error_rate > " + "(" * 300 + "5%" + ")" * 300 + " + 0%" * 100,
}


@pytest.mark.parametrize("expression", DEEP.values(), ids=DEEP.keys())
def test_a_deep_expression_is_refused_where_it_nests_too_deep(capsys, tmp_path, expression):
    spec = _spec(tmp_path, (ALERT, "${{ " + expression + " }}"))
    code, output = run(capsys, "validate", spec)
    assert code == 1 and codes_in(output) == ["MLD510"], output
    assert "more than 100 levels deep" in output
    assert re.search(r"spec\.yaml:\d+:\d+", output)


def test_an_expression_as_deep_as_the_limit_is_checked_normally(capsys, tmp_path):
    spec = _spec(tmp_path, (ALERT, "${{ serving.error_rate > 5%" + " and serving.rps > 1" * 98 + " }}"))
    assert run(capsys, "validate", spec)[0] == 0


@pytest.mark.parametrize("number, code", [
    ("9" * 4400, "MLD115"),              # Python refuses to convert it at all
    ("9223372036854775808", "MLD115"),   # 2**63: one past a 64-bit integer
    ("-9223372036854775809", "MLD115"),
    ("0x" + "f" * 17, "MLD115"),
    ("1e400", "MLD115"),                 # written finite, read as infinity
])
def test_a_yaml_number_no_target_can_hold_is_refused_where_it_is(capsys, tmp_path, number, code):
    spec = _spec(tmp_path, ("  version: 0.1.0\n", "  version: 0.1.0\nparams:\n  n: {type: float, default: "
                            + number + "}\n"))
    exit_code, output = run(capsys, "validate", spec)
    assert exit_code == 1 and codes_in(output) == [code], output
    assert f"spec.yaml:{VERSION_LINE + 2}:29" in output


def test_the_largest_64_bit_integer_is_a_number(capsys, tmp_path):
    spec = _spec(tmp_path, ("  version: 0.1.0\n", "  version: 0.1.0\nparams:\n  n: {type: int, default: "
                            "9223372036854775807}\n"))
    assert run(capsys, "validate", spec)[0] == 0


@pytest.mark.parametrize("literal", [
    "9" * 4400,                          # was ValueError in the parser
    "9" * 400,                           # beside a duration: was OverflowError building the unit hint
    "9" * 400 + "ms",                    # a duration beyond Go's time.Duration
    "9" * 400 + ".5",                    # a float that reads as infinity
    "9" * 400 + "Gi",
])
def test_a_number_too_large_in_an_expression_is_refused_at_the_number(capsys, tmp_path, literal):
    spec = _spec(tmp_path, (ALERT, "${{ serving.latency.p95 > " + literal + " }}"))
    code, output = run(capsys, "validate", spec)
    assert code == 1 and codes_in(output) == ["MLD511"], output
    line = MINIMAL[:MINIMAL.index(ALERT)].count("\n") + 1
    assert f"spec.yaml:{line}:40" in output


@pytest.mark.parametrize("duration", ["9" * 400 + "m", "1" + "0" * 30 + "s", "106752d1s"])
def test_an_alert_for_longer_than_any_target_holds_is_refused_by_validate_and_compile(capsys, tmp_path, duration):
    spec = _spec(tmp_path, ("for: 10m", f"for: {duration}"))
    code, output = run(capsys, "validate", spec)
    assert code == 1 and codes_in(output) == ["MLD641"] and "longer than any target can hold" in output
    code, output = run(capsys, "compile", spec, "--out", str(tmp_path / "out"))
    assert code == 1 and "MLD641" in output and not (tmp_path / "out").exists()


def test_a_long_duration_within_range_still_compiles(capsys, tmp_path):
    spec = _spec(tmp_path, ("for: 10m", "for: 106751d"))
    assert run(capsys, "compile", spec, "--out", str(tmp_path / "out"))[0] == 0


def test_item_outside_a_for_each_step_is_an_unknown_name(capsys, tmp_path):
    spec = _spec(tmp_path, ("      outputs: {table: Dataset}", '      outputs: {table: Dataset}\n      env: {X: "${{ item }}"}'))
    code, output = run(capsys, "validate", spec)
    assert code == 1 and codes_in(output) == ["MLD503"] and "only in a step with `for_each`" in output
    line = MINIMAL.splitlines().index("      outputs: {table: Dataset}      # a file the next steps can consume") + 2
    assert f"spec.yaml:{line}:21" in output


def test_a_refused_step_does_not_crash_the_steps_that_consume_it(capsys, tmp_path):
    # The kubeflow target refuses a run-time value in `env` (MLD701); `train` reads `prepare`'s output,
    # which then does not exist: that was a KeyError in the DAG builder.
    spec = _spec(tmp_path,
                 ("  version: 0.1.0\n", "  version: 0.1.0\nparams:\n  lr: {type: float, default: 0.1}\n"),
                 ("      outputs: {table: Dataset}", '      outputs: {table: Dataset}\n      env: {LR: "${{ params.lr }}"}'))
    code, output = run(capsys, "compile", spec, "--out", str(tmp_path / "out"), "--target", "kubeflow")
    assert code == 1 and codes_in(output) == ["MLD701"] and "'LR'" in output, output


def test_non_finite_numbers_are_refused_where_they_are_written_and_later_checks_still_run(capsys, tmp_path):
    spec = _spec(tmp_path, ("  version: 0.1.0\n", "  version: 0.1.0\nparams:\n"
                            "  a: {type: float, default: .nan, min: 0, max: 1}\n"
                            "  b: {type: float, default: 0.5, min: -.inf, max: .inf}\n"))
    code, output = run(capsys, "validate", spec, "--format", "concise")
    assert code == 1 and codes_in(output) == ["MLD115"] * 3, output
    a, b = VERSION_LINE + 2, VERSION_LINE + 3
    assert {f"spec.yaml:{a}:29", f"spec.yaml:{b}:39", f"spec.yaml:{b}:51"} <= set(re.findall(r"spec\.yaml:\d+:\d+", output))
    code, output = run(capsys, "validate", spec, "--emit-ir")
    assert code == 1 and "NaN" not in output  # no IR: `--emit-ir` never prints a NaN that is not JSON


def test_an_empty_env_name_is_a_usage_error(capsys, tmp_path):
    spec = _spec(tmp_path)
    for command in (["validate", spec], ["compile", spec, "--out", str(tmp_path / "out")], ["graph", spec]):
        with pytest.raises(SystemExit) as exit_:
            cli.main([*command, "--env", ""])
        assert exit_.value.code == 2
        assert "an environment name is required" in capsys.readouterr().err


def test_a_misspelled_env_is_a_usage_error_with_a_suggestion(capsys):
    spec = str(EXAMPLES / "churn" / "churn.yaml")
    line = (EXAMPLES / "churn" / "churn.yaml").read_text().splitlines().index("environments:") + 1
    for command in (["validate", spec], ["compile", spec, "--out", "never-written"], ["graph", spec]):
        code, output = run(capsys, *command, "--env", "prodution")
        assert code == 2 and codes_in(output) == ["MLD306"], output
        assert "did you mean 'production'?" in output and f"churn.yaml:{line}:1" in output


def test_every_shipped_file_validates_clean_components_included(capsys):
    # `validate examples/churn/components/register.yaml` gave 6 false MLD504: a component was checked
    # as if it were a project, where `inputs.*` and `outputs.*` do not exist.
    files = sorted(EXAMPLES.rglob("*.yaml"))
    assert any("components" in f.parts for f in files)
    code, output = run(capsys, "validate", *map(str, files))
    assert code == 0 and "error" not in output, output


def test_a_component_checked_alone_still_reports_its_own_mistakes(capsys, tmp_path):
    text = (EXAMPLES / "churn" / "components" / "register.yaml").read_text(encoding="utf-8")
    path = tmp_path / "register.yaml"
    path.write_text(text.replace("inputs.model.path", "inputs.modle.path")
                    .replace("outputs.version.path", "outputs.versoin.path"), encoding="utf-8")
    code, output = run(capsys, "validate", str(path), "--format", "concise")
    assert code == 1 and codes_in(output) == ["MLD307", "MLD307"], output
    assert "did you mean 'model'?" in output and "did you mean 'version'?" in output


def test_a_component_is_not_compiled_on_its_own(capsys, tmp_path):
    code, output = run(capsys, "compile", str(EXAMPLES / "churn" / "components" / "register.yaml"),
                       "--out", str(tmp_path / "out"))
    assert code == 2 and codes_in(output) == ["MLD208"] and "Project that `uses:` it" in output
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("field, written, column", [
    ("summary", '"quiet \\u202e ssecca"', 23),            # a YAML escape in a double-quoted value
    ("summary", "'quiet \u202e ssecca'", 23),             # the character itself, pasted
    ("summary", '"ring \\a bell"', 22),
    ("summary", '"escape \\e[31m red"', 24),
    ("summary", "'${{ \"a\\u2066b\" }}'", 21),            # an escape inside an expression's string literal
    ("labels", '{"team\\0": x}', 16),                      # a key
])
def test_control_and_bidi_characters_never_reach_the_output(capsys, tmp_path, field, written, column):
    spec = _spec(tmp_path, ("      severity: warning", f"      severity: warning\n      {field}: {written}"))
    code, output = run(capsys, "validate", spec, "--format", "concise")
    line = MINIMAL[:MINIMAL.index("      severity: warning")].count("\n") + 2
    # (a label key with a NUL is also not a label key: MLD205 beside it)
    assert code == 1 and codes_in(output).count("MLD116") == 1 and f"spec.yaml:{line}:{column}" in output, output
    code, output = run(capsys, "compile", spec, "--out", str(tmp_path / "out"))
    assert code == 1 and "MLD116" in output and not (tmp_path / "out").exists()


@pytest.mark.parametrize("when, code, at", [
    ("${{ true }}", "MLD652", "true"),                                    # always fires
    ("${{ serving.error_rate > 5% or 1 > 2 }}", "MLD652", "1 > 2"),      # a comparison of constants
    ("${{ serving.error_rate > 1% / 0 }}", "MLD512", "0"),               # division by zero
    ("${{ serving.error_rate / (2 - 2) > 1% }}", "MLD512", "2 - 2"),   # ... by a constant that is zero
    ("${{ serving.latency.p95 > 9223372036854775807ms * 2 }}", "MLD511", "9223372036854775807ms"),
    ("${{ serving.latency.p95 > 100000d * 1000 }}", "MLD512", "100000d * 1000"),
])
def test_alert_conditions_compile_refused_are_found_by_validate(capsys, tmp_path, when, code, at):
    spec = _spec(tmp_path, (ALERT, when))
    exit_code, output = run(capsys, "validate", spec, "--format", "concise")
    assert exit_code == 1 and codes_in(output) == [code], output
    line = MINIMAL[:MINIMAL.index(ALERT)].count("\n") + 1
    column = MINIMAL.splitlines()[line - 1].index(ALERT) + 1 + when.index(at)
    assert f"spec.yaml:{line}:{column}" in output, output


def test_a_rollout_analysis_that_never_holds_is_found_by_validate(capsys, tmp_path):
    spec = _spec(tmp_path, ("rollout: {strategy: direct}",
                            'rollout: {strategy: canary, steps: [50%, 100%], interval: 5m, analysis: "${{ false }}"}'))
    code, output = run(capsys, "validate", spec)
    assert code == 1 and codes_in(output) == ["MLD652"] and "a rollout's `analysis`" in output


def test_constant_expressions_in_run_are_folded_into_the_argument(capsys, tmp_path):
    spec = _spec(tmp_path, ("run: [python, -m, house_prices.prepare,",
                            'run: [python, -m, house_prices.prepare, "${{ not (false == true) }}", "${{ 5m + 30s }}", '
                            '"${{ [1, 2] }}", "${{ 2 * 10% }}",'))
    code, output = run(capsys, "compile", spec, "--out", str(tmp_path / "out"), "--target", "kubeflow")
    assert code == 0, output
    pipeline = (tmp_path / "out" / "kubeflow" / "pipeline.yaml").read_text()
    assert '- house_prices.prepare\n        - "true"\n        - "330s"\n        - "[1, 2]"\n        - "20%"\n' in pipeline


@pytest.mark.parametrize("old, new, code", [
    ("select: {kind: InferenceService, name: churn-api}", "select: {kind: InferenceService, name: churn-apj}",
     "MLD703"),
    ("{op: add, path: /concurrency,", "{op: replace, path: /no/such/place,", "MLD704"),
])
def test_validate_reports_what_patches_would_do_to_the_output(capsys, tmp_path, old, new, code):
    import shutil

    shutil.copytree(EXAMPLES / "churn", tmp_path / "churn")
    spec = tmp_path / "churn" / "churn.yaml"
    text = spec.read_text(encoding="utf-8")
    assert old in text
    spec.write_text(text.replace(old, new), encoding="utf-8")
    exit_code, output = run(capsys, "validate", str(spec), "--format", "concise")
    assert exit_code == 1 and codes_in(output) == [code], output
    patches = text[:text.index("\npatches:")].count("\n") + 2
    line = int(re.search(r"churn\.yaml:(\d+):\d+", output).group(1))
    assert patches < line <= text[:text.index(old)].count("\n") + 1 and len(output) < 1000, output


def test_constant_env_values_and_inputs_compile_as_their_text(capsys, tmp_path):
    # `${{ 2.5 }}` in env is known now (kubeflow refused it as a run-time value); a constant list given
    # as an input is one literal (kubeflow's DAG met a list expression and raised)
    outputs = "      outputs: {table: Dataset}      # a file the next steps can consume"
    spec = _spec(tmp_path, (outputs, outputs + '\n      env: {RATE: "${{ 2.5 }}"}'
                                                '\n      inputs: {sizes: "${{ [1, 2] }}"}'))
    assert run(capsys, "validate", spec) == (0, "")
    code, output = run(capsys, "compile", spec, "--out", str(tmp_path / "out"), "--target", "kubeflow")
    assert code == 0, output
    pipeline = (tmp_path / "out" / "kubeflow" / "pipeline.yaml").read_text()
    assert '- name: RATE\n          value: "2.5"\n' in pipeline
    assert "sizes:\n              runtimeValue:\n                constant:\n                - 1\n                - 2\n" in pipeline


def test_serving_without_a_name_is_a_schema_error_not_a_crash(capsys, tmp_path):
    spec = _spec(tmp_path, ("serving:\n  name: house-prices-api\n", "serving:\n"))
    for command in ("validate", "compile"):
        argv = [command, spec] + (["--out", str(tmp_path / "out")] if command == "compile" else [])
        code, output = run(capsys, *argv)
        assert code == 1 and "MLD202" in codes_in(output) and "missing required key 'name' in serving" in output
        assert f"spec.yaml:{MINIMAL.splitlines().index('serving:') + 1}:1" in output
    assert not (tmp_path / "out").exists()
