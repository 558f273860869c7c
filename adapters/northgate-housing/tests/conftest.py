"""Fixtures: a fresh in-process Northgate simulator on a hand-moved clock, and the adaptor on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from ng_helpers import FakeClock, adaptor_on
from repairs_gateway_northgate_housing import NorthgateHousing
from repairs_gateway_northgate_housing.simulator import NorthgateSimulator, SimulatorConfig


@pytest.fixture
def ng_clock() -> FakeClock:
    """One clock for the simulator and the adaptor, so tokens expire for both at once."""
    return FakeClock()


@pytest.fixture
def ng_sim(ng_clock: FakeClock) -> NorthgateSimulator:
    return NorthgateSimulator(SimulatorConfig(), clock=ng_clock)


@pytest.fixture
async def northgate(ng_sim: NorthgateSimulator, ng_clock: FakeClock) -> AsyncIterator[NorthgateHousing]:
    adaptor = adaptor_on(ng_sim, clock=ng_clock)
    yield adaptor
    await adaptor.aclose()
