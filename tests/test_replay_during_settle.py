"""A retry with the same Idempotency-Key while the first request is still booking is told to
wait (409 with a short Retry-After), then gets the settled answer; one booking is made."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from repairs_gateway.builtin.calendar import BuiltinCalendar, CalendarSettings, build_calendar
from repairs_gateway.demo.data import demo_document
from repairs_gateway.ports import AdapterContext, AdapterPlugin, Booking, BookingRequest

from gateway_support import Gateway
from journey import create, first_window, repair_body


class GatedCalendar(BuiltinCalendar):
    """The built-in calendar whose ``book`` waits until the test opens the gate."""

    gate: asyncio.Event
    entered: asyncio.Event
    books = 0

    async def book(self, request: BookingRequest) -> Booking:
        GatedCalendar.books += 1
        GatedCalendar.entered.set()
        await GatedCalendar.gate.wait()
        return await super().book(request)


@pytest.fixture
async def gated(make_gateway: Any) -> Gateway:
    GatedCalendar.gate, GatedCalendar.entered, GatedCalendar.books = asyncio.Event(), asyncio.Event(), 0

    def build(settings: CalendarSettings, context: AdapterContext) -> GatedCalendar:
        inner = build_calendar(settings, context)
        inner.__class__ = GatedCalendar
        return inner  # type: ignore[return-value]

    plugin = AdapterPlugin("gated-calendar", frozenset({"scheduler"}), CalendarSettings, build)
    document = demo_document()
    document["councils"][0]["schedulers"][0]["adapter"] = "gated-calendar"
    gateway: Gateway = await make_gateway(document=document, plugins={"gated-calendar": plugin})
    return gateway


async def test_a_replay_while_booking_is_a_409_with_retry_after_then_the_settled_answer(
    gated: Gateway,
) -> None:
    window = await first_window(gated)
    body = repair_body(window["id"])
    first = asyncio.create_task(create(gated, body, key="resident-retry-1"))
    await asyncio.wait_for(GatedCalendar.entered.wait(), 5)

    waiting = await create(gated, body, key="resident-retry-1")
    assert waiting.status_code == 409
    assert waiting.json()["type"].endswith("/request-in-progress")
    assert 1 <= int(waiting.headers["Retry-After"]) <= 5

    GatedCalendar.gate.set()
    made = await first
    assert made.status_code == 201 and made.json()["status"] == "booked"
    replayed = await create(gated, body, key="resident-retry-1")
    assert replayed.status_code == 201
    assert replayed.headers["Idempotent-Replayed"] == "true"
    assert replayed.json()["reference"] == made.json()["reference"]
    assert replayed.json()["appointment"] == made.json()["appointment"]
    assert GatedCalendar.books == 1
    assert await gated.count() == 1
