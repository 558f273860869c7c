"""Fixtures: an in-process DRS simulator with a hand-moved clock, and the adaptor on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime

import httpx
import pytest
from repairs_gateway.ports import AdapterContext, Address, Job, Priority, SlotQuery

from drs_helpers import (
    BASE_URL,
    CONTRACT,
    ENDPOINT,
    LOGIN,
    LONDON,
    MONDAY,
    PASSWORD,
    FakeClock,
)
from repairs_gateway_kirona_drs import DrsScheduler, DrsSettings
from repairs_gateway_kirona_drs.simulator import DrsSimulator, SimulatorConfig


@pytest.fixture
def clock() -> FakeClock:
    """Monday 2 June 2025, 07:00 in London: the whole week's slots are still ahead."""
    return FakeClock(datetime(2025, 6, 2, 7, 0, tzinfo=LONDON))


@pytest.fixture
def config() -> SimulatorConfig:
    return SimulatorConfig()


@pytest.fixture
def sim(config: SimulatorConfig, clock: FakeClock) -> DrsSimulator:
    return DrsSimulator(config, clock=clock)


@pytest.fixture
async def http(sim: DrsSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url=BASE_URL
    ) as client:
        yield client


@pytest.fixture
def settings() -> DrsSettings:
    return DrsSettings(
        endpoint=ENDPOINT,
        login=LOGIN,
        password=PASSWORD,
        contract=CONTRACT,
        timeout_seconds=2,
        trade_sor={"carpentry": "20110010"},
    )


@pytest.fixture
async def scheduler(
    settings: DrsSettings, http: httpx.AsyncClient, clock: FakeClock
) -> AsyncIterator[DrsScheduler]:
    adaptor = DrsScheduler(settings, AdapterContext("northfield"), http_client=http, clock=clock)
    yield adaptor
    await adaptor.aclose()


@pytest.fixture
def address() -> Address:
    return Address(
        uprn="100023336956",
        lines=("Flat 2", "1 High Street", "Northfield"),
        postcode="NF1 1AA",
        property_ref="00012345",
    )


@pytest.fixture
def job() -> Job:
    return Job(trade="plumbing", duration_minutes=60, priority=Priority.NORMAL, sor_code="20060020")


@pytest.fixture
def week(address: Address, job: Job) -> SlotQuery:
    """Monday to Sunday of the first week."""
    return SlotQuery("northfield", address, job, MONDAY, date(2025, 6, 8))
