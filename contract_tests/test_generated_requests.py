"""Generated valid and invalid requests to every operation: every answer conforms to the
spec (status, headers, content type, body), no 5xx, and invalid input gets a 4xx problem."""

from __future__ import annotations

from contract_tests.conftest import Contract
from repairs_gateway.contract.properties import PART, check_operation


def test_every_answer_conforms(contract: Contract, operation: str) -> None:
    report = contract.session.report
    check_operation(contract.session, contract.data, operation, contract.examples)
    assert report.cases.get(operation, 0) >= contract.examples * 0.9, "fewer requests than asked were sent"
    contract.assert_passed(report, operation=operation, part=PART)
