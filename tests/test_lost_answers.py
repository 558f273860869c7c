"""A scheduler that acts and then loses its answer (or is cut short by the gateway's time
limit): what the resident is told must match what the scheduler holds."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from repairs_gateway.builtin.calendar import BuiltinCalendar, CalendarSettings, build_calendar
from repairs_gateway.demo.data import demo_document
from repairs_gateway.ports import (
    AdapterContext,
    AdapterPlugin,
    BackendUnavailable,
    Booking,
    BookingRequest,
    BookingState,
    BookingStatus,
    Job,
    Slot,
    SlotQuery,
)

from gateway_support import Gateway
from journey import NORTHFIELD, create, repair_body, windows


@dataclass
class Faults:
    """What the scheduler does after acting: ``lose`` its answer, or ``stall`` past the limit."""

    after_acting: str = "answer"  # answer | lose | stall
    status_down: bool = False
    # Answer status with this window, as DRS does for an order it holds unscheduled.
    status_window: tuple[Any, Any] | None = None


class ForgetfulCalendar:
    """The built-in calendar, whose booking and moving act and then fail as ``faults`` say."""

    def __init__(self, inner: BuiltinCalendar, faults: Faults) -> None:
        self._inner, self._faults = inner, faults

    async def _after(self) -> None:
        if self._faults.after_acting == "lose":
            raise BackendUnavailable("connection reset", detail="test: the answer was lost")
        if self._faults.after_acting == "stall":
            await asyncio.sleep(30)

    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        return await self._inner.slots(query)

    async def book(self, request: BookingRequest) -> Booking:
        booking = await self._inner.book(request)
        await self._after()
        return booking

    async def reschedule(self, booking: Booking, job: Job, slot: Slot) -> Booking:
        moved = await self._inner.reschedule(booking, job, slot)
        await self._after()
        return moved

    async def cancel(self, booking: Booking) -> None:
        await self._inner.cancel(booking)

    async def status(self, booking: Booking) -> BookingState:
        if self._faults.status_down:
            raise BackendUnavailable("down", detail="test")
        if self._faults.status_window is not None:
            return BookingState(BookingStatus.BOOKED, *self._faults.status_window)
        return await self._inner.status(booking)


@pytest.fixture
async def forgetful(make_gateway: Any) -> tuple[Gateway, Faults]:
    faults = Faults()

    def build(settings: CalendarSettings, context: AdapterContext) -> ForgetfulCalendar:
        return ForgetfulCalendar(build_calendar(settings, context), faults)

    document = demo_document()
    document["councils"][0]["schedulers"][0]["adapter"] = "forgetful"
    plugin = AdapterPlugin("forgetful", frozenset({"scheduler"}), CalendarSettings, build)
    gateway: Gateway = await make_gateway(
        document=document,
        plugins={"forgetful": plugin},
        backend_timeout_seconds=0.2,
        booking_timeout_seconds=0.4,
    )
    return gateway, faults


@pytest.mark.parametrize("after_acting", ["lose", "stall"])
async def test_a_booking_made_before_its_answer_was_lost_is_confirmed(
    forgetful: tuple[Gateway, Faults], after_acting: str
) -> None:
    gateway, faults = forgetful
    window = (await windows(gateway))["days"][0]["windows"][0]
    faults.after_acting = after_acting
    response = await create(gateway, repair_body(window["id"]))
    assert response.status_code == 201
    assert response.json()["status"] == "booked"
    assert response.json()["appointment"]["start"] == window["start"]


async def test_a_booking_that_could_not_be_confirmed_is_taken_up_when_read(
    forgetful: tuple[Gateway, Faults],
) -> None:
    gateway, faults = forgetful
    window = (await windows(gateway))["days"][0]["windows"][0]
    faults.after_acting, faults.status_down = "lose", True
    reference = (await create(gateway, repair_body(window["id"]))).json()["reference"]
    faults.status_down = False
    seen = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    assert seen.json()["status"] == "booked"
    assert seen.json()["appointment"] == {
        "start": window["start"],
        "end": window["end"],
        "label": window["label"],
    }


async def test_a_move_made_before_its_answer_was_lost_is_confirmed(forgetful: tuple[Gateway, Faults]) -> None:
    gateway, faults = forgetful
    page = await windows(gateway)
    first, second = page["days"][0]["windows"][0], page["days"][1]["windows"][0]
    reference = (await create(gateway, repair_body(first["id"]))).json()["reference"]
    faults.after_acting = "lose"
    moved = await gateway.client.post(
        f"{NORTHFIELD}/repairs/{reference}/reschedule",
        json={"windowId": second["id"]},
        headers=gateway.auth(),
    )
    assert moved.status_code == 200
    assert moved.json()["appointment"]["start"] == second["start"]


async def test_a_move_that_cannot_be_confirmed_does_not_claim_nothing_changed(
    forgetful: tuple[Gateway, Faults],
) -> None:
    gateway, faults = forgetful
    page = await windows(gateway)
    first, second = page["days"][0]["windows"][0], page["days"][1]["windows"][0]
    reference = (await create(gateway, repair_body(first["id"]))).json()["reference"]
    faults.after_acting, faults.status_down = "lose", True
    moved = await gateway.client.post(
        f"{NORTHFIELD}/repairs/{reference}/reschedule",
        json={"windowId": second["id"]},
        headers=gateway.auth(),
    )
    assert moved.status_code == 503
    assert "could not be confirmed" in moved.json()["detail"]
    faults.status_down = False
    seen = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    assert seen.json()["appointment"]["start"] == second["start"]  # what the scheduler holds


async def test_a_booking_held_in_another_window_is_not_taken_for_the_one_asked(
    forgetful: tuple[Gateway, Faults],
) -> None:
    gateway, faults = forgetful
    window = (await windows(gateway))["days"][0]["windows"][0]
    faults.after_acting, faults.status_down = "lose", True
    reference = (await create(gateway, repair_body(window["id"]))).json()["reference"]
    faults.status_down = False
    start = datetime.fromisoformat(window["start"])
    faults.status_window = (start - timedelta(hours=20), start + timedelta(days=3))  # a planning default
    seen = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    assert seen.json()["status"] == "received"
    assert seen.json()["appointment"] is None
