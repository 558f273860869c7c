"""Shared test helpers for the Totalmobile adaptor: constants, a hand-moved clock, and
settings pointing at an in-process simulator."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import SecretStr
from repairs_gateway.ports import Address, BookingRequest, Contact, Hazard, Job, Priority, Slot

from repairs_gateway_totalmobile import TotalmobileSettings
from repairs_gateway_totalmobile.simulator import SimulatorConfig

BASE_URL = "http://tm.test"
LONDON = ZoneInfo("Europe/London")
MONDAY = date(2025, 6, 2)  # British Summer Time
SIM = SimulatorConfig()

ADDRESS = Address(
    uprn="100023336956",
    lines=("Flat 2", "1 High Street", "Northfield"),
    postcode="NF1 1AA",
    property_ref="00012345",
)
JOB = Job(trade="plumbing", duration_minutes=60, priority=Priority.NORMAL, sor_code="20060020")


class FakeClock:
    """A clock the tests move by hand, shared by the simulator and the adaptor."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def settings(config: SimulatorConfig = SIM, **changes: object) -> TotalmobileSettings:
    """Settings for the simulator's default installation, with ``changes``."""
    values: dict[str, object] = {
        "base_url": BASE_URL,
        "instance": config.instance,
        "world_id": config.world_id,
        "client_id": config.client_id,
        "client_secret": SecretStr(config.client_secret),
        "timeout_seconds": 2,
    }
    values.update(changes)
    return TotalmobileSettings.model_validate(values)


def request(
    slot: Slot,
    reference: str = "NF-7KQ3M9X",
    *,
    works_order_ref: str | None = None,
    hazards: tuple[Hazard, ...] = (),
) -> BookingRequest:
    """A booking of the plumbing job at the flat into ``slot``."""
    return BookingRequest(
        council_id="northfield",
        reference=reference,
        address=ADDRESS,
        job=JOB,
        slot=slot,
        description="The kitchen sink is blocked",
        contact=Contact("Sam Resident", phone="07700 900123"),
        works_order_ref=works_order_ref,
        hazards=hazards,
    )


def properties(job: dict[str, object]) -> dict[str, str]:
    """A job's additionalProperties as a mapping."""
    pairs = job.get("additionalProperties")
    assert isinstance(pairs, list)
    return {str(p["name"]): str(p["value"]) for p in pairs}
