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
from repairs_gateway.contract.generation import REPAIR_FORM_PARAMETERS, one_repair_form, seed
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
    searched: dict[str, Any] = {}  # the repair named by the last search for windows

    class Walk(base):  # type: ignore[misc]
        def setup(self) -> None:
            started[0] += 1

        def step(self, input: StepInput) -> StepOutput:
            case = input.case
            if input.transition is None:
                seed(case, data, endpoint, rnd)  # a scenario's first request: steer it to real data
            else:
                case.headers["Authorization"] = f"Bearer {endpoint.api_key}"
                if operation_id(case) == "listAppointments":
                    # The link gives the property; the repair comes from the triage tree, in
                    # exactly one form as the spec requires (which OpenAPI cannot state).
                    for name in ("from", "cursor"):
                        case.query.pop(name, None)
                    if data.jobs:
                        for name in REPAIR_FORM_PARAMETERS:
                            case.query.pop(name, None)
                        case.query["triagePath"] = rnd.choice(data.jobs).path
                    else:
                        one_repair_form(case.query)
                if operation_id(case) == "createRepair" and isinstance(case.body, dict) and searched:
                    # Of the spec's three links from a search into createRepair, the one for the
                    # form the search used is the one to follow: book the repair searched for.
                    case.body["repair"] = dict(searched)
            if operation_id(case) == "listAppointments":
                searched.clear()
                searched.update(_repair_named(case.query))
            _ = case.meta
            session.report.count_case(operation_id(case), PART)
            output: StepOutput = super().step(input)
            return output

        def get_call_kwargs(self, case: Case[Any]) -> dict[str, Any]:
            return {"session": session.http, "timeout": REQUEST_TIMEOUT_SECONDS}

        def validate_response(
            self, response: Response, case: Case[Any], additional_checks: Any = None, **kwargs: Any
        ) -> None:
            failed = False
            try:
                case.validate_response(
                    response,
                    additional_checks=CUSTOM_CHECKS,
                    excluded_checks=session.checks_to_skip(case),
                    transport_kwargs=kwargs or None,
                )
            except FailureGroup as group:
                failed = True
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
            session.note_auth(case, response, failed)

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


def _repair_named(query: dict[str, Any]) -> dict[str, Any]:
    """The repair a search for windows named, as createRepair takes it."""
    if "triagePath" in query:
        return {"triagePath": query["triagePath"]}
    if "sorCode" in query:
        return {"sorCode": query["sorCode"]}
    if "trade" in query and "durationMinutes" in query:
        try:
            return {"trade": query["trade"], "durationMinutes": int(query["durationMinutes"])}
        except (TypeError, ValueError):
            return {}
    return {}


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
