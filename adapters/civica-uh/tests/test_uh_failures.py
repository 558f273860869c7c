"""The simulator is as strict as UH, and every failure reaches the gateway as a typed
error: refusals in the body, SOAP faults, HTTP errors and timeouts."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from repairs_gateway.conformance import FaultyTransport
from repairs_gateway.ports import BackendRejected, BackendUnavailable

from repairs_gateway_civica_uh import UhHousing
from repairs_gateway_civica_uh.protocol import SOAP11_ENVELOPE_NS
from repairs_gateway_civica_uh.simulator import UhSimulator
from uh_helpers import credentials, fault_string, housing_settings, post, result


async def test_a_wrong_password_is_refused_in_the_body(http: httpx.AsyncClient) -> None:
    status, root = await post(
        http,
        "PropertyService",
        "GetPropertyByRef",
        credentials(password="guess") + "<u:PropertyReference>00041001</u:PropertyReference>",
    )
    answer = result(root, "GetPropertyByRef")
    assert status == 200
    assert answer["Success"] == "false" and answer["ErrorCode"] == "101"
    assert "wrong password" in answer["ErrorMessage"]
    assert "Property" not in answer


async def test_an_unknown_user_and_a_missing_source_system_are_refused(
    http: httpx.AsyncClient,
) -> None:
    fields = "<u:PostCode>UH1 1AA</u:PostCode>"
    _, root = await post(
        http, "PropertyService", "GetPropertyListByPostCode", credentials(user="nobody") + fields
    )
    assert result(root, "GetPropertyListByPostCode")["ErrorCode"] == "101"
    # SourceSystem is required by the schema: WCF faults before UH sees the request.
    status, root = await post(
        http, "PropertyService", "GetPropertyListByPostCode", credentials(source=None) + fields
    )
    assert status == 500 and "deserialize" in (fault_string(root) or "")
    # Present but empty, UH itself refuses it.
    _, root = await post(
        http, "PropertyService", "GetPropertyListByPostCode", credentials(source="") + fields
    )
    assert result(root, "GetPropertyListByPostCode")["ErrorCode"] == "102"


async def test_an_unknown_property_is_refused(http: httpx.AsyncClient) -> None:
    _, root = await post(
        http,
        "PropertyService",
        "GetPropertyAlerts",
        credentials() + "<u:PropertyReference>99999999</u:PropertyReference>",
    )
    answer = result(root, "GetPropertyAlerts")
    assert (answer["Success"], answer["ErrorCode"]) == ("false", "201")


async def test_a_soap_action_of_another_operation_is_a_fault(http: httpx.AsyncClient) -> None:
    status, root = await post(
        http,
        "PropertyService",
        "GetPropertyAlerts",
        credentials() + "<u:PropertyReference>00041001</u:PropertyReference>",
        action="http://schemas.civica.co.uk/UHWeb/2013/03/IPropertyService/GetPropertyByRef",
    )
    assert status == 500 and "ActionNotSupported" in (fault_string(root) or "")


async def test_the_adaptor_reports_refused_credentials_as_rejected(
    http: httpx.AsyncClient,
) -> None:
    adaptor = UhHousing(housing_settings(password="guess"), http_client=http)
    with pytest.raises(BackendRejected) as refused:
        await adaptor.addresses_at("UH1 1AA")
    assert "Authentication failed" in (refused.value.detail or "")
    await adaptor.aclose()


@pytest.fixture
async def faulty() -> AsyncIterator[tuple[UhHousing, FaultyTransport]]:
    faults = FaultyTransport(httpx.ASGITransport(app=UhSimulator().app))
    async with httpx.AsyncClient(transport=faults) as http:
        adaptor = UhHousing(housing_settings(timeout_seconds=0.2), http_client=http)
        yield adaptor, faults
        await adaptor.aclose()


def _fault(code: str) -> str:
    return (
        f'<s:Envelope xmlns:s="{SOAP11_ENVELOPE_NS}"><s:Body><s:Fault>'
        f"<faultcode>s:{code}</faultcode><faultstring>boom</faultstring>"
        "</s:Fault></s:Body></s:Envelope>"
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("refused", BackendUnavailable),
        ("503", BackendUnavailable),
        ("server fault", BackendUnavailable),
        ("client fault", BackendRejected),
        ("403", BackendRejected),
        ("html", BackendRejected),
    ],
)
async def test_failures_map_to_typed_errors(
    faulty: tuple[UhHousing, FaultyTransport], name: str, expected: type[Exception]
) -> None:
    adaptor, faults = faulty
    xml = "text/xml; charset=utf-8"
    control = {
        "refused": faults.refused(),
        "503": faults.answering("busy", status=503, content_type="text/plain"),
        "server fault": faults.answering(_fault("Server"), status=500, content_type=xml),
        "client fault": faults.answering(_fault("Client"), status=500, content_type=xml),
        "403": faults.answering("<html>Forbidden</html>", status=403, content_type="text/html"),
        "html": faults.answering("<html>Log in</html>", content_type="text/html"),
    }[name]
    async with control():
        with pytest.raises(expected):
            await asyncio.wait_for(adaptor.addresses_at("UH1 1AA"), 5)


async def test_a_hanging_uh_is_unavailable_within_the_time_limit(
    faulty: tuple[UhHousing, FaultyTransport],
) -> None:
    adaptor, faults = faulty
    started = time.monotonic()
    async with faults.hang()():
        with pytest.raises(BackendUnavailable) as failed:
            await adaptor.addresses_at("UH1 1AA")
    assert time.monotonic() - started < 1.5
    assert "no answer within 0.2 s" in (failed.value.detail or "")


async def test_injected_failures_follow_the_fail_rate() -> None:
    from dataclasses import replace

    sim = UhSimulator(replace(UhSimulator().config, fail_rate=1.0, seed=3))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app)) as http:
        adaptor = UhHousing(housing_settings(), http_client=http)
        with pytest.raises(BackendUnavailable):
            await adaptor.addresses_at("UH1 1AA")
        await adaptor.aclose()
