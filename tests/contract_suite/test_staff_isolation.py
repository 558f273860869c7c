"""The isolation check of a staff operation across councils, with a staff key issued for the
council under test only: retryRepair of its reference under the other council may then be
refused with 403 (the key may not use that council), which reveals nothing. A gateway that
answers for the repair there still fails."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from starlette.responses import Response

from repairs_gateway.contract.discovery import discover
from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.contract.keys import key_problem
from repairs_gateway.contract.promises import ISOLATION, authentication_and_isolation
from repairs_gateway.contract.report import Report
from repairs_gateway.contract.session import ContractSession
from repairs_gateway.contract.targets import discover_targets, serve_asgi
from repairs_gateway.demo.contract_gateway import serve_gateway

from .proxy_support import ProxiedRequest, Proxy, relay

# One worker under pytest-xdist, so that the module's gateway is started once.
pytestmark = pytest.mark.xdist_group("contract-staff-isolation")

RETRY = re.compile(r"^/v1/councils/(?P<council>[^/]+)/repairs/(?P<reference>[^/]+)/retry$")


@pytest.fixture(scope="module")
def one_council_staff() -> Iterator[Endpoint]:
    """The gateway on the built-in backends, its staff key issued for the council under test only."""
    with serve_gateway(discover_targets()["builtin"], staff_for_every_council=False) as endpoint:
        yield endpoint


class Tampered(Proxy):
    """In front of the gateway at ``upstream``, one fault. ``leak``: retryRepair under
    ``other`` is carried out under ``council`` instead, as a gateway that looks a reference
    up without its council would, so the other council's repair is answered for (and may be
    retried). ``claim_other``: listCouncils lists ``other`` for every key, so the staff key
    claims a council whose requests it then gets 403 for."""

    def __init__(self, upstream: str, council: str, other: str, *, leak: bool, claim_other: bool) -> None:
        super().__init__(upstream)
        self.council, self.other = council, other
        self.leak, self.claim_other = leak, claim_other

    async def answer(self, request: ProxiedRequest) -> Response:
        """The gateway's answer, to the request or answer tampered with."""
        crossed = RETRY.match(request.path)
        if self.leak and request.method == "POST" and crossed and crossed["council"] == self.other:
            raw_path = f"/v1/councils/{self.council}/repairs/{crossed['reference']}/retry".encode()
            request = dataclasses.replace(request, raw_path=raw_path)
        answer = await self.forward(request)
        content = answer.content
        if self.claim_other and request.path == "/v1/councils" and answer.status_code == 200:
            listed = answer.json()
            if all(c["id"] != self.other for c in listed["councils"]):
                listed["councils"].append({"id": self.other, "name": self.other.title()})
            content = json.dumps(listed).encode()
        return relay(answer, content)


def _isolation(endpoint: Endpoint) -> Report:
    """The isolation part alone, after the key check and discovery a run begins with."""
    session = ContractSession(endpoint)
    try:
        assert key_problem(session) is None
        authentication_and_isolation(session, discover(session))
        return session.report
    finally:
        session.close()


def _retry_findings(report: Report) -> list[str]:
    return [
        f"{f.finding.check}: {f.finding.message}"
        for f in report.failures_of("retryRepair")
        if f.finding.part == ISOLATION
    ]


def test_the_staff_key_really_is_for_one_council_only(one_council_staff: Endpoint) -> None:
    assert one_council_staff.staff_api_key is not None
    listed = httpx.get(
        f"{one_council_staff.base_url}/v1/councils",
        headers={"Authorization": f"Bearer {one_council_staff.staff_api_key}"},
    )
    assert [c["id"] for c in listed.json()["councils"]] == [one_council_staff.council]


def test_a_staff_key_for_one_council_passes_the_isolation_check(one_council_staff: Endpoint) -> None:
    report = _isolation(one_council_staff)
    failures = [
        f"{f.finding.operation}: {f.finding.check}: {f.finding.message}"
        for f in report.failures.values()
        if f.finding.part == ISOLATION
    ]
    assert not failures, "\n".join(failures)
    assert not [s for s in report.not_run() if s.part == ISOLATION], report.render()


@contextmanager
def _tampered(endpoint: Endpoint, *, leak: bool = False, claim_other: bool = False) -> Iterator[Endpoint]:
    """``endpoint`` behind a ``Tampered`` proxy, with the same keys and councils."""
    assert endpoint.other_council is not None
    proxy = Tampered(
        endpoint.base_url, endpoint.council, endpoint.other_council, leak=leak, claim_other=claim_other
    )
    with serve_asgi(proxy, name="tampered gateway") as url:
        yield dataclasses.replace(endpoint, base_url=url)


def test_a_gateway_that_answers_for_the_other_councils_repair_still_fails(
    one_council_staff: Endpoint,
) -> None:
    other = one_council_staff.other_council
    with _tampered(one_council_staff, leak=True) as leaking:
        report = _isolation(leaking)
    # The retry under the other council reached the repair (409: it has nothing to retry).
    findings = _retry_findings(report)
    assert findings, report.render()
    # The report says which answer it expected, and why.
    expected = (
        f"retryRepair of a {one_council_staff.council} reference under {other}, where the staff key is "
        f"not issued for {other} (listCouncils with it lists only {one_council_staff.council}): expected 403"
    )
    assert any(finding.startswith(expected) for finding in findings), findings


def test_a_403_is_not_taken_from_a_staff_key_the_gateway_lists_for_the_other_council(
    one_council_staff: Endpoint,
) -> None:
    # Which answer is right comes from the gateway: one that lists the other council for the
    # staff key but refuses it there contradicts itself, and the check says so.
    other = one_council_staff.other_council
    with _tampered(one_council_staff, claim_other=True) as claiming:
        report = _isolation(claiming)
    findings = _retry_findings(report)
    expected = (
        f"retryRepair of a {one_council_staff.council} reference under {other}, where the staff key may "
        f"use {other} (listCouncils with it lists "
    )
    assert any(finding.startswith(expected) and "expected 404" in finding for finding in findings), findings
    assert any(finding.endswith("answered 403") for finding in findings), findings
