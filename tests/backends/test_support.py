"""The KServe support matrix (src/mlopsdsl/backends/kserve/support.py): which runtime serves what, and the
serving rules; the percent rules of rollout steps and A/B weights are the language's (check/serving.py)."""

from __future__ import annotations

import pytest

from mlopsdsl.backends.kserve import support
from mlopsdsl.check import serving as percents
from mlopsdsl.diagnostics import codes


def names(problems):
    return [p.code.name for p in problems]


# --- the matrix ---------------------------------------------------------------------------
def test_every_framework_is_its_own_model_format():
    # The backend writes `framework` into modelFormat.name unchanged; this keeps that true.
    assert all(fmt == framework for framework, fmt in support.MODEL_FORMATS.items())


@pytest.mark.parametrize("framework,protocol,runtime", [
    ("sklearn", "v1", "kserve-sklearnserver"),
    ("sklearn", "v2", "kserve-mlserver"),  # priority 2 beats sklearnserver's 1, as in KServe
    ("xgboost", "v1", "kserve-xgbserver"),
    ("lightgbm", "v1", "kserve-lgbserver"),
    ("pytorch", "v1", "kserve-torchserve"),
    ("pytorch", "grpc-v2", "kserve-torchserve"),
    ("tensorflow", "v1", "kserve-tensorflow-serving"),
    ("tensorflow", "v2", "kserve-tritonserver"),
    ("onnx", "v2", "kserve-tritonserver"),
    ("triton", "grpc-v2", "kserve-tritonserver"),
    ("huggingface", "v1", "kserve-huggingfaceserver-multinode"),
])
def test_auto_selected_runtime(framework, protocol, runtime):
    assert support.auto_runtime(framework, protocol) == runtime


@pytest.mark.parametrize("framework,protocol", [
    ("onnx", "v1"), ("triton", "v1"), ("sklearn", "grpc-v2"), ("lightgbm", "grpc-v2"), ("custom", "v2"),
])
def test_no_runtime(framework, protocol):
    assert support.auto_runtime(framework, protocol) is None


def test_named_only_runtimes_are_not_auto_selected():
    assert "kserve-predictiveserver" in support.runtimes_for("sklearn")
    assert "kserve-predictiveserver" not in support.runtimes_for("sklearn", named=False)
    assert "kserve-tritonserver" in support.runtimes_for("pytorch", "v2")
    assert "kserve-tritonserver" not in support.runtimes_for("pytorch", "v2", named=False)


# --- check_serving ---------------------------------------------------------------------------
@pytest.mark.parametrize("framework", ["sklearn", "xgboost", "lightgbm", "pytorch", "tensorflow", "huggingface"])
def test_every_servable_framework_passes_over_v1_and_v2(framework):
    assert support.check_serving(framework, "v1") == []
    assert support.check_serving(framework, "v2") == []


@pytest.mark.parametrize("framework", ["onnx", "triton"])
def test_onnx_and_triton_need_v2(framework):
    (problem,) = support.check_serving(framework, "v1")
    assert problem.code is codes.SERVING_PROTOCOL
    assert problem.path == ("serving", "protocol")
    assert problem.hint == "use protocol v2 or grpc-v2"
    assert support.check_serving(framework, "v2") == []


def test_custom_needs_a_named_runtime():
    (problem,) = support.check_serving("custom", "v2")
    assert problem.code is codes.SERVING_UNSERVABLE and problem.path == ("model", "framework")
    assert "runtime:" in problem.hint
    # A runtime of the user's own is unknown to the matrix: KServe checks it at reconcile time.
    assert support.check_serving("custom", "v2", runtime="acme-runtime") == []


def test_named_runtime_must_serve_the_framework():
    (problem,) = support.check_serving("xgboost", "v2", runtime="kserve-torchserve")
    assert problem.code is codes.SERVING_UNSERVABLE and problem.path == ("serving", "runtime")
    assert "kserve-xgbserver" in problem.hint


def test_named_runtime_must_speak_the_protocol():
    (problem,) = support.check_serving("tensorflow", "v2", runtime="kserve-tensorflow-serving")
    assert problem.code is codes.SERVING_PROTOCOL
    assert problem.message == "runtime 'kserve-tensorflow-serving' does not support protocol v2"
    assert support.check_serving("onnx", "v2", runtime="kserve-tritonserver") == []
    assert support.check_serving("pytorch", "v2", runtime="kserve-tritonserver") == []


@pytest.mark.parametrize("strategy", ["canary", "blue_green"])
def test_traffic_splitting_rollouts_need_serverless(strategy):
    problems = support.check_serving("sklearn", deployment_mode="raw", rollout_strategy=strategy)
    assert names(problems) == ["rollout-needs-serverless"]
    assert problems[0].path == ("serving", "rollout", "strategy")
    assert support.check_serving("sklearn", deployment_mode="serverless", rollout_strategy=strategy) == []
    assert support.check_serving("sklearn", deployment_mode="raw", rollout_strategy="direct") == []


def test_variant_with_another_framework_gets_its_own_runtime_check():
    problems = support.check_serving("xgboost", "v1", variant_frameworks=["onnx"])
    assert names(problems) == ["protocol-not-supported"]
    assert problems[0].path == ("serving", "variants", 0, "framework")
    assert problems[0].message.startswith("variant: ")
    # The same framework reuses the primary's runtime: nothing more to check.
    assert support.check_serving("xgboost", "v1", runtime="kserve-xgbserver",
                                 variant_frameworks=["xgboost"]) == []


# --- canary steps ------------------------------------------------------------------------------
@pytest.mark.parametrize("steps", [[100], [10, 50, 100], [1, 2, 3, 100]])
def test_good_canary_steps(steps):
    assert percents.check_canary_steps(steps) == []


@pytest.mark.parametrize("steps,index,words", [
    ([], None, "needs `steps`"),
    ([10, 50], 1, "end at 50%, not 100%"),
    ([50, 10, 100], 1, "strictly increase: 50% then 10%"),
    ([10, 10, 100], 1, "strictly increase"),
    ([0, 100], 0, "outside"),
    ([10, 150], 1, "outside"),
    ([12.5, 100], 0, "not a whole percent"),
])
def test_bad_canary_steps(steps, index, words):
    (problem,) = percents.check_canary_steps(steps)
    assert problem.code is codes.CANARY_STEPS
    assert words in problem.message
    expected = ("serving", "rollout", "steps") + (() if index is None else (index,))
    assert problem.path == expected


def test_canary_steps_are_checked_only_for_canary(write_spec):
    from conftest import check_file

    spec = ("apiVersion: mlopsdsl/v1\nkind: Project\nmetadata: {name: m}\nmodel: {framework: sklearn}\n"
            "serving: {name: m, storage_uri: 's3://b/m/', rollout: {strategy: STRATEGY, steps: [50%]}}\n")
    found = {s: [d.code.name for d in check_file(write_spec(spec.replace("STRATEGY", s))).diagnostics]
             for s in ("direct", "canary")}
    assert found == {"direct": [], "canary": ["canary-steps"]}


# --- variant weights ---------------------------------------------------------------------------
@pytest.mark.parametrize("weights", [[], [20], [10, 30], [99]])
def test_good_weights(weights):
    assert percents.check_variant_weights(weights) == []


@pytest.mark.parametrize("weights,paths", [
    ([100], [("serving", "variants")]),
    ([60, 50], [("serving", "variants")]),
    ([0], [("serving", "variants", 0, "weight")]),
    ([-5, 10], [("serving", "variants", 0, "weight")]),
    ([20, 12.5], [("serving", "variants", 1, "weight")]),
])
def test_bad_weights(weights, paths):
    problems = percents.check_variant_weights(weights)
    assert [p.path for p in problems] == paths
    assert all(p.code is codes.VARIANT_WEIGHTS for p in problems)


# --- autoscaling -------------------------------------------------------------------------------
@pytest.mark.parametrize("mode,metric,target", [
    ("serverless", "rps", 50), ("serverless", "concurrency", 10), ("serverless", "cpu", 70),
    ("raw", "cpu", 70), ("raw", "memory", 2048), ("raw", None, None),
])
def test_good_autoscaling(mode, metric, target):
    assert support.check_autoscaling(mode, metric, target) == []


@pytest.mark.parametrize("mode,metric,target,field", [
    ("raw", "rps", 50, "metric"), ("raw", "concurrency", 5, "metric"),
    ("serverless", "cpu", 150, "target"), ("serverless", "rps", 0.5, "target"),
])
def test_bad_autoscaling(mode, metric, target, field):
    (problem,) = support.check_autoscaling(mode, metric, target)
    assert problem.code is codes.SERVING_AUTOSCALE_METRIC
    assert problem.path == ("serving", "autoscaling", field)


def test_codes_are_registered_serving_errors():
    for code in (codes.SERVING_UNSERVABLE, codes.SERVING_PROTOCOL, codes.ROLLOUT_NEEDS_KNATIVE,
                 codes.VARIANT_WEIGHTS, codes.CANARY_STEPS, codes.SERVING_AUTOSCALE_METRIC):
        assert codes.REGISTRY[code.code] is code
        assert code.code.startswith("MLD60") and code.severity is codes.Severity.ERROR


def test_float_noise_in_percent_numbers_is_not_an_error():
    # 0.29 * 100 == 28.999999999999996: a percent parsed as a fraction must still be whole.
    assert percents.check_variant_weights([0.29 * 100, 0.7 * 100]) == []
    assert percents.check_canary_steps([0.07 * 100, 0.58 * 100, 100]) == []
    assert names(percents.check_variant_weights([0.29 * 100, 0.71 * 100])) == ["variant-weights"]
