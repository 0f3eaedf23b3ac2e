"""A bounded slice of the fuzz campaign (bench/fuzz_campaign.py runs the long one).

Each case is a mutated example (structure-aware: fields deleted, grafted, retyped,
swapped, expressions rewritten) or an example with one generated expression, judged
as a user would meet it: `validate`, then, if clean, `compile` for every built-in
target in every environment. Nothing may raise, and nothing that validates clean
may fail to compile. The same (seed, number) always gives the same case:

    MLOPSDSL_FUZZ_SPECS=5000 MLOPSDSL_FUZZ_EXPRESSIONS=2000 pytest tests/fuzz -q -n0
    python bench/fuzz_campaign.py --replay spec:1:17        # see one case
"""

from __future__ import annotations

import pytest
from mutate import case, count_from_env, judge

SEED = count_from_env("MLOPSDSL_FUZZ_SEED", 1)
SPECS = count_from_env("MLOPSDSL_FUZZ_SPECS", 20)
EXPRESSIONS = count_from_env("MLOPSDSL_FUZZ_EXPRESSIONS", 20)


def _judged(kind: str, number: int) -> None:
    path, text = case(kind, SEED, number)
    outcome = judge(text, path)
    assert outcome.verdict in ("rejected", "compiled"), \
        f"{kind}:{SEED}:{number} (from {path.name}): {outcome.verdict}: {outcome.detail}\n{text}"


@pytest.mark.parametrize("number", range(SPECS))
def test_a_mutated_example_is_rejected_or_compiles(number):
    _judged("spec", number)


@pytest.mark.parametrize("number", range(EXPRESSIONS))
def test_an_example_with_a_generated_expression_is_rejected_or_compiles(number):
    _judged("expr", number)
