"""The simulator is as strict as the real service would be, and the adaptor copes:
credentials, tokens that expire, the backend's own 404s, and finite capacity."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr
from repairs_gateway.ports import BackendRejected, BackendUnavailable

from ng_helpers import BASE_URL, SIM, FakeClock, adaptor_on
from repairs_gateway_northgate_housing import NorthgateHousing
from repairs_gateway_northgate_housing.simulator import NorthgateSimulator


async def _token(http: httpx.AsyncClient) -> str:
    answer = await http.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": SIM.client_id, "client_secret": SIM.client_secret},
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


async def test_a_wrong_secret_is_refused(ng_sim: NorthgateSimulator) -> None:
    adaptor = adaptor_on(ng_sim, client_secret=SecretStr("not-the-secret"))
    try:
        with pytest.raises(BackendRejected, match="credentials") as refused:
            await adaptor.addresses_at("NH1 1AA")
    finally:
        await adaptor.aclose()
    assert "invalid_client" in (refused.value.detail or "")
    assert ng_sim.state.tokens == {}


async def test_the_token_endpoint_answers_oauths_error_shape(ng_sim: NorthgateSimulator) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ng_sim.app), base_url=BASE_URL) as http:
        answer = await http.post(
            "/oauth/token", data={"grant_type": "client_credentials", "client_id": "x", "client_secret": "y"}
        )
        assert answer.status_code == 401
        assert answer.json() == {"error": "invalid_client", "error_description": "Client authentication failed"}
        no_token = await http.get("/properties", params={"postcode": "NH1 1AA"})
        assert no_token.status_code == 401
        assert no_token.json()["Error"]["Code"] == "TOKEN_INVALID"


async def test_a_token_that_expires_early_is_replaced_once_and_the_call_goes_through(
    ng_sim: NorthgateSimulator, northgate: NorthgateHousing
) -> None:
    assert await northgate.addresses_at("NH1 1AA")
    ng_sim.state.expire_tokens()  # revoked, or the server restarted
    assert {a.uprn for a in await northgate.addresses_at("NH2 4WR")} == {"700050000201"}
    assert northgate.client.tokens_fetched == 2


async def test_a_token_is_renewed_before_it_expires(ng_clock: FakeClock) -> None:
    simulator = NorthgateSimulator(replace(SIM, token_lifetime_seconds=120), clock=ng_clock)
    adaptor = adaptor_on(simulator, clock=ng_clock)
    try:
        await adaptor.addresses_at("NH1 1AA")
        ng_clock.now += timedelta(seconds=110)  # within the last tenth of its life, not yet expired
        await adaptor.addresses_at("NH1 1AA")
    finally:
        await adaptor.aclose()
    assert adaptor.client.tokens_fetched == 2
    assert simulator.state.calls["search"] == 2  # no call was refused for an expired token


async def test_the_simulator_refuses_an_expired_token(ng_clock: FakeClock) -> None:
    simulator = NorthgateSimulator(replace(SIM, token_lifetime_seconds=60), clock=ng_clock)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator.app), base_url=BASE_URL) as http:
        token = await _token(http)
        ng_clock.now += timedelta(seconds=61)
        answer = await http.get(
            "/properties", params={"postcode": "NH1 1AA"}, headers={"Authorization": f"Bearer {token}"}
        )
    assert answer.status_code == 401
    assert answer.json()["Error"]["Code"] == "TOKEN_EXPIRED"
    assert answer.headers["www-authenticate"] == 'Bearer error="TOKEN_EXPIRED"'


async def test_concurrent_callers_share_one_token(northgate: NorthgateHousing, ng_sim: NorthgateSimulator) -> None:
    await asyncio.gather(*(northgate.addresses_at("NH1 1AB") for _ in range(20)))
    assert northgate.client.tokens_fetched == 1
    assert ng_sim.state.calls["token"] == 1


@pytest.mark.parametrize(
    ("path", "code"),
    [
        ("/works-orders/WO00000001", "WORKS_ORDER_NOT_FOUND"),
        ("/properties/P0019999", "PROPERTY_NOT_FOUND"),
        ("/properties/P0019999/cautionary-alerts", "PROPERTY_NOT_FOUND"),
    ],
)
async def test_unknown_references_are_404s_in_the_backends_shape(
    ng_sim: NorthgateSimulator, path: str, code: str
) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=ng_sim.app), base_url=BASE_URL) as http:
        answer = await http.get(path, headers={"Authorization": f"Bearer {await _token(http)}"})
    assert answer.status_code == 404
    error = answer.json()["Error"]
    assert error["Code"] == code
    assert error["Reference"]["ID"] == path.split("/")[2]
    assert error["Reference"]["AllocatedBy"] == "Northgate"
    assert len(error["CorrelationID"]) == 36


async def test_a_caller_over_capacity_is_told_to_wait(ng_clock: FakeClock) -> None:
    simulator = NorthgateSimulator(replace(SIM, requests_per_second=3), clock=ng_clock)
    adaptor = adaptor_on(simulator, clock=ng_clock)
    try:
        await adaptor.addresses_at("NH1 1AA")  # a token and a search
        await adaptor.addresses_at("NH1 1AA")
        with pytest.raises(BackendUnavailable) as busy:
            await adaptor.addresses_at("NH1 1AA")
    finally:
        await adaptor.aclose()
    assert "RATE_LIMITED" in (busy.value.detail or "")


async def test_injected_failures_follow_the_fail_rate(ng_clock: FakeClock) -> None:
    simulator = NorthgateSimulator(replace(SIM, fail_rate=1.0, seed=7), clock=ng_clock)
    adaptor = adaptor_on(simulator, clock=ng_clock)
    try:
        with pytest.raises(BackendUnavailable):
            await adaptor.addresses_at("NH1 1AA")
    finally:
        await adaptor.aclose()
