"""What a user reads when the schema refuses a spec: code, line:col and the words."""

from __future__ import annotations

import pytest

from mlopsdsl import schema
from mlopsdsl.loader import load_text

HEAD = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata:
  name: churn
"""


def diagnose(body: str, head: str = HEAD) -> list[tuple[str, str, str, str | None]]:
    """(code, 'line:col', message, hint) for each diagnostic, in reading order."""
    document, problems = load_text(head + body, "spec.yaml")
    assert document is not None, problems
    found = sorted(schema.validate(document), key=lambda d: (d.span.line, d.span.col))
    return [(d.code.code, f"{d.span.line}:{d.span.col}", d.message, d.hint) for d in found]


def only(body: str, head: str = HEAD) -> tuple[str, str, str, str | None]:
    found = diagnose(body, head)
    assert len(found) == 1, found
    return found[0]


def test_valid_spec_has_no_diagnostics():
    assert diagnose("model: {framework: xgboost}\n") == []


def test_unknown_key_points_at_the_key_and_suggests():
    code, where, message, hint = only("model:\n  name: churn\n  framwork: xgboost\n")
    assert (code, where) == ("MLD201", "7:3")
    assert message == "unknown key 'framwork' in model; did you mean 'framework'?"
    assert hint == "allowed here: description, framework, name, task"


def test_unknown_top_level_key():
    code, where, message, _ = only("pipline:\n  steps: {}\n")
    assert (code, where) == ("MLD201", "5:1")
    assert message == "unknown key 'pipline' in the top level; did you mean 'pipeline'?"


def test_unknown_key_without_a_close_match_lists_the_allowed_keys():
    code, where, message, hint = only("tracking:\n  comet: {project: x}\n")
    assert (code, where, message) == ("MLD201", "6:3", "unknown key 'comet' in tracking")
    assert hint == "allowed here: mlflow, wandb"


def test_on_exit_explains_why_when_is_refused():
    body = "pipeline:\n  steps:\n    a: {run: [x]}\n  on_exit:\n    run: [y]\n    when: '${{ true }}'\n"
    code, where, message, hint = only(body)
    assert (code, where, message) == ("MLD201", "10:5", "unknown key 'when' in pipeline.on_exit")
    assert "no when" in hint


def test_wrong_enum_lists_the_allowed_values():
    code, where, message, hint = only("model:\n  framework: xgbost\n")
    assert (code, where) == ("MLD204", "6:14")
    assert message == ("'xgbost' is not allowed for model.framework; expected one of: sklearn, xgboost, "
                       "lightgbm, pytorch, tensorflow, onnx, huggingface, triton, custom")
    assert hint == "did you mean 'xgboost'?"


def test_wrong_type_in_user_words():
    body = "pipeline:\n  steps:\n    a:\n      run: [x]\n      resources: [cpu, memory]\n"
    assert only(body)[:3] == ("MLD203", "9:18", "pipeline.steps.a.resources: expected a mapping, found a list")


def test_number_where_text_is_expected_says_to_quote_it():
    code, where, message, hint = only("ci:\n  github:\n    python: 3.10\n")
    assert (code, where, message) == ("MLD203", "7:13", "ci.github.python: expected text, found a number (3.1)")
    assert hint == 'quote it: "3.10"'


def test_empty_value_is_named():
    assert only("model:\n")[:3] == ("MLD203", "5:7", "model: expected a mapping, found nothing (an empty value)")


def test_missing_required_key_points_at_the_parent_key():
    code, where, message, _ = only("metadata:\n  version: 1.0.0\n", head="apiVersion: mlopsdsl/v1\nkind: Project\n")
    assert (code, where, message) == ("MLD202", "3:1", "missing required key 'name' in metadata")


def test_missing_required_keys_are_named_together():
    code, where, message, _ = only("data:\n  raw:\n    dvc: {rev: v3}\n")
    assert (code, where, message) == ("MLD202", "7:5", "missing required keys 'repo', 'path' in data.raw.dvc")


def test_step_needs_run_or_uses():
    body = "pipeline:\n  steps:\n    report:\n      after: [a]\n"
    assert only(body)[:3] == ("MLD202", "7:5", "missing 'run' or 'uses' in pipeline.steps.report")


def test_step_with_both_run_and_uses():
    body = "pipeline:\n  steps:\n    a:\n      run: [x]\n      uses: ./c.yaml\n"
    assert only(body)[:3] == ("MLD207", "9:7", "pipeline.steps.a has both 'run' and 'uses'; use exactly one of "
                                               "'run' or 'uses'")


def test_params_need_uses():
    body = "pipeline:\n  steps:\n    a:\n      run: [x]\n      params: {depth: 6}\n"
    assert only(body)[:3] == ("MLD202", "9:7", "'params' is only allowed together with 'uses'")


@pytest.mark.parametrize("line, expected", [
    ("memory: 8GB", "'8GB' is not a memory quantity; use e.g. 8Gi or 512Mi"),
    ("cpu: 2 cores", "'2 cores' is not a cpu quantity; use e.g. 500m or 2"),
])
def test_quantity_format(line: str, expected: str):
    code, where, message, _ = only(f"defaults:\n  resources:\n    {line}\n")
    assert (code, where, message) == ("MLD205", f"7:{5 + line.index(':') + 2}", expected)


def test_duration_format():
    body = "pipeline:\n  steps:\n    a:\n      run: [x]\n      timeout: 2 hours\n"
    assert only(body)[:3] == ("MLD205", "9:16", "'2 hours' is not a duration; use e.g. 30s, 5m, 2h or 1h30m")


def test_bad_name_points_at_the_key():
    body = "pipeline:\n  steps:\n    Train:\n      run: [x]\n"
    code, where, message, _ = only(body)
    assert (code, where) == ("MLD205", "7:5")
    assert message == "'Train' is not a step name (lowercase letters, digits, '_', '-'); use e.g. train_model"


def test_expression_required():
    body = "pipeline:\n  steps:\n    a:\n      run: [x]\n      when: params.x > 1\n"
    code, where, message, _ = only(body)
    assert (code, where) == ("MLD205", "9:13")
    assert message.startswith("'params.x > 1' is not a whole-value expression; use e.g.")


def test_numbers_out_of_range():
    body = "pipeline:\n  steps:\n    a:\n      run: [x]\n      parallelism: 0\n"
    assert only(body)[:3] == ("MLD206", "9:20", "pipeline.steps.a.parallelism: 0 is too small; the minimum is 1")


def test_name_too_long():
    long = "a" * 41
    code, where, message, _ = only("", head=f"apiVersion: mlopsdsl/v1\nkind: Project\nmetadata:\n  name: {long}\n")
    assert (code, where, message) == ("MLD206", "4:9", f"metadata.name: '{long}' is longer than 40 characters")


def test_empty_list():
    body = "pipeline:\n  steps:\n    a:\n      run: []\n"
    assert only(body)[:3] == ("MLD206", "8:12", "pipeline.steps.a.run needs at least 1 item")


def test_alternatives_report_the_branch_that_fits():
    body = "pipeline:\n  steps:\n    a:\n      run: [x]\n      retries: {count: 3, backof: 30s}\n"
    code, where, message, _ = only(body)
    assert (code, where) == ("MLD201", "9:27")
    assert message == "unknown key 'backof' in pipeline.steps.a.retries; did you mean 'backoff'?"


def test_alternatives_that_none_fit_are_listed_in_words():
    body = "pipeline:\n  steps:\n    a:\n      run: [x]\n      for_each: {quarters: 4}\n"
    code, where, message, _ = only(body)
    assert (code, where) == ("MLD207", "9:17")
    assert message == ("pipeline.steps.a.for_each: expected one of: an expression ${{ ... }}, or a list of values or of mappings; "
                       "found a mapping")
    assert "anyOf" not in message


def test_data_source_with_uri_and_dvc():
    body = "data:\n  raw:\n    uri: s3://x/\n    dvc: {repo: r, path: p}\n"
    assert only(body)[:3] == ("MLD207", "8:5", "data.raw has both 'uri' and 'dvc'; use exactly one of 'uri' or 'dvc'")


@pytest.mark.parametrize("head, where, message", [
    ("apiVersion: mlopsdsl/v2\nkind: Project\nmetadata: {name: a}\n", "1:13",
     "unknown apiVersion 'mlopsdsl/v2'; this version of mlopsdsl reads mlopsdsl/v1"),
    ("apiVersion: mlopsdsl/v1\nkind: Pipeline\nmetadata: {name: a}\n", "2:7",
     "unknown kind 'Pipeline'; this version of mlopsdsl reads Project or Component"),
])
def test_api_version_and_kind(head: str, where: str, message: str):
    assert only("", head=head)[:3] == ("MLD208", where, message)


def test_missing_api_version():
    code, where, message, _ = only("", head="kind: Project\nmetadata: {name: a}\n")
    assert (code, where) == ("MLD208", "1:1")
    assert message.startswith("missing 'apiVersion'")


def test_component_is_checked_as_a_component():
    head = "apiVersion: mlopsdsl/v1\nkind: Component\nmetadata: {name: reg}\nrun: [x]\n"
    assert only("steps: {}\n", head=head)[:3] == ("MLD201", "5:1", "unknown key 'steps' in the top level")


def test_every_error_of_a_file_once_per_place():
    body = ("model: {framwork: xgboost, task: clasification}\n"
            "defaults: {resources: {memory: 8GB}, timeout: soon}\n"
            "monitoring:\n  alerts:\n    - nmae: HighLatency\n      when: '${{ x }}'\n")
    found = diagnose(body)
    assert [(c, w) for c, w, _, _ in found] == [
        ("MLD201", "5:9"), ("MLD204", "5:34"), ("MLD205", "6:32"), ("MLD205", "6:47"), ("MLD201", "9:7")]


def test_messages_never_show_python_reprs():
    body = "pipeline:\n  steps:\n    a:\n      run: [x]\n      retries: [1, 2, 3]\n      env: {A: {b: 1}}\n"
    for _, _, message, _ in diagnose(body):
        assert "{'" not in message and "['" not in message and "anyOf" not in message and len(message) < 160
