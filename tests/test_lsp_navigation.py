"""Hover, go to definition, find references and the outline through `mlopsdsl lsp`."""

from __future__ import annotations

import pytest
from lsprotocol import types
from lsp_editor import CLEAN, editor, position_of  # noqa: F401 - editor is a fixture


@pytest.fixture(scope="module")
def spec(editor, tmp_path_factory):
    path = tmp_path_factory.mktemp("navigation") / "clean.yaml"
    uri = editor.open(path, CLEAN)
    assert editor.diagnostics(uri, 1) == []
    return uri


def _line_of(needle: str, after: str = "") -> int:
    return position_of(CLEAN, needle, after=after)[0]


def _key(name: str, after: str = "") -> types.Position:
    line, character = position_of(CLEAN, name + ":", after=after)
    return types.Position(line, character)


def test_hover_on_a_reference_gives_its_type_and_where_it_is_defined(editor, spec):
    line, character = position_of(CLEAN, "steps.train.outputs.model", after="serving:", delta=22)
    hover = editor.hover(spec, line, character)
    assert hover.contents.kind == types.MarkupKind.Markdown
    text = hover.contents.value
    assert text.startswith("`steps.train.outputs.model`: Model")
    assert f"defined at clean.yaml:{_line_of('outputs: {model', after='train:') + 1}:" in text
    # the range covers the name up to the part under the cursor
    start = position_of(CLEAN, "steps.train.outputs.model", after="serving:")[1]
    assert (hover.range.start.character, hover.range.end.character) == (start, start + len("steps.train.outputs.model"))


def test_hover_on_a_built_in_name_and_on_a_param(editor, spec):
    line, character = position_of(CLEAN, "serving.latency.p95", after="alerts:", delta=17)
    text = editor.hover(spec, line, character).contents.value
    assert text.startswith("`serving.latency.p95`: duration") and "95th percentile" in text
    line, character = position_of(CLEAN, "params.lr", after="--lr", delta=8)
    text = editor.hover(spec, line, character).contents.value
    assert text.startswith("`params.lr`: float") and "learning rate" in text and "default `0.1`" in text


def test_hover_on_a_set_key_says_what_it_replaces(editor, spec):
    line, character = position_of(CLEAN, "params.min_accuracy.default:", delta=3)
    text = editor.hover(spec, line, character).contents.value
    assert text.startswith("`params.min_accuracy.default`") and "replaces `0.85`" in text


@pytest.mark.parametrize("needle, after, delta, defined_at", [
    ("steps.train", "register:", 7, ("train:", "steps:")),  # a step, from a `when`
    ("params.min_accuracy", "register:", 10, ("min_accuracy:", "")),  # a param
    ("data.raw.uri", "train:", 6, ("raw:", "data:")),  # a data source
    ("inputs.model.path", "register:", 8, ("model:", "inputs: {")),  # a step's input, from its own run
    ("outputs.model.path", "train:", 9, ("model:", "outputs: {")),  # a step's own output
    ("steps.train.outputs.metrics.accuracy", "register:", 30, ("accuracy:", "fields: {")),  # a metrics field
    ("[train]", "after:", 1, ("train:", "steps:")),  # a step named in `after`
])
def test_definition(editor, spec, needle, after, delta, defined_at):
    line, character = position_of(CLEAN, needle, after=after, delta=delta)
    [found] = editor.definition(spec, line, character)
    assert found.uri == spec
    key, key_after = defined_at
    assert found.range.start == _key(key.rstrip(":"), key_after)


def test_definition_of_a_set_key_is_the_field_it_replaces(editor, spec):
    line, character = position_of(CLEAN, "params.min_accuracy.default:", delta=15)
    [found] = editor.definition(spec, line, character)
    assert found.range.start == types.Position(*position_of(CLEAN, "default", after="min_accuracy:"))


def test_references_of_a_param_include_expressions_and_set_keys(editor, spec):
    line, character = position_of(CLEAN, "min_accuracy:")
    found = editor.references(spec, line, character + 2)
    starts = sorted((loc.range.start.line, loc.range.start.character) for loc in found)
    assert starts == sorted([
        position_of(CLEAN, "min_accuracy:"),
        position_of(CLEAN, "params.min_accuracy", after="register:"),
        position_of(CLEAN, "params.min_accuracy.default"),
    ])
    without = editor.references(spec, line, character + 2, declaration=False)
    assert len(without) == 2


def test_references_of_an_output_include_its_own_step_and_consumers(editor, spec):
    line, character = position_of(CLEAN, "outputs.model.path", after="train:", delta=9)
    found = editor.references(spec, line, character, declaration=False)
    covered = sorted((loc.range.start.line, loc.range.start.character, loc.range.end.character) for loc in found)
    own = position_of(CLEAN, "outputs.model.path", after="train:")
    consumer = position_of(CLEAN, "steps.train.outputs.model", after="inputs: {")
    serving = position_of(CLEAN, "steps.train.outputs.model", after="serving:")
    assert covered == sorted([(own[0], own[1], own[1] + len("outputs.model")),
                              (consumer[0], consumer[1], consumer[1] + len("steps.train.outputs.model")),
                              (serving[0], serving[1], serving[1] + len("steps.train.outputs.model"))])


def test_references_of_a_step_from_its_key(editor, spec):
    line, character = position_of(CLEAN, "train:", after="steps:")
    found = editor.references(spec, line, character + 1, declaration=False)
    lines = sorted(loc.range.start.line for loc in found)
    # register's when, its input, `after: [train]`, serving.model
    assert lines == sorted([_line_of("steps.train", "register:"), _line_of("steps.train", "inputs: {"),
                            _line_of("[train]"), _line_of("steps.train", "serving:")])


def test_the_outline_lists_params_steps_with_outputs_and_alerts(editor, spec):
    symbols = {s.name: s for s in editor.symbols(spec)}
    assert list(symbols) == ["params", "data", "pipeline", "serving", "monitoring", "environments"]
    assert [(c.name, c.detail) for c in symbols["params"].children] == [("lr", "float = 0.1"),
                                                                        ("min_accuracy", "float = 0.85")]
    steps = symbols["pipeline"].children
    assert [s.name for s in steps] == ["train", "register"]
    assert [(o.name, o.detail) for o in steps[0].children] == [("model", "Model"), ("metrics", "Metrics")]
    assert steps[0].selection_range.start == _key("train", "steps:")
    assert [(a.name, a.kind) for a in symbols["monitoring"].children] == [("HighLatency", types.SymbolKind.Event)]
    assert [e.name for e in symbols["environments"].children] == ["staging", "prod"]
