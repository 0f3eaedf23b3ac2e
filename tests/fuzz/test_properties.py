"""Property: every spec that validates compiles, for every built-in target and environment.

hypothesis drives the same mutation engine as the campaign through its own random
source, so a failure shrinks towards fewer, smaller mutations. Bounded for the suite
(MLOPSDSL_FUZZ_PROPERTY examples, default 30); derandomized, so CI is reproducible.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from mutate import count_from_env, expression_case, judge, spec_case

PROPERTY = settings(derandomize=True, deadline=None, database=None,
                    max_examples=count_from_env("MLOPSDSL_FUZZ_PROPERTY", 30),
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@PROPERTY
@given(st.randoms(use_true_random=False), st.sampled_from(["spec", "expr"]))
def test_every_spec_that_validates_compiles_for_every_builtin_target(rng, kind):
    path, text = spec_case(rng) if kind == "spec" else expression_case(rng)
    outcome = judge(text, path)
    assert outcome.verdict in ("rejected", "compiled"), f"{outcome.verdict}: {outcome.detail}\n{text}"
