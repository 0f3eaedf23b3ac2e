"""A schema error hides nothing else and invents nothing else (`mlopsdsl.check.holes`).

Each shipped example validates clean. An unknown key put into one of its named items (each step,
`on_exit`, each param, data source and environment, each top-level section) makes that item a hole:
validate must then report that one MLD201 and no other error, whatever the rest of the spec reads
from the item. And with a real semantic error elsewhere, both come in the same run.
"""

from __future__ import annotations

import copy
import shutil
from pathlib import Path

import pytest
import yaml
from conftest import EXAMPLES

from mlopsdsl.diagnostics import Severity
from mlopsdsl.driver import check_file, validate_file
from mlopsdsl.loader import load_file

SPECS = [EXAMPLES / "churn" / "churn.yaml", EXAMPLES / "minimal" / "minimal.yaml", EXAMPLES / "vision" / "defects.yaml"]
_MAPS = ("params", "data", "environments")


def _items(data: dict) -> list[tuple]:
    """The path of every named item, and of each section with fixed keys, of a spec."""
    steps = data.get("pipeline", {}).get("steps", {})
    paths = [("pipeline", "steps", name) for name in steps]
    paths += [("pipeline", "on_exit")] if "on_exit" in data.get("pipeline", {}) else []
    paths += [(section, name) for section in _MAPS for name in data.get(section) or {}]
    paths += [(section,) for section, value in data.items() if isinstance(value, dict) and section not in _MAPS]
    return paths


def _data(spec: Path) -> dict:
    document, _ = load_file(str(spec))
    return document.data


CASES = [(spec, path) for spec in SPECS for path in _items(_data(spec))]


def _errors(result) -> list[str]:
    return sorted(f"{d.code.code} {d.message}" for d in result.diagnostics if d.severity is Severity.ERROR)


def _write_beside(spec: Path, data: dict, tmp_path: Path) -> Path:
    """The mutated spec in a copy of its example folder (components and sources resolve as before)."""
    folder = tmp_path / spec.parent.name
    shutil.copytree(spec.parent, folder, ignore=shutil.ignore_patterns("__pycache__", ".mlopsdsl", "runs"))
    target = folder / spec.name
    target.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
    return target


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_the_examples_are_clean(spec):
    assert _errors(validate_file(str(spec))) == []


@pytest.mark.parametrize("spec, path", CASES, ids=[f"{s.stem}:{'.'.join(p)}" for s, p in CASES])
def test_an_unknown_key_in_one_item_is_the_only_error(spec, path, tmp_path):
    data = copy.deepcopy(_data(spec))
    node = data
    for part in path:
        node = node[part]
    node["colour"] = "red"
    errors = _errors(check_file(str(_write_beside(spec, data, tmp_path))))
    assert len(errors) == 1 and errors[0].startswith("MLD201 unknown key 'colour'"), errors


def test_a_semantic_error_beside_a_broken_step_is_reported_in_the_same_run(tmp_path):
    spec = EXAMPLES / "churn" / "churn.yaml"
    data = copy.deepcopy(_data(spec))
    data["pipeline"]["steps"]["train"]["colour"] = "red"  # every later step reads train's outputs
    data["pipeline"]["steps"]["evaluate"]["run"].append("${{ params.learning_rat }}")
    errors = _errors(check_file(str(_write_beside(spec, data, tmp_path))))
    assert [e.split(" ")[0] for e in errors] == ["MLD201", "MLD304"], errors
