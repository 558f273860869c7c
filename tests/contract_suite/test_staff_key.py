"""The staff key given to `contract-test`: a resident key given as `--staff-api-key` stops the
run at once naming the option and what the implementation answered, a real staff key still
passes, and an implementation that refuses a real staff key in any other way fails (it is
not taken for a key problem)."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Iterator

import pytest
from starlette.responses import Response

from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.contract.promises import ISOLATION
from repairs_gateway.contract.runner import RunOptions, run_contract
from repairs_gateway.contract.targets import serve_asgi

from .proxy_support import ProxiedRequest, Proxy, run_contract_test

# One worker under pytest-xdist, so that the module's gateway is started once.
pytestmark = pytest.mark.xdist_group("contract-staff-key")

PASSED, FAILED, STOPPED = 0, 1, 4
# listRepairs and retryRepair, the spec's staff operations.
STAFF_OPERATION = re.compile(r"^/v1/councils/[^/]+/repairs(/[^/]+/retry)?$")


def _every_other_option(gateway: Endpoint) -> list[str]:
    """The options that run every part besides the staff key's."""
    assert gateway.other_council is not None and gateway.other_api_key is not None
    options = ["--other-council", gateway.other_council, "--other-api-key", gateway.other_api_key]
    options += [option for postcode in gateway.postcodes for option in ("--postcode", postcode)]
    options += [option for postcode in gateway.other_postcodes for option in ("--other-postcode", postcode)]
    return options


def test_a_resident_key_given_as_the_staff_key_stops_the_run_naming_the_option(gateway: Endpoint) -> None:
    # The key under test is a resident key: given as the staff key too, every staff check
    # would fail, blaming the implementation (retryRepair across councils answered 403).
    result = run_contract_test(gateway, *_every_other_option(gateway), "--staff-api-key", gateway.api_key)
    assert result.exit_code == STOPPED, result.output
    text = " ".join(result.output.split())
    assert (
        f"STOPPED: the staff API key is answered as a resident key by {gateway.base_url}: listRepairs of "
        f"{gateway.council!r} with it answered 403, a /problems/forbidden problem saying "
    ) in text
    # What was observed, then what to do, and what it means if the key really is a staff key.
    assert "naming Authorization (the spec's answer to a resident key at a staff operation)" in text
    assert "though its triage tree there answered 200" in text
    assert (
        "--staff-api-key (or REPAIRS_STAFF_API_KEY) must be a key with the staff scope issued for "
        "--council; it is the same key as --api-key."
    ) in text
    assert "If it is one, the implementation wrongly refuses a staff key at the staff operations" in text
    assert "FAILED" not in text and gateway.api_key not in text


def test_a_staff_key_still_passes(gateway: Endpoint) -> None:
    assert gateway.staff_api_key is not None
    result = run_contract_test(
        gateway, *_every_other_option(gateway), "--staff-api-key", gateway.staff_api_key
    )
    assert result.exit_code == PASSED, result.output
    assert "\nPASSED: 0 distinct failure(s)" in result.output


class RefusingStaffKeys(Proxy):
    """In front of the gateway at ``upstream``, refusing ``staff_key`` the staff operations
    with a 403 that does not name Authorization (as if the key were not issued for the
    council, although its triage tree answers 200): the implementation's fault, not the key's."""

    def __init__(self, upstream: str, staff_key: str) -> None:
        super().__init__(upstream)
        self.staff_key = staff_key

    async def answer(self, request: ProxiedRequest) -> Response:
        """A 403 to the staff key at a staff operation; the gateway's answer to the rest."""
        if (
            STAFF_OPERATION.match(request.path)
            and request.header(b"authorization") == f"Bearer {self.staff_key}"
        ):
            problem = {
                "type": "/problems/forbidden",
                "title": "Forbidden",
                "status": 403,
                "detail": "This API key may not be used here.",
                "instance": request.path,
            }
            return Response(
                json.dumps(problem),
                status_code=403,
                media_type="application/problem+json",
                headers={"X-Request-Id": "refused-staff-key"},
            )
        return await super().answer(request)


@pytest.fixture(scope="module")
def refusing(gateway: Endpoint) -> Iterator[Endpoint]:
    """The gateway behind ``RefusingStaffKeys``, with no second council: nothing across
    councils would show the refusal."""
    assert gateway.staff_api_key is not None
    with serve_asgi(RefusingStaffKeys(gateway.base_url, gateway.staff_api_key), name="refusing") as url:
        yield dataclasses.replace(gateway, base_url=url, other_council=None, other_postcodes=())


def test_an_implementation_that_refuses_a_staff_key_otherwise_fails_and_is_not_stopped(
    refusing: Endpoint,
) -> None:
    report = run_contract(refusing, RunOptions(examples=0, scenarios=0))
    assert report.stopped is None, report.stopped
    findings = [f.finding for f in report.failures_of("listRepairs", ISOLATION)]
    assert any(
        f.check == "listRepairs with the staff key: expected 200" and f.status == 403 for f in findings
    ), report.render()
