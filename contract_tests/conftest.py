"""The contract suite's options and fixtures.

Without options it runs in-process against the gateway on every registered contract target
(``repairs_gateway.contract_targets``). With ``--base-url`` it runs against that live
implementation instead, taking the same options as ``repairs-gateway contract-test``.
"""

from __future__ import annotations

import copy
import dataclasses
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from contract_tests.known_issues import unexplained
from repairs_gateway.contract.defaults import DEFAULT_EXAMPLES, DEFAULT_SCENARIOS
from repairs_gateway.contract.discovery import TargetData, discover
from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.contract.keys import key_problem
from repairs_gateway.contract.report import Report
from repairs_gateway.contract.schema import operation_ids
from repairs_gateway.contract.session import ContractSession
from repairs_gateway.contract.targets import ContractTarget, TargetEnvironment, discover_targets
from repairs_gateway.demo.contract_gateway import serve_gateway

LIVE = "live"


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("contract", "Repairs API contract suite")
    group.addoption("--base-url", help="test this live implementation instead of the in-process gateway")
    group.addoption("--api-key", default=os.environ.get("REPAIRS_API_KEY"), help="key issued for --council")
    group.addoption("--council", help="the council to test (live mode)")
    group.addoption("--other-council", help="a second council the implementation serves")
    group.addoption(
        "--other-api-key",
        default=os.environ.get("REPAIRS_OTHER_API_KEY"),
        help="a key not issued for --council",
    )
    group.addoption(
        "--staff-api-key",
        default=os.environ.get("REPAIRS_STAFF_API_KEY"),
        help="a staff key issued for --council, for the staff operations",
    )
    group.addoption("--postcode", action="append", default=[], help="a postcode with properties; repeatable")
    group.addoption("--other-postcode", action="append", default=[], help="the same, for --other-council")
    group.addoption(
        "--contract-target",
        action="append",
        default=[],
        help="in-process: only these registered targets (default: all)",
    )
    group.addoption(
        "--contract-examples",
        type=int,
        default=int(os.environ.get("REPAIRS_CONTRACT_EXAMPLES", DEFAULT_EXAMPLES)),
        help="generated requests per operation [env: REPAIRS_CONTRACT_EXAMPLES]",
    )
    group.addoption(
        "--contract-adapter-examples",
        type=int,
        default=int(os.environ.get("REPAIRS_CONTRACT_ADAPTER_EXAMPLES", ADAPTER_EXAMPLES)),
        help="generated requests per operation on the in-process targets other than builtin "
        "[env: REPAIRS_CONTRACT_ADAPTER_EXAMPLES]",
    )
    group.addoption(
        "--contract-scenarios",
        type=int,
        default=int(os.environ.get("REPAIRS_CONTRACT_SCENARIOS", DEFAULT_SCENARIOS)),
        help="random walks along the spec's links [env: REPAIRS_CONTRACT_SCENARIOS]",
    )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "target_name" in metafunc.fixturenames:
        config = metafunc.config
        if config.getoption("--base-url"):
            names = [LIVE]
        else:
            names = config.getoption("--contract-target") or list(discover_targets())
        metafunc.parametrize("target_name", names, scope="session")
    if "operation" in metafunc.fixturenames:
        metafunc.parametrize("operation", operation_ids())


def _live_endpoint(config: pytest.Config) -> Endpoint:
    api_key, council = config.getoption("--api-key"), config.getoption("--council")
    if not api_key or not council:
        raise pytest.UsageError("--base-url needs --api-key (or REPAIRS_API_KEY) and --council")
    return Endpoint(
        base_url=config.getoption("--base-url"),
        api_key=api_key,
        council=council,
        other_council=config.getoption("--other-council"),
        other_api_key=config.getoption("--other-api-key"),
        postcodes=tuple(config.getoption("--postcode")),
        other_postcodes=tuple(config.getoption("--other-postcode")),
        staff_api_key=config.getoption("--staff-api-key"),
    )


def with_every_rule(target: ContractTarget) -> ContractTarget:
    """``target`` with the rules a council may turn on turned on in each of its councils (a
    home's repeated report refused), so that the in-process run checks them too."""

    @contextmanager
    def start() -> Iterator[TargetEnvironment]:
        with target.start() as environment:
            councils = copy.deepcopy(dict(environment.councils))
            for council in councils.get("councils", []):
                council.setdefault("duplicates", {})["refuse_at_homes"] = True
            yield dataclasses.replace(environment, councils=councils)

    return ContractTarget(target.name, start, target.description)


@pytest.fixture(scope="session")
def endpoint(target_name: str, pytestconfig: pytest.Config) -> Iterator[Endpoint]:
    """The implementation under test: live, or the gateway served on a target."""
    if target_name == LIVE:
        yield _live_endpoint(pytestconfig)
        return
    with serve_gateway(with_every_rule(discover_targets()[target_name])) as served:
        yield served


@dataclass
class Contract:
    """A session against the endpoint, what discovery found, and how to judge a report."""

    session: ContractSession
    data: TargetData
    in_process: bool
    examples: int
    scenarios: int

    def fresh_report(self) -> Report:
        """Start a report of its own for one test."""
        old = self.session.report
        self.session.report = Report(target=old.target, operations=old.operations, secrets=old.secrets)
        return self.session.report

    def assert_passed(self, report: Report, operation: str | None = None, part: str | None = None) -> None:
        """Fail with the readable report when a check failed (of ``operation`` and ``part``
        only, when given). In-process, failures of the gateway's known issues (see
        known_issues.py) are set aside; live, none are."""
        failures = report.failures_of(operation, part)
        if self.in_process:
            failures = unexplained(failures)
            if report.skipped:
                pytest.fail("a contract target must let every check run:\n" + report.render())
        if failures:
            keep = {f.finding.key for f in failures}
            report.failures = {k: v for k, v in report.failures.items() if k in keep}
            pytest.fail(report.render(), pytrace=False)
        if report.skipped and not failures:
            pytest.skip("; ".join(f"{s.part}: {s.reason}" for s in report.skipped))


# Generated requests mostly probe the gateway's own validation, which is one code on every
# target: the builtin target and live runs get the full count, the adapters' targets (whose
# journey, capacity, idempotency and window-id parts always run in full) a third of it, so
# that CI's run of four targets stays within its time.
ADAPTER_EXAMPLES = 100


def _examples(config: pytest.Config, target_name: str) -> int:
    """Generated requests per operation on this target."""
    full: int = config.getoption("--contract-examples")
    if target_name in (LIVE, "builtin"):
        return full
    return min(full, int(config.getoption("--contract-adapter-examples")))


@pytest.fixture(scope="session")
def discovered(endpoint: Endpoint, target_name: str, pytestconfig: pytest.Config) -> Iterator[Contract]:
    """One session per endpoint, with the values discovery found."""
    session = ContractSession(endpoint)
    try:
        problem = key_problem(session)
        if problem is not None:
            # Every test would fail for this one reason: say it, instead of their symptoms.
            pytest.fail(problem, pytrace=False)
        data = discover(session)
        contract = Contract(
            session,
            data,
            in_process=target_name != LIVE,
            examples=_examples(pytestconfig, target_name),
            scenarios=pytestconfig.getoption("--contract-scenarios"),
        )
        contract.assert_passed(session.report) if session.report.failures else None
        yield contract
    finally:
        session.close()


@pytest.fixture
def contract(discovered: Contract) -> Contract:
    """The session, with a fresh report for this test."""
    discovered.fresh_report()
    return discovered
