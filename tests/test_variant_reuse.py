"""Validating every environment reuses the base run where a variant cannot differ from it.

The reuse (CheckContext.base) must be invisible: `validate` without `--env` reports
exactly the union of a full, independent check of the base spec and of every
environment. Here hypothesis writes environments that override random fields of the
examples with values taken from elsewhere in them (other types, expressions, references
to other steps, credential-shaped strings), and the two ways must agree.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import CASES, EXAMPLES
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlopsdsl import driver
from mlopsdsl.loader import load_file
from mlopsdsl.check.envs import FIXED, SETTABLE

SPECS = {
    "churn": EXAMPLES / "churn" / "churn.yaml",
    "vision": EXAMPLES / "vision" / "defects.yaml",
    "sketch": CASES / "valid" / "sketch.yaml",
}
# Values an override may bring in besides the spec's own: wrong types, a literal secret,
# expressions good and bad, a reference to a step that may not exist.
EXTRA_VALUES = [0, -1, 2.5, True, "", "2Gi", "500m", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "${{ params.nope }}",
                "${{ serving.latency.p95 < 250 }}", "${{ steps.train.outputs.model }}", "0 3 * * 1", [], {}]


def _leaves(value: Any, path: tuple) -> list[tuple[tuple, Any]]:
    out = [(path, value)] if path else []
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and "." not in key and key:
                out += _leaves(item, path + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            out += _leaves(item, path + (i,))
    return out


def _settable(spec: dict) -> list[tuple[str, Any]]:
    found = []
    for path, value in _leaves(spec, ()):
        dotted = ".".join(str(p) for p in path)
        if path[0] in SETTABLE and dotted not in FIXED and not isinstance(value, (dict, list)):
            found.append((dotted, value))
    return found


def _reported(result: driver.Result) -> set[tuple]:
    return {(d.code.code, d.span, d.message) for d in result.diagnostics}


def _independently(path: str) -> set[tuple]:
    """The reference: the base and each overriding environment checked from scratch."""
    result = driver.front_end(path)
    if not result.ok:  # refused by the schema: its well-formed parts are checked, its environments are not
        driver._check_around_holes(result)
        return _reported(result)
    found = _reported(result)
    for name in [None] + driver._overriding_environments(result.document.data):
        _, diagnostics = driver._check_variant(result, name, base=None)
        found |= {(d.code.code, d.span, d.message) for d in diagnostics}
    return found


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("variants")
    shutil.copytree(EXAMPLES / "churn", root / "churn")  # with its components/
    return root


@pytest.mark.parametrize("name", sorted(SPECS))
def test_reuse_reports_what_full_checks_report(name, workdir):
    document, problems = load_file(str(SPECS[name]))  # YAML 1.2, as mlopsdsl reads it (`on` is a string)
    assert document is not None and not problems
    spec = document.data
    settable = _settable(spec)
    values = [v for _, v in settable] + EXTRA_VALUES
    dotted = [d for d, _ in settable]
    # Half the overrides land in the pipeline, where the DAG and most expressions are.
    where = st.one_of(st.sampled_from([d for d in dotted if d.startswith("pipeline.")]), st.sampled_from(dotted))
    overrides = st.dictionaries(where, st.sampled_from(values), min_size=1, max_size=3)

    @settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(st.lists(overrides, min_size=1, max_size=2))
    def check(environments):
        changed = dict(spec)
        changed["environments"] = {f"e{i}": {"namespace": f"ns-{i}", "set": sets}
                                   for i, sets in enumerate(environments)}
        path = workdir / "churn" / f"variant-{name}.yaml"
        path.write_text(yaml.safe_dump(changed, sort_keys=False), encoding="utf-8")
        assert _reported(driver.check_file(str(path))) == _independently(str(path))

    check()


def test_a_literal_secret_in_the_base_is_reported_with_env(write_spec):
    """`--env` checks the whole spec: the base's mistakes are not left to a run without it."""
    path = write_spec("""\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: sec, version: 1.0.0}
params:
  api_token: {type: str, default: hunter2hunter2}
  lr: {type: float, default: 0.1}
environments:
  prod: {namespace: ml, set: {params.lr.default: 0.2}}
""")
    codes = [d.code.code for d in driver.check_file(str(path), env="prod").diagnostics]
    assert "MLD645" in codes


def test_an_override_that_changes_the_dag_is_checked_as_a_dag(tmp_path):
    """Rewiring an input leaves `features.test` unused in that environment only (MLD403 there)."""
    shutil.copytree(EXAMPLES / "churn", tmp_path / "churn")
    path = tmp_path / "churn" / "churn.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("environments:\n", "environments:\n  rewired:\n    namespace: ml-rewired\n"
                                 "    set: {pipeline.steps.evaluate.inputs.test: \"${{ steps.features.outputs.train }}\"}\n",
                                 1), encoding="utf-8")
    unused = [d for d in driver.check_file(str(path)).diagnostics if d.code.code == "MLD403"]
    assert [d.message for d in unused] == ["output 'test' of step 'features' is never used"]
    assert _reported(driver.check_file(str(path))) == _independently(str(path))
