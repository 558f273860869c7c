"""Changes to a repair under stress: races between replicas, adaptors' own errors, retries
after a window id expired, bookings changed or forgotten in the scheduler, works orders
left behind, and input PostgreSQL cannot store. (Found by review; each failed before.)"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel
from sqlalchemy import text

from repairs_gateway.builtin.address_register import RegisterSettings, build_register, import_csv
from repairs_gateway.builtin.calendar import CalendarSettings, build_calendar
from repairs_gateway.demo.data import DEMO, demo_document
from repairs_gateway.ports import (
    AdapterError,
    AdapterPlugin,
    Address,
    BackendRejected,
    Booking,
    Job,
    NotFound,
    Priority,
    Slot,
    WorksOrderRequest,
)
from repairs_gateway.services.changes import WITHDRAW_JOB

from gateway_support import Gateway, on_both_databases
from journey import NORTHFIELD, create, field_names, first_window, repair_body, windows


class SlowAddresses:
    """The built-in register; each ``address`` call first sleeps the next of ``delays``."""

    delays: ClassVar[list[float]] = []

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    async def addresses_at(self, postcode: str) -> Sequence[Address]:
        return await self._inner.addresses_at(postcode)

    async def address(self, uprn: str) -> Address | None:
        if SlowAddresses.delays:
            await asyncio.sleep(SlowAddresses.delays.pop(0))
        return await self._inner.address(uprn)


SLOW = AdapterPlugin(
    "slow-register",
    frozenset({"addresses"}),
    RegisterSettings,
    lambda settings, context: SlowAddresses(build_register(settings, context)),
)


async def slow_gateway(make_gateway: Any) -> Gateway:
    document = demo_document()
    document["councils"][0]["addresses"]["adapter"] = "slow-register"
    gateway: Gateway = await make_gateway(document=document, plugins={"slow-register": SLOW})
    return gateway


async def two_windows(gateway: Gateway) -> tuple[str, str]:
    page = await windows(gateway)
    ids = [w["id"] for day in page["days"] for w in day["windows"]]
    return ids[0], ids[1]


async def active_bookings(gateway: Gateway, reference: str) -> int:
    async with gateway.sessions() as session:
        query = text("SELECT count(*) FROM calendar_bookings WHERE reference = :r AND active")
        return int((await session.execute(query, {"r": reference})).scalar_one())


@on_both_databases
async def test_two_racing_reschedules_of_an_unbooked_repair_book_it_once(make_gateway: Any) -> None:
    gateway = await slow_gateway(make_gateway)
    first, second = await two_windows(gateway)
    reference = (await create(gateway, repair_body())).json()["reference"]
    url = f"{NORTHFIELD}/repairs/{reference}/reschedule"
    SlowAddresses.delays = [0.4, 0.0]  # the first request is slow to check the property
    slow = asyncio.create_task(gateway.client.post(url, json={"windowId": second}, headers=gateway.auth()))
    await asyncio.sleep(0.1)
    fast = await gateway.client.post(url, json={"windowId": first}, headers=gateway.auth())
    late = await slow
    assert fast.status_code == 200
    assert late.status_code in (200, 409)
    assert await active_bookings(gateway, reference) == 1
    async with gateway.sessions() as session:
        places = (
            await session.execute(text("SELECT coalesce(sum(booked), 0) FROM calendar_load"))
        ).scalar_one()
    assert places == 1


async def test_a_reschedule_that_loses_the_race_to_a_cancel_does_not_rebook(make_gateway: Any) -> None:
    gateway = await slow_gateway(make_gateway)
    first, second = await two_windows(gateway)
    reference = (await create(gateway, repair_body(first))).json()["reference"]
    SlowAddresses.delays = [0.4]
    moving = asyncio.create_task(
        gateway.client.post(
            f"{NORTHFIELD}/repairs/{reference}/reschedule", json={"windowId": second}, headers=gateway.auth()
        )
    )
    await asyncio.sleep(0.1)
    cancelled = await gateway.client.post(f"{NORTHFIELD}/repairs/{reference}/cancel", headers=gateway.auth())
    moved = await moving
    assert cancelled.json()["status"] == "cancelled"
    assert moved.status_code == 409
    final = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    assert final.json()["status"] == "cancelled"
    assert await active_bookings(gateway, reference) == 0


class SoapFault(AdapterError):
    """An adaptor's own subclass of the typed base error."""


class RescheduleFails:
    """The built-in calendar whose ``reschedule`` raises an adaptor-specific error."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def reschedule(self, booking: Booking, job: Job, slot: Slot) -> Booking:
        raise SoapFault("the scheduler answered a fault", detail="test")


FAILING = AdapterPlugin(
    "failing-calendar",
    frozenset({"scheduler"}),
    CalendarSettings,
    lambda settings, context: RescheduleFails(build_calendar(settings, context)),
)


async def test_an_adapters_own_error_is_a_503_and_leaves_the_repair_free_to_change(make_gateway: Any) -> None:
    document = demo_document()
    document["councils"][0]["schedulers"][0]["adapter"] = "failing-calendar"
    gateway: Gateway = await make_gateway(document=document, plugins={"failing-calendar": FAILING})
    first, second = await two_windows(gateway)
    reference = (await create(gateway, repair_body(first))).json()["reference"]
    moved = await gateway.client.post(
        f"{NORTHFIELD}/repairs/{reference}/reschedule", json={"windowId": second}, headers=gateway.auth()
    )
    assert moved.status_code == 503
    unchanged = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    assert unchanged.json()["status"] == "booked"
    cancelled = await gateway.client.post(f"{NORTHFIELD}/repairs/{reference}/cancel", headers=gateway.auth())
    assert cancelled.status_code == 200


async def test_a_retry_after_the_window_id_expired_replays_the_booking(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = repair_body((await first_window(gateway))["id"])
    first = await create(gateway, body, key="retry-after-expiry")
    later = time.time() + gateway.settings.window_ttl_seconds + 1
    monkeypatch.setattr("repairs_gateway.domain.tokens.time.time", lambda: later)
    again = await create(gateway, body, key="retry-after-expiry")
    assert again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    assert await gateway.count() == 1


async def test_a_booking_the_scheduler_forgot_reads_cancelled_not_booked(gateway: Gateway) -> None:
    reference = (await create(gateway, repair_body((await first_window(gateway))["id"]))).json()["reference"]
    calendar = gateway.app.state.gateway.councils["northfield"].schedulers["calendar"]
    await calendar.cancel(Booking(reference))
    async with gateway.sessions.begin() as session:  # a scheduler that deletes what it cancels
        await session.execute(text("DELETE FROM calendar_bookings WHERE reference = :r"), {"r": reference})
    seen = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    assert seen.json()["status"] == "cancelled"
    assert seen.json()["appointment"] is None


async def test_a_move_made_in_the_scheduler_shows_with_its_own_label(gateway: Gateway) -> None:
    day = (await windows(gateway))["days"][0]["windows"]
    morning = next(w for w in day if w["label"] == "Morning")
    afternoon = next(w for w in day if w["label"] == "Afternoon")
    reference = (await create(gateway, repair_body(morning["id"]))).json()["reference"]
    state = gateway.app.state.gateway
    claim = state.signer.window(afternoon["id"])
    await (
        state.councils["northfield"]
        .schedulers["calendar"]
        .reschedule(
            Booking(reference),
            Job("plumbing", 60, Priority.NORMAL, "20060020"),
            Slot(claim.start_at, claim.end_at, claim.ref),
        )
    )
    seen = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    assert seen.json()["appointment"] == {
        "start": afternoon["start"],
        "end": afternoon["end"],
        "label": "Afternoon",
    }


class Orders(BaseModel):
    cancellable: bool = True


class HousingSystem:
    """Raises works orders and, when ``cancellable``, cancels them."""

    def __init__(self) -> None:
        self.raised: list[str] = []
        self.cancelled: list[str] = []

    async def raise_order(self, request: WorksOrderRequest) -> str:
        self.raised.append(request.reference)
        return f"WO{len(self.raised):04d}"


class CancellingHousingSystem(HousingSystem):
    async def cancel_order(self, works_order_ref: str) -> None:
        self.cancelled.append(works_order_ref)


async def _works_order_gateway(make_gateway: Any, system: HousingSystem) -> Gateway:
    plugin = AdapterPlugin("hms", frozenset({"works_orders"}), Orders, lambda settings, context: system)
    document = demo_document()
    document["councils"][0]["works_orders"] = {"adapter": "hms"}
    gateway: Gateway = await make_gateway(document=document, plugins={"hms": plugin})
    return gateway


@pytest.mark.parametrize("cancellable", [True, False])
async def test_a_taken_window_leaves_no_works_order_without_its_repair(
    make_gateway: Any, cancellable: bool
) -> None:
    system = CancellingHousingSystem() if cancellable else HousingSystem()
    gateway = await _works_order_gateway(make_gateway, system)
    extractor = {"triagePath": "bathroom/extractor"}  # electrical: one place a window
    window = (await windows(gateway, **extractor))["days"][0]["windows"][0]["id"]
    body = repair_body(window, repair=extractor)
    assert (await create(gateway, body)).status_code == 201
    taken = await create(gateway, {**body, "description": "Another resident's fan"})
    assert taken.status_code == 409
    assert len(system.raised) == 2
    if cancellable:  # withdrawn with its repair
        assert system.cancelled == ["WO0002"]
        assert await gateway.count() == 1
    else:  # kept, with its works order and a note, for staff to follow up
        assert await gateway.count() == 2


async def test_cancelling_a_repair_withdraws_its_works_order(make_gateway: Any) -> None:
    system = CancellingHousingSystem()
    gateway = await _works_order_gateway(make_gateway, system)
    reference = (await create(gateway, repair_body((await first_window(gateway))["id"]))).json()["reference"]
    await gateway.client.post(f"{NORTHFIELD}/repairs/{reference}/cancel", headers=gateway.auth())
    assert system.cancelled == ["WO0001"]


@on_both_databases
async def test_the_longest_phone_number_and_a_nul_character(gateway: Gateway) -> None:
    longest = repair_body(contact={"name": "Sam", "phone": "+4" + "0" * 19, "preferredChannel": "phone"})
    assert (await create(gateway, longest)).status_code == 201
    nul = await create(gateway, repair_body(description="Sink\u0000blocked"))
    assert nul.status_code == 400
    assert field_names(nul) == {"description"}
    assert await gateway.count() == 1


async def test_the_next_page_works_for_a_long_council_id(make_gateway: Any) -> None:
    document = demo_document()
    document["councils"][0]["id"] = "royal-borough-of-somewhere-with-a-very-long-name-indeed"
    gateway: Gateway = await make_gateway(document=document)
    council = f"/v1/councils/{document['councils'][0]['id']}"
    # The demo addresses were loaded under the demo id: load them under this one too.
    await import_csv(gateway.sessions, document["councils"][0]["id"], (DEMO / "northfield.csv").read_text())
    first = await windows(gateway, council=council)
    assert len(first["nextCursor"]) <= 200
    second = await windows(
        gateway, council=council, cursor=first["nextCursor"], triagePath="kitchen/sink/blocked"
    )
    assert second["days"]


class RefusingHousingSystem(HousingSystem):
    """Will not cancel (UH refuses an issued order), or no longer holds the order."""

    def __init__(self, error: Exception) -> None:
        super().__init__()
        self.error = error
        self.asked = 0

    async def cancel_order(self, works_order_ref: str) -> None:
        self.asked += 1
        raise self.error


@pytest.mark.parametrize(
    "error",
    [BackendRejected("order already issued", detail="UH: cannot cancel"), NotFound("no such order")],
    ids=["refused", "not-found"],
)
async def test_a_works_order_refused_or_gone_is_not_asked_again_and_again(
    make_gateway: Any, error: Exception
) -> None:
    system = RefusingHousingSystem(error)
    gateway = await _works_order_gateway(make_gateway, system)
    reference = (await create(gateway, repair_body((await first_window(gateway))["id"]))).json()["reference"]
    cancelled = await gateway.client.post(f"{NORTHFIELD}/repairs/{reference}/cancel", headers=gateway.auth())
    assert cancelled.json()["status"] == "cancelled"
    assert system.asked == 1
    async with gateway.sessions() as session:
        query = text("SELECT count(*) FROM jobs WHERE kind = :kind")
        retries = (await session.execute(query, {"kind": WITHDRAW_JOB})).scalar_one()
    assert retries == 0  # a refusal needs a person, and a missing order nothing at all
