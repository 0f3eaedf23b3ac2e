"""The language table is the one definition: what is generated from it is current, every field has
an IR destination that exists, and a fact written there (a default, a value syntax) means the
same thing in every stage: schema, docs, checker, expressions, lowering and output."""

from __future__ import annotations

import pytest
from conftest import REPO

from mlopsdsl import ir, language, resources
from mlopsdsl.driver import build_ir, check_file
from mlopsdsl.expr import types as t
from mlopsdsl.expr.contexts import CONTEXTS
from mlopsdsl.ir import models
from mlopsdsl.language import docs, steps

FIELDS = docs.every_field()


@pytest.mark.parametrize("page", docs.PAGES, ids=lambda p: p.name)
def test_generated_docs_tables_are_current(page):
    text = page.read_text(encoding="utf-8")
    assert "<!-- table: " in text
    assert docs.generate(text) == text, f"{page} is stale: run `python -m mlopsdsl.language.docs` and commit it"


def test_generate_rewrites_a_stale_table():
    stale = "# x\n<!-- table: drift -->\n| old |\n<!-- /table -->\n"
    fresh = docs.generate(stale)
    assert "| old |" not in fresh and "| `method` |" in fresh and "`psi`" in fresh


@pytest.mark.parametrize("path,entry", FIELDS, ids=[p for p, _ in FIELDS])
def test_every_field_lands_in_the_ir_or_says_why_not(path, entry):
    if entry.front_end_only:
        assert len(entry.ir) > len("front-end: ") + 5, "say why the field stops in the front end"
        return
    model, _, attribute = entry.ir.partition(".")
    cls = getattr(ir, model, None)  # the public IR: what a backend reads
    assert cls is not None and isinstance(cls, type), f"{path}: no IR model {model!r}"
    if attribute:
        assert attribute in cls.model_fields, f"{path}: IR model {model} has no field {attribute!r}"


@pytest.mark.parametrize("path,entry", [(p, e) for p, e in FIELDS if e.context], ids=lambda x: str(x))
def test_every_expression_context_exists(path, entry):
    assert entry.context in CONTEXTS


@pytest.mark.parametrize("path,entry", [(p, e) for p, e in FIELDS if e.only_with], ids=lambda x: str(x))
def test_an_only_with_rule_names_a_sibling_that_is_required_or_defaults_to_an_allowed_value(path, entry):
    """MLD653 judges a field by its sibling as written; an absent sibling must then mean an allowed value."""
    by_path = dict(FIELDS)
    for key, allowed in entry.only_with.items():
        sibling = by_path[path.rsplit(".", 1)[0] + "." + key]
        assert sibling.required or (sibling.has_default and sibling.default in allowed), (path, key)
        shape = sibling.shape.shape if isinstance(sibling.shape, language.table.Def) else sibling.shape
        assert set(allowed) <= set(shape["enum"]), f"{path}: {key} can never be one of {allowed}"


def test_inherited_and_exit_step_fields_come_from_the_table():
    assert steps.INHERITED == ("image", "resources", "retries", "cache", "timeout", "env", "pod_labels")
    assert tuple(steps.DEFAULTS.fields) == steps.INHERITED
    assert set(steps.STEP.fields) - set(steps.EXIT_STEP.fields) == {"when", "after", "for_each", "parallelism",
                                                                      "volumes", "distributed", "tune"}
    defs = resources.schema()["$defs"]
    assert set(defs["defaults"]["properties"]) == set(steps.INHERITED)
    assert set(defs["component"]["properties"]) >= set(steps.INHERITED)


def test_field_lookups():
    assert language.field_at("pipeline.steps.*.timeout") is steps.STEP_FIELDS["timeout"]
    assert language.default("serving.deployment_mode") == "serverless"
    assert language.setting({"protocol": "v2"}, "serving.protocol") == "v2"
    assert language.setting({}, "serving.protocol") == "v1"
    with pytest.raises(KeyError):
        language.default("serving.name")
    with pytest.raises(KeyError):
        language.field_at("serving.nmae")
    labels = language.default("monitoring.prometheus.rule_labels")
    labels["x"] = "y"  # a caller's copy: the table's default is unchanged
    assert language.default("monitoring.prometheus.rule_labels") == {"release": "prometheus"}


def test_walk_follows_sections_maps_lists_and_alternatives():
    data = {"pipeline": {"steps": {"a": {"retries": {"count": 2, "backoff": "5s"}, "timeout": "1h"}}},
            "monitoring": {"alerts": [{"name": "A", "for": "5m"}]}}
    found = {path: entry.units for path, entry, _ in language.walk(data) if entry.units}
    assert found == {("pipeline", "steps", "a", "retries", "backoff"): "duration",
                     ("pipeline", "steps", "a", "timeout"): "duration",
                     ("monitoring", "alerts", 0, "for"): "duration"}


SPEC = """\
apiVersion: mlopsdsl/v1
kind: Project
metadata: {name: churn, version: 1.0.0}
model: {framework: sklearn}
data:
  reference: {uri: "s3://bucket/ref/", schema: {tenure: int}}
pipeline:
  steps:
    train:
      image: python:3.11
      run: [python, -m, train]
      timeout: TIMEOUT
serving:
  name: churn-api
  storage_uri: s3://bucket/model/
monitoring:
  alerts:
    - {name: Slow, when: "${{ serving.latency.p95 > LATENCY }}", for: 5m}
  drift: {reference: "${{ data.reference }}", current: "${{ data.reference }}", features: [tenure],
          image: "ghcr.io/acme/drift:1.0.0", SCHEDULE}
"""


def _spec(write_spec, timeout="2h", latency="250ms", schedule="schedule: '0 * * * *'"):
    text = SPEC.replace("TIMEOUT", timeout).replace("LATENCY", latency).replace("SCHEDULE", schedule)
    return str(write_spec(text))


def test_drift_method_default_is_the_same_in_every_stage(write_spec):
    """The docs' own example has no `method`: it validates, lowers and compiles with the table's default."""
    drift = resources.schema()["$defs"]["drift"]["properties"]
    assert drift["method"]["default"] == "psi" == language.default("monitoring.drift.method")
    assert "`psi`" in docs.render_table("drift")
    result = build_ir(_spec(write_spec, schedule=""))
    assert result.ok, [str(d) for d in result.diagnostics]
    assert result.ir.monitoring.drift.method == "psi"
    assert result.ir.monitoring.drift.threshold == language.default("monitoring.drift.threshold")
    assert result.ir.monitoring.drift.schedule == "0 * * * *"  # the default `@hourly`, as 5 fields
    from mlopsdsl.compiler import compile_project

    out = compile_project(result.ir, ["monitoring"])
    assert out.ok and any(b"METHOD: psi" in body for body in out.files.values())


@pytest.mark.parametrize("text,seconds", [("1.5h", 5400.0), ("1h30m", 5400.0), ("90m", 5400.0), ("250ms", 0.25)])
def test_durations_read_the_same_in_a_field_and_in_an_expression(write_spec, text, seconds):
    result = build_ir(_spec(write_spec, timeout=text, latency=text))
    assert result.ok, [str(d) for d in result.diagnostics]
    assert result.ir.pipeline.steps[0].timeout == seconds
    threshold = result.ir.monitoring.alerts[0].when.right
    assert (threshold.type, threshold.value, threshold.text) == ("duration", seconds, text)


@pytest.mark.parametrize("text", ["1.5 h", "1h 30m", "2 hours", "h", "1.5"])
def test_a_malformed_duration_is_refused_in_a_field_and_in_an_expression(write_spec, text):
    field_codes = {d.code.code for d in check_file(_spec(write_spec, timeout=f"'{text}'")).diagnostics}
    assert "MLD205" in field_codes
    expr_codes = {d.code.code for d in check_file(_spec(write_spec, latency=text)).diagnostics}
    assert any(code.startswith("MLD5") for code in expr_codes), expr_codes  # syntax, unknown name or units


def test_cron_shorthand_is_accepted_and_lowered_to_five_fields(write_spec):
    result = build_ir(_spec(write_spec, schedule="schedule: '@daily'"))
    assert result.ok, [str(d) for d in result.diagnostics]
    assert result.ir.monitoring.drift.schedule == "0 0 * * *"


def test_artifact_types_are_one_list():
    assert models.ARTIFACT_TYPES == t.ARTIFACT_NAMES == tuple(steps.ARTIFACT_TYPES)
    assert resources.schema()["$defs"]["output_type"]["enum"][:len(steps.ARTIFACT_TYPES)] == list(steps.ARTIFACT_TYPES)


def test_design_doc_lists_every_field():
    text = (REPO / "docs" / "design" / "language-table.md").read_text(encoding="utf-8")
    assert all(f"| `{path}` |" in text for path, _ in FIELDS)
