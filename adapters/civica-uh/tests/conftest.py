"""Fixtures: an in-process UHWeb simulator and both adaptors on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from repairs_gateway.ports import AdapterContext

from repairs_gateway_civica_uh import UhDiary, UhHousing
from repairs_gateway_civica_uh.simulator import UhSimulator
from uh_helpers import FakeMonotonic, diary_settings, housing_settings


@pytest.fixture
def sim() -> UhSimulator:
    return UhSimulator()


@pytest.fixture
async def http(sim: UhSimulator) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app)) as client:
        yield client


@pytest.fixture
def monotonic() -> FakeMonotonic:
    return FakeMonotonic()


@pytest.fixture
async def housing(http: httpx.AsyncClient, monotonic: FakeMonotonic) -> AsyncIterator[UhHousing]:
    adaptor = UhHousing(
        housing_settings(), AdapterContext("larchford"), http_client=http, clock=monotonic
    )
    yield adaptor
    await adaptor.aclose()


@pytest.fixture
async def diary(http: httpx.AsyncClient) -> AsyncIterator[UhDiary]:
    adaptor = UhDiary(diary_settings(), AdapterContext("larchford"), http_client=http)
    yield adaptor
    await adaptor.aclose()
