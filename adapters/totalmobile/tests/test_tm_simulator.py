"""The simulator is as strict as Totalmobile: credentials, tokens that expire, its own error
documents, finite capacity, and the latency and failures it is told to inject."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from repairs_gateway.ports import SimulatorOptions

from repairs_gateway_totalmobile.plugin import PLUGIN
from repairs_gateway_totalmobile.simulator import SimulatorConfig, TotalmobileSimulator
from tm_helpers import FakeClock

JOBS = "/SIM/api/optimise/worlds/REPAIRS/jobs"
TOKEN = "/SIM/identity/connect/token"
GOOD = {
    "grant_type": "client_credentials",
    "client_id": "repairs-gateway",
    "client_secret": "tm-sim-secret",
    "scope": "optimiseApi",
}


def job(reference: str = "NF-1", **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identity": {"reference": reference},
        "description": "Blocked sink",
        "origin": "test",
        "duration": 60,
        "workType": "plumbing",
        "skills": [{"identity": {"reference": "plumbing"}}],
        "dueDate": {"end": "2025-06-06T16:00:00Z"},
        "location": {
            "reference": "00012345",
            "address": "1 High Street, NF1 1AA",
            "addressDetail": {"addressLine1": "1 High Street", "postCode": "NF1 1AA"},
        },
        "contact": {"name": "Sam"},
        "attributes": [],
        "additionalProperties": [],
    }
    body.update(changes)
    return body


@pytest.fixture
async def http(sim: TotalmobileSimulator) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sim.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tm.test") as client:
        yield client


async def bearer(http: httpx.AsyncClient) -> dict[str, str]:
    answer = await http.post(TOKEN, data=GOOD)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    return {"Authorization": f"Bearer {body['access_token']}"}


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({**GOOD, "client_secret": "guess"}, "invalid_client"),
        ({**GOOD, "client_id": "someone"}, "invalid_client"),
        ({**GOOD, "grant_type": "password"}, "unsupported_grant_type"),
        ({**GOOD, "scope": "adminApi"}, "invalid_scope"),
    ],
)
async def test_wrong_credentials_are_refused_with_an_oauth_error(
    http: httpx.AsyncClient, form: dict[str, str], error: str
) -> None:
    answer = await http.post(TOKEN, data=form)
    assert answer.status_code == 400
    assert answer.json()["error"] == error


async def test_basic_authentication_of_the_client_is_accepted(http: httpx.AsyncClient) -> None:
    answer = await http.post(
        TOKEN,
        data={"grant_type": "client_credentials"},
        auth=("repairs-gateway", "tm-sim-secret"),
    )
    assert answer.status_code == 200


async def test_no_token_or_an_expired_one_is_a_401(
    http: httpx.AsyncClient, sim: TotalmobileSimulator, clock: FakeClock
) -> None:
    assert (await http.get(f"{JOBS}/NF-1")).status_code == 401
    headers = await bearer(http)
    assert (await http.get(f"{JOBS}/NF-1", headers=headers)).status_code == 404
    clock.now += timedelta(seconds=3600)
    expired = await http.get(f"{JOBS}/NF-1", headers=headers)
    assert expired.status_code == 401
    assert 'error="invalid_token"' in expired.headers["www-authenticate"]


@pytest.mark.parametrize("config", [SimulatorConfig(token_lifetime_seconds=5)])
async def test_the_token_lifetime_is_settable(http: httpx.AsyncClient) -> None:
    answer = await http.post(TOKEN, data=GOOD)
    assert answer.json()["expires_in"] == 5


async def test_an_unknown_job_is_a_404_problem_document(http: httpx.AsyncClient) -> None:
    headers = await bearer(http)
    answer = await http.get(f"{JOBS}/NF-NOPE", headers=headers)
    assert answer.status_code == 404
    assert answer.headers["content-type"].startswith("application/problem+json")
    body = answer.json()
    assert body["errorCode"] == "JobNotFound" and body["status"] == 404 and body["traceId"]
    deleted = await http.delete(f"{JOBS}/NF-NOPE", headers=headers)
    assert deleted.json()["errorCode"] == "JobNotFound"


async def test_a_job_is_validated_field_by_field_and_references_are_unique(
    http: httpx.AsyncClient,
) -> None:
    headers = await bearer(http)
    bad = job(duration=0, skills=[{"identity": {"reference": "juggling"}}], colour="red")
    answer = await http.post(JOBS, json=bad, headers=headers)
    assert answer.status_code == 400
    assert set(answer.json()["errors"]) == {"duration", "skills[0]", "colour"}
    assert (await http.post(JOBS, json=job(), headers=headers)).status_code == 201
    again = await http.post(JOBS, json=job(), headers=headers)
    assert (again.status_code, again.json()["errorCode"]) == (409, "JobAlreadyExists")
    listed = (await http.get(JOBS, params={"pageSize": 10}, headers=headers)).json()
    assert listed["totalCount"] == 1 and listed["items"][0]["status"] == "Unallocated"


@pytest.mark.parametrize("config", [SimulatorConfig(capacity=1)])
async def test_an_offer_is_accepted_once_and_a_full_band_not_offered(
    http: httpx.AsyncClient,
) -> None:
    headers = await bearer(http)
    for reference in ("NF-1", "NF-2"):
        await http.post(JOBS, json=job(reference), headers=headers)
    window = {"from": "2025-06-02", "to": "2025-06-02"}
    offers = (
        await http.get(f"{JOBS}/NF-1/appointment-offers", params=window, headers=headers)
    ).json()
    offer = offers["offers"][0]["identity"]["reference"]
    taken = await http.post(
        f"{JOBS}/NF-1/appointment-offers/{offer}/accept", json={}, headers=headers
    )
    assert taken.status_code == 200 and taken.json()["appointment"]["offerReference"] == offer
    late = await http.post(
        f"{JOBS}/NF-2/appointment-offers/{offer}/accept", json={}, headers=headers
    )
    assert (late.status_code, late.json()["errorCode"]) == (409, "OfferNoLongerAvailable")
    left = (
        await http.get(f"{JOBS}/NF-2/appointment-offers", params=window, headers=headers)
    ).json()
    assert offer not in {o["identity"]["reference"] for o in left["offers"]}


async def test_offers_need_a_range_it_takes(http: httpx.AsyncClient) -> None:
    headers = await bearer(http)
    await http.post(JOBS, json=job(), headers=headers)
    too_long = {"from": "2025-06-02", "to": "2025-06-30"}
    answer = await http.get(f"{JOBS}/NF-1/appointment-offers", params=too_long, headers=headers)
    assert (answer.status_code, answer.json()["errorCode"]) == (400, "RangeTooLong")
    missing = await http.get(f"{JOBS}/NF-1/appointment-offers", headers=headers)
    assert missing.status_code == 400


async def test_latency_and_fail_rate_come_from_the_simulator_options() -> None:
    backend = PLUGIN.simulator(SimulatorOptions(latency_ms=50, fail_rate=1.0, seed=3))  # type: ignore[misc]
    transport = httpx.ASGITransport(app=backend.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://tm.test") as client:
        began = time.perf_counter()
        answers = [await client.post(TOKEN, data=GOOD) for _ in range(4)]
        assert time.perf_counter() - began >= 0.2
    assert all(a.status_code != 200 or not a.content.endswith(b"}") for a in answers)


def test_describe_names_the_url_instance_world_and_credentials() -> None:
    text = TotalmobileSimulator().describe("http://127.0.0.1:8200")
    for expected in (
        "http://127.0.0.1:8200",
        "instance:       SIM",
        "world id:       REPAIRS",
        "client id:      repairs-gateway",
        "client secret:  tm-sim-secret",
        "http://127.0.0.1:8200/SIM/identity/connect/token",
    ):
        assert expected in text
