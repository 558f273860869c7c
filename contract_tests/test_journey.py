"""The resident's journey through the spec's links, with its state checked at every step."""

from __future__ import annotations

from contract_tests.conftest import Contract
from repairs_gateway.contract.journey import JOURNEY, Journey, use_up_capacity
from repairs_gateway.contract.stateful import PART as LINK_WALK
from repairs_gateway.contract.stateful import walk_links


def test_journey_books_reschedules_and_cancels(contract: Contract) -> None:
    Journey(contract.session, contract.data).walk()
    assert contract.session.report.passed.get(JOURNEY, 0) >= 15, "the journey stopped early"
    contract.assert_passed(contract.session.report)


def test_full_window_is_no_longer_offered(contract: Contract) -> None:
    use_up_capacity(contract.session, contract.data)
    contract.assert_passed(contract.session.report)


def test_random_walks_along_links_conform(contract: Contract) -> None:
    walk_links(contract.session, contract.data, contract.scenarios)
    report = contract.session.report
    contract.assert_passed(report, part=LINK_WALK)
    assert {"createRepair", "getRepair"} <= {op for op, n in report.cases.items() if n}, (
        "the walks never booked"
    )
