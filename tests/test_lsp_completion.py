"""Completion through `mlopsdsl lsp`: inside `${{ }}` the names the checker accepts there, with types;
under `environments.X.set:` the spec's dotted paths; in `after:` the steps."""

from __future__ import annotations

import pytest
from lsprotocol import types
from lsp_editor import CLEAN, apply, editor, position_of  # noqa: F401 - editor is a fixture


def _labels(items: list[types.CompletionItem]) -> list[str]:
    return [i.label for i in items]


def _typing(editor, tmp_path, name: str, old: str, new: str, *, cursor_after: str) -> list[types.CompletionItem]:
    """Replace `old` by `new` in the clean spec (one edit, as typing does), then complete right after
    `cursor_after` (found in the new text)."""
    uri = editor.open(tmp_path / f"{name}.yaml", CLEAN)
    line, character = position_of(CLEAN, old)
    editor.edit(uri, line, character, line + old.count("\n"), len(old.rsplit("\n", 1)[-1]) if "\n" in old
                else character + len(old), new)
    text = CLEAN.replace(old, new, 1)
    line, character = position_of(text, cursor_after, after=new, delta=len(cursor_after))
    return editor.complete(uri, line, character)


@pytest.fixture(scope="module")
def clean(editor, tmp_path_factory):
    uri = editor.open(tmp_path_factory.mktemp("completion") / "clean.yaml", CLEAN)
    assert editor.diagnostics(uri, 1) == []
    return uri


def at(editor, uri, needle, delta=None, after=""):
    line, character = position_of(CLEAN, needle, after=after, delta=len(needle) if delta is None else delta)
    return editor.complete(uri, line, character)


def test_a_steps_when_offers_its_roots_and_nothing_it_would_refuse(editor, clean):
    items = at(editor, clean, '"${{ ', after="register:")
    # step_when admits params, env, item (in a loop only) and steps.S.outputs.O(.F): no data, no serving
    assert set(_labels(items)) == {"params", "env", "steps"}
    assert all(i.kind == types.CompletionItemKind.Module for i in items)


def test_step_outputs_and_metrics_fields_come_with_their_types(editor, clean):
    items = at(editor, clean, "${{ steps.", after="register:")
    assert _labels(items) == ["train"]  # register has no outputs: nothing under it to reach
    items = at(editor, clean, "${{ steps.train.outputs.", after="register:")
    assert {(i.label, i.detail) for i in items} == {("model", "Model"), ("metrics", "Metrics {accuracy: float}")}
    items = at(editor, clean, "${{ steps.train.outputs.metrics.", after="register:")
    assert [(i.label, i.detail) for i in items] == [("accuracy", "float")]


def test_the_partial_word_is_replaced(editor, clean):
    line, character = position_of(CLEAN, "${{ steps.train.outputs.metrics.acc", after="register:",
                                  delta=len("${{ steps.train.outputs.metrics.acc"))
    [item] = editor.complete(clean, line, character)
    assert item.label == "accuracy"
    assert item.text_edit.range == types.Range(types.Position(line, character - 3), types.Position(line, character))


def test_params_show_their_type_default_and_description(editor, clean):
    items = at(editor, clean, ">= params.", after="register:")
    assert {(i.label, i.detail) for i in items} == {("lr", "float"), ("min_accuracy", "float")}
    lr = next(i for i in items if i.label == "lr")
    assert "learning rate" in lr.documentation.value and "default `0.1`" in lr.documentation.value


def test_a_run_argument_sees_data_inputs_and_its_own_outputs(editor, clean):
    roots = set(_labels(at(editor, clean, '"${{ ', after="--data, ")))
    assert roots == {"params", "data", "metadata", "model", "env", "outputs"}  # train has no inputs
    assert {i.label for i in at(editor, clean, "${{ outputs.", after="--model, ")} == {"model", "metrics"}
    outputs = at(editor, clean, "${{ outputs.model.", after="--model, ")
    assert {(i.label, i.detail) for i in outputs} == {("path", "str"), ("uri", "str")}
    data = at(editor, clean, "${{ data.raw.", after="--data, ")
    assert [(i.label, i.detail) for i in data] == [("uri", "str")]
    inputs = at(editor, clean, "${{ inputs.", after="churn.register")
    assert [(i.label, i.detail) for i in inputs] == [("model", "Model")]


def test_serving_names_in_alerts_and_the_analysis(editor, clean):
    roots = set(_labels(at(editor, clean, '"${{ ', after="alerts:")))
    assert roots == {"serving", "drift"}
    latency = at(editor, clean, "${{ serving.latency.", after="alerts:")
    assert {(i.label, i.detail) for i in latency} == {(q, "duration") for q in ("p50", "p90", "p95", "p99")}
    serving = {(i.label, i.detail) for i in at(editor, clean, "${{ serving.", after="analysis:")}
    assert ("error_rate", "percent") in serving and ("rps", "float") in serving


def test_completion_works_in_a_buffer_that_does_not_parse_yet(editor, tmp_path):
    # a new step being written: the quote of its `when` is not closed, so the YAML does not load
    new = '    evaluate:\n      image: x\n      when: "${{ steps.train.outputs.'
    items = _typing(editor, tmp_path, "unclosed", "serving:\n", new + "\nserving:\n",
                    cursor_after="when: \"${{ steps.train.outputs.")
    assert {i.label for i in items} == {"model", "metrics"}


def test_a_secret_in_a_step_env_offers_the_secrets_the_spec_names(editor, tmp_path):
    env = '      env: {TOKEN: "${{ secrets.hf_token }}", KEY: "${{ secrets. }}"}\n'
    text = CLEAN.replace("      after: [train]\n", "      after: [train]\n" + env)
    uri = editor.open(tmp_path / "secrets.yaml", text)
    line, character = position_of(text, "${{ secrets. }}", delta=len("${{ secrets."))
    items = editor.complete(uri, line, character)
    assert [(i.label, i.detail) for i in items] == [("hf_token", "secret")]


def test_under_set_the_spec_paths_with_their_types(editor, tmp_path):
    text = CLEAN.replace("      params.min_accuracy.default: 0.9\n",
                         "      params.min_accuracy.default: 0.9\n      serving.rollout.\n")
    uri = editor.open(tmp_path / "set.yaml", text)
    line, character = position_of(text, "      serving.rollout.", delta=len("      serving.rollout."))
    result = editor.run(editor.client.text_document_completion_async(types.CompletionParams(
        text_document=types.TextDocumentIdentifier(uri), position=types.Position(line, character))))
    found = {i.label: i.detail for i in result.items}
    assert found["serving.rollout.steps"] and found["serving.rollout.interval"] == "Duration"
    assert "serving.rollout.analysis" in found and "serving.name" not in found
    steps = next(i for i in result.items if i.label == "serving.rollout.steps")
    assert "now: `['10%', '50%', '100%']`" in steps.documentation.value
    assert steps.text_edit.range.start.character == 6  # the whole typed key is replaced


def test_under_set_an_empty_line_offers_the_top_sections_and_leaves_out_what_is_set(editor, tmp_path):
    text = CLEAN.replace("      params.min_accuracy.default: 0.9\n",
                         "      params.min_accuracy.default: 0.9\n      \n")
    uri = editor.open(tmp_path / "set-empty.yaml", text)
    line, _ = position_of(text, "      \n")
    found = {i.label: i.detail for i in editor.complete(uri, line, 6)}
    assert {"params", "pipeline", "serving", "params.lr", "serving.rollout"} <= set(found)
    assert "metadata.name" not in found  # an environment cannot rename the project
    assert not any(label.startswith("environments") for label in found)


def test_after_offers_the_other_steps(editor, tmp_path):
    text = CLEAN.replace("      after: [train]\n", "      after: []\n")
    uri = editor.open(tmp_path / "after.yaml", text)
    line, character = position_of(text, "after: [", delta=len("after: ["))
    items = editor.complete(uri, line, character)
    assert [(i.label, i.detail) for i in items] == [("train", "step -> model: Model, metrics: Metrics")]


def test_outside_expressions_and_special_places_the_server_answers_nothing(editor, clean):
    # yaml-language-server completes keys and enums from the schema: offering them too would double them
    assert at(editor, clean, "strategy: ", after="rollout:") == []
    assert at(editor, clean, "image: ", after="train:") == []


def test_a_completion_applied_makes_a_valid_spec(editor, tmp_path):
    text = CLEAN.replace("${{ steps.train.outputs.metrics.accuracy >=", "${{ steps.train.outputs.metrics.acc >=")
    uri = editor.open(tmp_path / "apply.yaml", text)
    assert [d.code for d in editor.diagnostics(uri, 1)] == ["MLD303"]
    line, character = position_of(text, "metrics.acc", delta=len("metrics.acc"))
    [item] = editor.complete(uri, line, character)
    version = editor.replace(uri, apply(text, [item.text_edit]))
    assert editor.diagnostics(uri, version) == []


def test_a_loop_item_with_fields_offers_them(editor, tmp_path):
    loop = ('    shard:\n      image: ghcr.io/acme/churn:1.4.0\n'
            '      for_each: [{region: eu, size: 1}, {region: us, size: 2}]\n'
            '      run: [python, -m, shard, "${{ item.region }}", "${{ item. }}"]\nserving:\n')
    text = CLEAN.replace("serving:\n", loop, 1)
    uri = editor.open(tmp_path / "loop.yaml", text)
    line, character = position_of(text, "${{ item. }}", delta=len("${{ item."))
    assert {(i.label, i.detail) for i in editor.complete(uri, line, character)} == {("region", "str"), ("size", "int")}
    line, character = position_of(text, '"${{ ', after="shard:", delta=len('"${{ '))
    assert "item" in {i.label for i in editor.complete(uri, line, character)}
    line, character = position_of(text, '"${{ ', after="register:", delta=len('"${{ '))
    assert "item" not in {i.label for i in editor.complete(uri, line, character)}  # register does not loop
