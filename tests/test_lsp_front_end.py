"""The small front-end entry points the language server stands on, held to what `validate` does:
the context of a place (`language.context_at`) and editor buffers read before the disk."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO

from mlopsdsl.driver import check_file
from mlopsdsl.language import context_at
from mlopsdsl.loader import load_file

sys.path.insert(0, str(REPO / "bench"))
import gen_spec  # noqa: E402

SPECS = ["minimal/minimal.yaml", "churn/churn.yaml", "vision/defects.yaml"]


@pytest.mark.parametrize("spec", SPECS)
def test_the_language_table_gives_every_checked_value_the_context_it_was_checked_in(spec):
    result = check_file(str(EXAMPLES / spec))
    table = result.checked.exprs.by_path
    assert table, "the example has expressions"
    assert {path: context_at(path) or "text" for path in table} == {path: c.context for path, c in table.items()}


def test_the_table_agrees_on_a_large_generated_spec(tmp_path):
    path = tmp_path / "mixed.yaml"
    path.write_text(gen_spec.generate(200, "mixed"), encoding="utf-8")
    table = check_file(str(path)).checked.exprs.by_path
    contexts = {c.context for c in table.values()}
    assert {"run_arg", "step_input", "step_when", "for_each"} <= contexts
    assert all((context_at(p) or "text") == c.context for p, c in table.items())


def test_an_open_buffer_is_read_instead_of_the_disk(tmp_path):
    path = tmp_path / "spec.yaml"
    path.write_text((EXAMPLES / "minimal" / "minimal.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    buffer = path.read_text(encoding="utf-8").replace("apiVersion: mlopsdsl/v1", "apiVersion: mlopsdsl/v9")
    document, problems = load_file(str(path), buffers={str(path.resolve()): buffer})
    assert document is not None and document.data["apiVersion"] == "mlopsdsl/v9" and problems == []
    assert [d.code.code for d in check_file(str(path), buffers={str(path.resolve()): buffer}).diagnostics] == [
        "MLD208"]
    assert check_file(str(path)).diagnostics == []  # the disk is unchanged


def test_a_component_that_exists_only_as_a_buffer_is_found(tmp_path):
    spec = (EXAMPLES / "churn" / "churn.yaml").read_text(encoding="utf-8")
    component = (EXAMPLES / "churn" / "components" / "register.yaml").read_text(encoding="utf-8")
    path = tmp_path / "churn.yaml"  # no components/ directory on disk
    buffers = {str(path): spec, str(tmp_path / "components" / "register.yaml"): component}
    assert [d for d in check_file(str(path), buffers=buffers).diagnostics if d.is_error] == []
    missing = check_file(str(path), buffers={str(path): spec}).diagnostics
    assert "MLD310" in {d.code.code for d in missing}
