"""The gateway's own promises: idempotent retries, repeated reports, unforgeable window ids,
tenant isolation."""

from __future__ import annotations

from contract_tests.conftest import Contract
from repairs_gateway.contract.promises import (
    authentication_and_isolation,
    idempotent_retries,
    repeated_reports,
    unforgeable_window_ids,
)


def test_retries_with_the_same_key_make_one_repair(contract: Contract) -> None:
    idempotent_retries(contract.session, contract.data)
    contract.assert_passed(contract.session.report)


def test_a_repeated_report_is_not_booked_twice(contract: Contract) -> None:
    repeated_reports(contract.session, contract.data)
    contract.assert_passed(contract.session.report)


def test_window_ids_cannot_be_forged_or_carried_elsewhere(contract: Contract) -> None:
    unforgeable_window_ids(contract.session, contract.data)
    contract.assert_passed(contract.session.report)


def test_keys_and_councils_are_isolated(contract: Contract) -> None:
    authentication_and_isolation(contract.session, contract.data)
    contract.assert_passed(contract.session.report)
