"""Property-based tests of one operation: generated valid and invalid requests, every answer
checked against the spec."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode

from repairs_gateway.contract.defaults import DEFAULT_EXAMPLES
from repairs_gateway.contract.discovery import TargetData
from repairs_gateway.contract.generation import seed
from repairs_gateway.contract.session import ContractSession

PART = "generated requests"


def check_operation(
    session: ContractSession,
    data: TargetData,
    operation: str,
    examples: int = DEFAULT_EXAMPLES,
    random_seed: int | None = None,
) -> None:
    """Send about ``examples`` generated requests to ``operation``, half valid and half
    invalid by the spec, and record every check that fails."""
    api = session.schema.find_operation_by_id(operation)
    halves = {GenerationMode.POSITIVE: examples - examples // 2, GenerationMode.NEGATIVE: examples // 2}
    for mode, count in halves.items():
        if count <= 0:
            continue

        # Failures are recorded, never raised, so Hypothesis neither stops nor shrinks:
        # the run goes on to find every distinct failure.
        @settings(
            max_examples=count,
            database=None,
            deadline=None,
            derandomize=random_seed is None,
            suppress_health_check=list(HealthCheck),
            phases=[Phase.generate],
        )
        @given(case=api.as_strategy(generation_mode=mode), rnd=st.randoms(use_true_random=False))
        def run(case: Case[Any], rnd: random.Random) -> None:
            seed(case, data, session.endpoint, rnd)
            _ = case.meta  # re-classifies the case as valid or invalid after seeding
            session.send(case, PART)

        if random_seed is not None:
            run = hypothesis_seed(random_seed)(run)
        run()
