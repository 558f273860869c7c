"""Random walks along the spec's links (schemathesis's state machine): each scenario starts
at any operation and follows links to the next, every answer checked against the spec."""

from __future__ import annotations

import random
from typing import Any

import requests
from hypothesis import HealthCheck, Phase, settings
from hypothesis.errors import FlakyStrategyDefinition
from schemathesis import Case, Response
from schemathesis.core.failures import FailureGroup
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput

from repairs_gateway.contract.checks import CUSTOM_CHECKS, operation_id
from repairs_gateway.contract.defaults import DEFAULT_SCENARIOS
from repairs_gateway.contract.discovery import TargetData
from repairs_gateway.contract.generation import seed
from repairs_gateway.contract.report import Finding
from repairs_gateway.contract.session import REQUEST_TIMEOUT_SECONDS, ContractSession

PART = "link walk"
STEPS_PER_SCENARIO = 6
MAX_RESTARTS = 5


def walk_links(
    session: ContractSession,
    data: TargetData,
    scenarios: int = DEFAULT_SCENARIOS,
    random_seed: int | None = None,
) -> None:
    """Run ``scenarios`` random walks along the spec's links, recording every failed check."""
    rnd = random.Random(random_seed if random_seed is not None else 0)
    endpoint = session.endpoint
    base: Any = session.schema.as_state_machine()

    started = [0]

    class Walk(base):  # type: ignore[misc]
        def setup(self) -> None:
            started[0] += 1

        def step(self, input: StepInput) -> StepOutput:
            case = input.case
            if input.transition is None:
                seed(case, data, endpoint, rnd)  # a scenario's first request: steer it to real data
            else:
                case.headers["Authorization"] = f"Bearer {endpoint.api_key}"
                if operation_id(case) == "listAppointments" and data.jobs and "triagePath" not in case.query:
                    # The link gives the property; the repair comes from the triage tree.
                    for name in ("sorCode", "trade", "durationMinutes", "from", "cursor"):
                        case.query.pop(name, None)
                    case.query["triagePath"] = rnd.choice(data.jobs).path
            _ = case.meta
            session.report.count_case(operation_id(case))
            output: StepOutput = super().step(input)
            return output

        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            return {"session": session.http, "timeout": REQUEST_TIMEOUT_SECONDS}

        def validate_response(
            self, response: Response, case: Case[Any], additional_checks: Any = None, **kwargs: Any
        ) -> None:
            try:
                super().validate_response(response, case, additional_checks=CUSTOM_CHECKS, **kwargs)
            except FailureGroup as group:
                for failure in group.exceptions:
                    session.report.add(
                        Finding(
                            operation_id(case),
                            PART,
                            failure.title,
                            failure.message,
                            response.status_code,
                            session.curl(case),
                            response.content.decode("utf-8", errors="replace")[:2000],
                        )
                    )

    for restart in range(MAX_RESTARTS):
        try:
            Walk.run(
                settings=_settings(scenarios - started[0], derandomize=random_seed is None and restart == 0)
            )
            return
        except requests.RequestException as exc:
            # A walk cannot go on without an answer; what it found so far stands.
            session.report.add(Finding("(link walk)", PART, "No answer", f"{type(exc).__name__}: {exc}"))
            return
        except FlakyStrategyDefinition:
            # The server's state changed under Hypothesis (a window filled, a repair was
            # cancelled), so a replayed prefix took another turn: walk on afresh.
            if started[0] >= scenarios:
                return


def _settings(scenarios: int, derandomize: bool) -> settings:
    return settings(
        max_examples=max(scenarios, 1),
        stateful_step_count=STEPS_PER_SCENARIO,
        database=None,
        deadline=None,
        derandomize=derandomize,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.generate],
    )
