"""Type checking: types of expressions, unit errors with hints, contexts, whole values and templates."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from mlopsdsl.diagnostics import codes
from mlopsdsl.expr import CONTEXTS, TableScope, check, parse_value
from mlopsdsl.expr import types as t
from mlopsdsl.source import NodeInfo, Span

SCOPE = TableScope({
    ("params", "lr"): t.FLOAT, ("params", "depth"): t.INT, ("params", "min_accuracy"): t.FLOAT,
    ("params", "name"): t.STR, ("params", "quarters"): t.list_of(t.STR),
    ("env", "name"): t.STR, ("metadata", "version"): t.STR, ("model", "framework"): t.STR,
    ("data", "raw"): t.DATASET, ("data", "raw", "uri"): t.STR, ("data", "reference"): t.DATASET,
    ("inputs", "data"): t.DATASET, ("inputs", "data", "path"): t.STR, ("outputs", "raw", "path"): t.STR,
    ("steps", "train", "outputs", "model"): t.MODEL,
    ("steps", "evaluate", "outputs", "metrics"): t.metrics({"accuracy": t.FLOAT, "f1": t.FLOAT}),
    ("steps", "prep-data", "outputs", "table"): t.DATASET,
    ("item",): t.STR, ("drift", "score", "tenure"): t.FLOAT,
})


def run(value: str, context: str, scope=SCOPE):
    info = NodeInfo(Span("f.yaml", 1, 1, 1, 1 + len(value)), None, "", 0)
    parsed, diagnostics = parse_value(value, info, value)
    found, more = check(parsed, context, scope)
    return found, diagnostics + more


def codes_of(diagnostics):
    return [d.code for d in diagnostics]


@pytest.mark.parametrize("value, context, expected", [
    ("${{ steps.evaluate.outputs.metrics.accuracy >= params.min_accuracy }}", "step_when", t.BOOL),
    ("${{ serving.error_rate < 1% and serving.latency.p95 < 250ms }}", "rollout_analysis", t.BOOL),
    ("${{ drift.score > 0.2 or drift.score.tenure > 0.3 }}", "alert_when", t.BOOL),
    ("${{ steps.train.outputs.model }}", "serving_model", t.MODEL),
    ("${{ data.reference }}", "drift_reference", t.DATASET),
    ("${{ ['2024-Q1', '2024-Q2'] }}", "for_each", t.list_of(t.STR)),
    ("${{ params.quarters }}", "for_each", t.list_of(t.STR)),
    ("${{ params.lr }}", "run_arg", t.FLOAT),
    ("--src=${{ data.raw.uri }}", "run_arg", t.STR),
    ("${{ secrets.wandb }}", "step_env", t.SECRET),
    ("${{ secrets.wandb }}", "secret_ref", t.SECRET),
    ("s3://m/${{ metadata.version }}/", "text", t.STR),
    ("${{ steps.prep-data.outputs.table }}", "step_input", t.DATASET),
    ("${{ params.depth * 2 + 1 }}", "run_arg", t.INT),
    ("${{ params.depth / 2 }}", "run_arg", t.FLOAT),
    ("${{ params.lr + params.depth }}", "run_arg", t.FLOAT),
    ("${{ serving.latency.p95 * 2 > 1s + 500ms }}", "alert_when", t.BOOL),
    ("${{ serving.latency.p99 / serving.latency.p50 > 3 }}", "alert_when", t.BOOL),
    ("${{ serving.replicas >= 2 and serving.rps > 10.5 }}", "alert_when", t.BOOL),
    ("${{ not (item == 'x') }}", "step_when", t.BOOL),
    ("${{ -serving.latency.p95 < -1s }}", "alert_when", t.BOOL),
    ("plain text, no expression", "text", t.STR),
])
def test_valid_expressions_have_their_type(value, context, expected):
    found, diagnostics = run(value, context)
    assert diagnostics == []
    assert found == expected


@pytest.mark.parametrize("value, context, hint", [
    ("${{ serving.latency.p95 < 250 }}", "alert_when", "write `250ms`"),
    ("${{ serving.error_rate > 1 }}", "alert_when", "write `1%`"),
    ("${{ serving.error_rate > 0.05 }}", "alert_when", "write `5%` if 0.05 is a fraction, or `0.05%`"),
    ("${{ 250 > serving.latency.p95 }}", "alert_when", "write `250ms`"),
    ("${{ serving.latency.p95 + 1 > 1s }}", "alert_when", "write `1ms`"),
    ("${{ serving.latency.p95 > serving.rps }}", "alert_when", "`serving.rps * 1ms`"),
])
def test_units_must_agree_and_the_hint_is_the_literal(value, context, hint):
    _, diagnostics = run(value, context)
    assert codes_of(diagnostics) == [codes.EXPR_UNIT_MISMATCH]
    assert hint in diagnostics[0].hint


def test_unit_error_points_at_the_bare_number():
    value = "${{ serving.latency.p95 < 250 }}"
    _, (diagnostic,) = run(value, "alert_when")
    assert diagnostic.span.col == value.index("250") + 1
    assert diagnostic.span.end_col == value.index("250") + 4


@pytest.mark.parametrize("value, context, code, words", [
    ("${{ serving.latency.p95 > 1s }}", "step_when", codes.EXPR_NAME_NOT_ALLOWED,
     "cannot be used in a step's `when`; allowed here: params, env, item, steps.S.outputs.O.F"),
    ("${{ steps.train.outputs.model }}", "alert_when", codes.EXPR_NAME_NOT_ALLOWED, "an alert's `when`"),
    ("${{ params.lr > 1 }}", "alert_when", codes.EXPR_NAME_NOT_ALLOWED, "params"),
    ("--key=${{ secrets.x }}", "run_arg", codes.EXPR_NAME_NOT_ALLOWED, "a step's `run`"),
    ("${{ data.raw.uri }}", "step_input", codes.EXPR_NAME_NOT_ALLOWED, "steps.S.outputs.O, data.X"),
    ("${{ parmas.lr > 1 }}", "step_when", codes.EXPR_UNKNOWN_NAME, "unknown name 'parmas'"),
    ("${{ serving.latency.p96 > 1s }}", "alert_when", codes.EXPR_UNKNOWN_NAME, "serving.latency.p96"),
    ("${{ params.lrate > 1 }}", "step_when", codes.EXPR_UNKNOWN_NAME, "`params` has no 'lrate'"),
    ("${{ steps.evaluate.outputs.metrics.acc > 1 }}", "step_when", codes.EXPR_UNKNOWN_NAME, "no field 'acc'"),
])
def test_names_outside_their_context_or_unknown(value, context, code, words):
    _, diagnostics = run(value, context)
    assert codes_of(diagnostics) == [code]
    assert words in diagnostics[0].message


@pytest.mark.parametrize("value, context, hint", [
    ("${{ parmas.lr > 1 }}", "step_when", "did you mean 'params'?"),
    ("${{ serving.latency.p96 > 1s }}", "alert_when", "did you mean 'serving.latency.p9"),
    ("${{ serving.eror_rate > 1% }}", "alert_when", "did you mean 'serving.error_rate'?"),
    ("${{ params.min_acuracy > 1 }}", "step_when", "did you mean 'min_accuracy'?"),
    ("${{ steps.train.outputs.modle }}", "serving_model", "did you mean 'model'?"),
])
def test_did_you_mean(value, context, hint):
    _, (diagnostic,) = run(value, context)
    assert diagnostic.hint.startswith(hint)


def test_unknown_step_underlines_up_to_the_bad_part():
    value = "${{ steps.trian.outputs.model }}"
    _, (diagnostic,) = run(value, "serving_model")
    assert diagnostic.span.col == value.index("steps") + 1
    assert diagnostic.span.end_col == value.index(".outputs") + 1
    assert diagnostic.hint == "did you mean 'train'?"


@pytest.mark.parametrize("value, context, code", [
    ("${{ params.name < 'b' }}", "step_when", codes.EXPR_TYPE_MISMATCH),
    ("${{ params.name == 1 }}", "step_when", codes.EXPR_TYPE_MISMATCH),
    ("${{ params.lr and true }}", "step_when", codes.EXPR_TYPE_MISMATCH),
    ("${{ not params.depth }}", "step_when", codes.EXPR_TYPE_MISMATCH),
    ("${{ steps.train.outputs.model == 1 }}", "step_when", codes.EXPR_TYPE_MISMATCH),
    ("${{ params.name + 'x' == 'y' }}", "step_when", codes.EXPR_TYPE_MISMATCH),
    ("${{ serving.latency.p95 * serving.latency.p50 > 1s }}", "alert_when", codes.EXPR_TYPE_MISMATCH),
    ("${{ [1, 'a'] }}", "for_each", codes.EXPR_TYPE_MISMATCH),
    ("${{ steps.prep-data.outputs.table }}", "serving_model", codes.EXPR_TYPE_MISMATCH),
    ("${{ params.lr }}", "for_each", codes.EXPR_TYPE_MISMATCH),
    ("${{ params.lr }}", "step_when", codes.EXPR_NOT_BOOL),
    ("${{ serving.error_rate }}", "alert_when", codes.EXPR_NOT_BOOL),
    ("--in=${{ inputs.data }}", "run_arg", codes.EXPR_NOT_SCALAR),
    ("${{ inputs.data }}", "run_arg", codes.EXPR_NOT_SCALAR),
    ("Bearer ${{ secrets.token }}", "step_env", codes.EXPR_NOT_SCALAR),
    ("x ${{ params.lr > 1 }}", "step_when", codes.EXPR_WHOLE_REQUIRED),
    ("steps.train.outputs.model", "serving_model", codes.EXPR_WHOLE_REQUIRED),
])
def test_type_errors(value, context, code):
    _, diagnostics = run(value, context)
    assert code in codes_of(diagnostics)


def test_one_mistake_one_diagnostic():
    _, diagnostics = run("${{ params.nope + 1 > 2 and params.nope2 }}", "step_when")
    assert codes_of(diagnostics) == [codes.EXPR_UNKNOWN_NAME, codes.EXPR_UNKNOWN_NAME]


def test_syntax_error_is_reported_once_and_not_type_checked():
    _, diagnostics = run("${{ params.lr > }}", "step_when")
    assert codes_of(diagnostics) == [codes.EXPR_SYNTAX]


def test_hyphenated_unknown_name_suggests_spaces_for_subtraction():
    _, (diagnostic,) = run("${{ params.lr-min > 1 }}", "step_when")
    assert "put spaces around '-'" in diagnostic.hint


def test_types_assignability_and_unification():
    assert t.assignable(t.INT, t.FLOAT) and not t.assignable(t.FLOAT, t.INT)
    assert t.assignable(t.MODEL, t.ARTIFACT) and not t.assignable(t.MODEL, t.DATASET)
    assert t.assignable(t.metrics({"a": t.FLOAT}), t.METRICS)
    assert t.unify(t.INT, t.FLOAT) == t.FLOAT and t.unify(t.UNKNOWN, t.STR) == t.STR
    assert t.unify(t.MODEL, t.DATASET) == t.ARTIFACT and t.unify(t.STR, t.INT) is None
    assert t.from_name("list[Dataset]") == t.list_of(t.DATASET) and t.from_name("nope") is None


def test_every_context_has_a_description_and_patterns():
    for key, context in CONTEXTS.items():
        assert context.key == key and context.patterns and context.allowed and context.what


_ALPHABET = st.sampled_from(list("abp.s_-'\"\\()[],<>=!+*/%$ {}0159msGi\n") + ["and", "or", "not", "${{", "}}"])



@settings(max_examples=400, deadline=None)
@given(st.lists(_ALPHABET, max_size=30).map("".join), st.sampled_from(sorted(CONTEXTS)))
def test_any_text_is_rejected_or_typed_never_a_crash(value, context):
    found, diagnostics = run(value, context)
    assert isinstance(found, t.Type)
    for diagnostic in diagnostics:
        assert diagnostic.span.line >= 1 and diagnostic.span.col >= 1
