"""A whole contract run against one endpoint: the keys, discovery, the journey, the
promises, the link walk and generated requests for every operation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from repairs_gateway.contract.defaults import DEFAULT_EXAMPLES, DEFAULT_SCENARIOS
from repairs_gateway.contract.discovery import PART as DISCOVERY
from repairs_gateway.contract.discovery import TargetData, discover
from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.contract.journey import Journey, use_up_capacity
from repairs_gateway.contract.keys import key_problem
from repairs_gateway.contract.promises import (
    authentication_and_isolation,
    idempotent_retries,
    repeated_reports,
    unforgeable_window_ids,
)
from repairs_gateway.contract.properties import PART as GENERATED
from repairs_gateway.contract.properties import check_operation
from repairs_gateway.contract.report import Report
from repairs_gateway.contract.session import ContractSession
from repairs_gateway.contract.stateful import PART as LINK_WALK
from repairs_gateway.contract.stateful import walk_links


@dataclass(frozen=True, slots=True)
class RunOptions:
    """How much to generate: requests per operation and link-walk scenarios."""

    examples: int = DEFAULT_EXAMPLES
    scenarios: int = DEFAULT_SCENARIOS
    seed: int | None = None


SCRIPTED: list[tuple[str, Callable[[ContractSession, TargetData], None]]] = [
    ("journey", lambda session, data: Journey(session, data).walk()),
    ("capacity", use_up_capacity),
    ("idempotency", idempotent_retries),
    ("repeated reports", repeated_reports),
    ("window ids", unforgeable_window_ids),
    ("tenant isolation", authentication_and_isolation),
]


def run_contract(
    endpoint: Endpoint, options: RunOptions | None = None, progress: Callable[[str], None] | None = None
) -> Report:
    """Hold the implementation at ``endpoint`` to the spec; the report says what failed and
    which parts did not run. A key the implementation refuses stops the run at once."""
    options = options or RunOptions()
    say = progress or (lambda _: None)
    session = ContractSession(endpoint)
    report = session.report
    report.parts = [DISCOVERY, *(name for name, _ in SCRIPTED), LINK_WALK, GENERATED]
    try:
        say("checking the API keys")
        problem = key_problem(session)
        if problem is not None:
            report.stop(problem)
            return report
        say("discovering properties, triage and windows")
        data = discover(session)
        for name, part in SCRIPTED:
            say(f"checking {name}")
            part(session, data)
        if options.scenarios > 0:
            say(f"walking the spec's links ({options.scenarios} scenarios)")
            walk_links(session, data, options.scenarios, options.seed)
        else:
            report.skip(LINK_WALK, "--scenarios 0 asked for no walks", "--scenarios N")
        if options.examples > 0:
            for operation in report.operations:
                say(f"generating requests for {operation} ({options.examples})")
                check_operation(session, data, operation, options.examples, options.seed)
        else:
            report.skip(GENERATED, "--examples 0 asked for no generated requests", "--examples N")
        return report
    finally:
        session.close()
