"""The benchmark spec generator (bench/gen_spec.py): size, determinism, validity, DAG rules.

No timings here: benchmarks measure, tests only check that what is measured is right.
"""

from __future__ import annotations

import sys

import pytest
import yaml

from conftest import REPO, run_cli

sys.path.insert(0, str(REPO / "bench"))
import gen_spec  # noqa: E402

SIZES = (1, 7, 50, 333)


def _steps(text: str) -> dict:
    return yaml.load(text, Loader=yaml.CSafeLoader)["pipeline"]["steps"]


def _upstream(step: dict) -> set[str]:
    """Steps this one names in inputs, when or after."""
    names = set(step.get("after", []))
    for value in [*step.get("inputs", {}).values(), step.get("when", "")]:
        names |= {part.split(".")[1] for part in str(value).split() if part.startswith("steps.")}
    return names


@pytest.mark.parametrize("shape", gen_spec.SHAPES)
@pytest.mark.parametrize("n", SIZES)
def test_requested_number_of_steps(shape: str, n: int) -> None:
    steps = _steps(gen_spec.generate(n, shape))
    assert len(steps) == n
    assert list(steps) == [gen_spec.step_name(i) for i in range(1, n + 1)]


@pytest.mark.parametrize("shape", gen_spec.SHAPES)
def test_deterministic_bytes(shape: str, tmp_path) -> None:
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert gen_spec.main(["--steps", "200", "--shape", shape, "--out", str(first)]) == 0
    assert gen_spec.main(["--steps", "200", "--shape", shape, "--out", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    assert first.read_text(encoding="utf-8") == gen_spec.generate(200, shape)


@pytest.mark.parametrize("shape", gen_spec.SHAPES)
def test_edges_point_backwards_and_exist(shape: str) -> None:
    steps = _steps(gen_spec.generate(300, shape))
    order = {name: k for k, name in enumerate(steps)}
    for name, step in steps.items():
        for up in _upstream(step):
            assert order[up] < order[name], f"{name} depends on later or unknown step {up}"


def test_shapes_have_their_shape() -> None:
    chain = _steps(gen_spec.generate(20, "chain"))
    assert all(_upstream(s) == {gen_spec.step_name(i)} for i, s in enumerate(list(chain.values())[1:], 1))
    fan = _steps(gen_spec.generate(20, "fanout"))
    assert all(_upstream(s) == {"s0001"} for s in list(fan.values())[1:])
    diamond = _steps(gen_spec.generate(20, "diamond"))
    assert _upstream(diamond["s0004"]) == {"s0002", "s0003"}  # the join of the first diamond


def test_mixed_uses_every_feature_and_gated_steps_are_leaves() -> None:
    steps = _steps(gen_spec.generate(1000, "mixed"))
    gated = {n for n, s in steps.items() if "when" in s or "for_each" in s}
    assert any("when" in s for s in steps.values())
    assert any("for_each" in s for s in steps.values())
    assert any("after" in s for s in steps.values())
    for name, step in steps.items():
        # nothing may silently depend on a step that might not run (or yields a list)
        assert not _upstream(step) & gated, name
        if "when" in step:
            assert ".outputs.metrics." in step["when"] and "params." in step["when"]


def test_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError):
        gen_spec.generate(0, "chain")
    with pytest.raises(ValueError):
        gen_spec.generate(10, "star")


def test_generated_specs_validate(tmp_path) -> None:
    paths = []
    for shape in gen_spec.SHAPES:
        path = tmp_path / f"{shape}-50.yaml"
        path.write_text(gen_spec.generate(50, shape), encoding="utf-8", newline="\n")
        paths.append(str(path))
    code, out, err = run_cli("validate", *paths)
    assert code == 0, f"generated specs do not validate:\n{out}{err}"


def test_added_environments_each_override_a_step_and_validate(tmp_path) -> None:
    text = gen_spec.generate(60, "mixed", 7)
    environments = yaml.load(text, Loader=yaml.CSafeLoader)["environments"]
    added = {name: env for name, env in environments.items() if name.startswith("region")}
    assert len(environments) == 7 and len(added) == 5
    steps = _steps(text)
    for env in added.values():
        (step_path,) = [key for key in env["set"] if key.startswith("pipeline.steps.")]
        assert step_path.split(".")[2] in steps
    path = tmp_path / "envs.yaml"
    path.write_text(text, encoding="utf-8", newline="\n")
    code, out, err = run_cli("validate", str(path))
    assert code == 0, out + err
    with pytest.raises(ValueError):
        gen_spec.generate(10, "chain", 1)
