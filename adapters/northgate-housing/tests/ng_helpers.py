"""Shared test helpers: the simulator's seeded facts, a hand-moved clock, request builders."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
from pydantic import SecretStr
from repairs_gateway.ports import Address, Contact, Hazard, Job, Priority, WorksOrderRequest

from repairs_gateway_northgate_housing import NorthgateHousing, NorthgateSettings
from repairs_gateway_northgate_housing.simulator import NorthgateSimulator, SimulatorConfig

BASE_URL = "http://northgate.test"
SIM = SimulatorConfig()
HOUSE_1 = Address("700050000001", ("1 Heron Way", "Netherholme"), "NH1 1AA", "dwelling", "P0010001")
HOUSE_3 = Address("700050000003", ("3 Heron Way", "Netherholme"), "NH1 1AA", "dwelling", "P0010003")
BUNGALOW = Address("700050000201", ("7 Wren Close", "Netherholme"), "NH2 4WR", "dwelling", "P0010201")
PLUMBING = Job(trade="plumbing", duration_minutes=60, priority=Priority.URGENT, sor_code="20060020")


class FakeClock:
    """A clock the tests move by hand."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime(2025, 6, 2, 9, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


def settings(**overrides: Any) -> NorthgateSettings:
    """Settings for the seeded simulator, with a short time limit."""
    values: dict[str, Any] = {
        "base_url": BASE_URL,
        "client_id": SIM.client_id,
        "client_secret": SecretStr(SIM.client_secret),
        "timeout_seconds": 0.5,
        **overrides,
    }
    return NorthgateSettings.model_validate(values)


def adaptor_on(
    simulator: NorthgateSimulator,
    *,
    clock: FakeClock | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    **overrides: Any,
) -> NorthgateHousing:
    """The adaptor talking to ``simulator`` in-process."""
    return NorthgateHousing(
        settings(**overrides),
        transport=transport or httpx.ASGITransport(app=simulator.app),
        clock=clock,
    )


def order_request(
    reference: str = "NH-7KQ3M9X",
    address: Address = HOUSE_1,
    job: Job = PLUMBING,
    hazards: tuple[Hazard, ...] = (),
) -> WorksOrderRequest:
    """A works order for a blocked sink."""
    return WorksOrderRequest(
        council_id="netherholme",
        reference=reference,
        address=address,
        job=job,
        description="The kitchen sink is blocked",
        contact=Contact("Sam Resident", phone="07700 900123"),
        hazards=hazards,
    )
