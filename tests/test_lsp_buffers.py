"""The editor's buffers are the truth: an unsaved component changes what its specs report, and a
component open on its own is checked against its schema and gets its names completed."""

from __future__ import annotations

import pytest
from lsp_editor import editor, position_of  # noqa: F401 - editor is a fixture

SPEC = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: churn, version: 1.4.0}
model: {name: churn-classifier, task: classification, framework: xgboost}
pipeline:
  steps:
    train:
      uses: ./components/train.yaml
    publish:
      image: ghcr.io/acme/churn:1.4.0
      run: [python, -m, publish, "${{ inputs.model.path }}"]
      inputs: {model: "${{ steps.train.outputs.model }}"}
"""

COMPONENT = """\
apiVersion: mlopsdsl/v1
kind: Component
metadata: {name: train, version: 0.1.0}
image: ghcr.io/acme/train:0.1.0
run: [python, -m, train, --out, "${{ outputs.model.path }}"]
outputs:
  model: Model
"""


@pytest.fixture
def project(tmp_path):
    (tmp_path / "components").mkdir()
    (tmp_path / "components" / "train.yaml").write_text(COMPONENT, encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(SPEC, encoding="utf-8")
    return tmp_path


def test_an_unsaved_component_is_what_its_spec_is_checked_against(editor, project):
    spec = editor.open(project / "spec.yaml")
    assert editor.diagnostics(spec, 1) == []
    component = editor.open(project / "components" / "train.yaml")
    assert editor.diagnostics(component, 1) == []
    published = editor.count(spec)
    # rename the output in the component's buffer, without saving: the spec's reference breaks
    line, character = position_of(COMPONENT, "model: Model")
    editor.edit(component, line, character, line, character + len("model"), "weights")
    found = editor.next_diagnostics(spec, published)
    assert [d.code for d in found] == ["MLD302"]
    assert found[0].range.start.line == position_of(SPEC, "steps.train.outputs.model")[0]
    assert "known here: weights" in found[0].message
    # closing the buffer unsaved: the spec reads the disk again, where the output is still `model`
    published = editor.count(spec)
    editor.close_document(component)
    assert editor.next_diagnostics(spec, published) == []


def test_a_mistake_inside_a_component_is_shown_in_the_component(editor, project):
    broken = COMPONENT.replace("image: ghcr.io/acme/train:0.1.0", "image: ghcr.io/acme/train:0.1.0\nretries: lots")
    (project / "components" / "train.yaml").write_text(broken, encoding="utf-8")
    spec = editor.open(project / "spec.yaml")
    component_uri = (project / "components" / "train.yaml").resolve().as_uri()
    editor.diagnostics(spec, 1)
    found = editor.diagnostics(component_uri)  # published for the component though only the spec is open
    assert len(found) == 1 and found[0].code.startswith("MLD2")
    assert found[0].range.start.line == position_of(broken, "lots")[0]


def test_completion_in_a_component_offers_its_own_inputs_and_outputs(editor, project):
    text = COMPONENT.replace('"${{ outputs.model.path }}"', '"${{ outputs.model.path }}", "${{ outputs. }}"')
    uri = editor.open(project / "components" / "train.yaml", text)
    editor.diagnostics(uri, 1)
    line, character = position_of(text, "${{ outputs. }}", delta=len("${{ outputs."))
    assert [i.label for i in editor.complete(uri, line, character)] == ["model"]


def test_the_outline_of_a_component_lists_what_a_step_binds_and_reads(editor, project):
    uri = editor.open(project / "components" / "train.yaml")
    editor.diagnostics(uri, 1)
    symbols = {s.name: s for s in editor.symbols(uri)}
    assert list(symbols) == ["outputs"]
    assert [(c.name, c.detail) for c in symbols["outputs"].children] == [("model", "Model")]


def test_a_component_alone_gets_what_validate_gives_it(editor, project):
    text = COMPONENT.replace('"${{ outputs.model.path }}"', '"${{ outputs.weights.path }}"')
    uri = editor.open(project / "components" / "train.yaml", text)
    [found] = editor.diagnostics(uri, 1)
    assert found.code == "MLD307"  # `outputs.weights`: the component declares no such output
    assert found.range.start.line == position_of(text, "outputs.weights")[0]
