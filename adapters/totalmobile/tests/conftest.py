"""Fixtures: an in-process Totalmobile simulator on a hand-moved clock, and the adaptor on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date, datetime

import httpx
import pytest
from repairs_gateway.ports import AdapterContext, SlotQuery

from repairs_gateway_totalmobile import TotalmobileScheduler, TotalmobileSettings
from repairs_gateway_totalmobile.simulator import SimulatorConfig, TotalmobileSimulator
from tm_helpers import ADDRESS, JOB, LONDON, MONDAY, FakeClock, settings


@pytest.fixture
def clock() -> FakeClock:
    """Monday 2 June 2025, 07:00 in London: the whole week's bands are still ahead."""
    return FakeClock(datetime(2025, 6, 2, 7, 0, tzinfo=LONDON))


@pytest.fixture
def config() -> SimulatorConfig:
    return SimulatorConfig()


@pytest.fixture
def sim(config: SimulatorConfig, clock: FakeClock) -> TotalmobileSimulator:
    return TotalmobileSimulator(config, clock=clock)


@pytest.fixture
def tm_settings(config: SimulatorConfig) -> TotalmobileSettings:
    return settings(config)


@pytest.fixture
async def scheduler(
    tm_settings: TotalmobileSettings, sim: TotalmobileSimulator, clock: FakeClock
) -> AsyncIterator[TotalmobileScheduler]:
    adaptor = TotalmobileScheduler(
        tm_settings,
        AdapterContext("northfield"),
        transport=httpx.ASGITransport(app=sim.app),
        clock=clock,
    )
    yield adaptor
    await adaptor.aclose()


@pytest.fixture
def week() -> SlotQuery:
    """Monday to Sunday of the first week."""
    return SlotQuery("northfield", ADDRESS, JOB, MONDAY, date(2025, 6, 8))
