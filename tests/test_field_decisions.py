"""Every field of the language reaches the IR (or says why it stops in the front end), and every
lowered field of a step and of `serving` has a decision in every built-in target: emitted,
reported (`unsupported`, `approximated`), or "n/a" with the reason. A field added to the table
without its lowering, or lowered without a decision per target, fails here; so does a decision
for a field that is gone, or an "emit" whose target never reads the field."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO

from mlopsdsl import ir
from mlopsdsl.backends.base import DECISIONS, Backend
from mlopsdsl.backends.github import GitHubBackend
from mlopsdsl.backends.kserve import KServeBackend
from mlopsdsl.backends.kubeflow import KubeflowBackend
from mlopsdsl.backends.monitoring import MonitoringBackend
from mlopsdsl.language import docs

BUILTINS: tuple[type[Backend], ...] = (KubeflowBackend, KServeBackend, GitHubBackend, MonitoringBackend)
DECIDED_MODELS = ("Step", "Serving")
# Not data a target can write: where in the spec the value came from.
NOT_DATA = {"span"}
IR_SOURCES = REPO / "src" / "mlopsdsl" / "ir"
BACKENDS = REPO / "src" / "mlopsdsl" / "backends"


def ir_fields(model: str) -> list[str]:
    return [f for f in getattr(ir, model).model_fields if f not in NOT_DATA]


def constructed_by_the_lowering() -> dict[str, set[str]]:
    """IR model name -> the keywords the lowering passes when it builds one (`m.Step(image=...)`)."""
    built: dict[str, set[str]] = {}
    for path in sorted(IR_SOURCES.glob("lower*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                func = node.func
                name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if hasattr(ir, name):
                    built.setdefault(name, set()).update(k.arg or "**" for k in node.keywords)
    return built


LOWERED = constructed_by_the_lowering()


@pytest.mark.parametrize("path,entry", [(p, e) for p, e in docs.every_field() if not e.front_end_only],
                         ids=lambda x: x if isinstance(x, str) else "")
def test_every_field_of_the_table_is_set_by_the_lowering(path, entry):
    model, _, attribute = entry.ir.partition(".")
    assert model in LOWERED, f"{path}: the lowering never builds an ir.{model}"
    if attribute:
        assert attribute in LOWERED[model] or "**" in LOWERED[model], (
            f"{path}: the lowering never sets {entry.ir}: the field would be accepted and dropped")


def _read_attributes(backend: type[Backend]) -> set[str]:
    """Attribute names the target's modules (and the shared ones they use) read: `step.timeout` -> timeout."""
    package = BACKENDS / backend.__module__.split(".")[2]
    paths = [*package.rglob("*.py"), *(p for p in BACKENDS.glob("*.py") if p.name not in ("base.py", "registry.py"))]
    return {node.attr for path in paths for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, ast.Attribute)}


@pytest.mark.parametrize("backend", BUILTINS, ids=lambda b: b.name)
@pytest.mark.parametrize("model", DECIDED_MODELS)
def test_every_lowered_field_has_a_decision_in_every_builtin_target(backend, model):
    decisions = backend.decisions
    whole = decisions.get(model)
    fields = ir_fields(model)
    if whole is not None:
        assert whole.startswith("n/a: ") and len(whole) > 20, f"{backend.name}: say why {model} means nothing here"
        assert not [k for k in decisions if k.startswith(model + ".")], "decide the model or its fields, not both"
        return
    missing = [f for f in fields if f"{model}.{f}" not in decisions]
    assert missing == [], f"{backend.name} has no decision for {model}: {missing} (emit, unsupported, approximated "
    "or n/a: why)"
    stale = [k for k in decisions if k.startswith(model + ".") and k.split(".", 1)[1] not in fields]
    assert stale == [], f"{backend.name} decides fields the IR no longer has: {stale}"
    read = _read_attributes(backend)
    for name in fields:
        decision = decisions[f"{model}.{name}"]
        assert decision in DECISIONS or (decision.startswith("n/a: ") and len(decision) > 20), decision
        if decision in DECISIONS:
            assert name in read, f"{backend.name} says it decides {model}.{name} ({decision}) but never reads it"


def test_a_target_that_forgot_a_field_fails(monkeypatch):
    forgetful = {k: v for k, v in KServeBackend.decisions.items() if k != "Serving.runtime"}
    monkeypatch.setattr(KServeBackend, "decisions", forgetful)
    with pytest.raises(AssertionError, match="Serving.*runtime"):
        test_every_lowered_field_has_a_decision_in_every_builtin_target(KServeBackend, "Serving")
    monkeypatch.setattr(KServeBackend, "decisions", {**forgetful, "Serving.runtime": "emit", "Serving.gone": "emit"})
    with pytest.raises(AssertionError, match="no longer has"):
        test_every_lowered_field_has_a_decision_in_every_builtin_target(KServeBackend, "Serving")


def test_the_lowering_scan_sees_what_it_builds():
    assert {"image", "timeout", "node_selector"} <= LOWERED["Step"] and "storage_uri" in LOWERED["Serving"]
