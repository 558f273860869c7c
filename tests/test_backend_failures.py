"""Honest failure: a scheduler that is down or slow never loses a repair nor makes a 5xx out
of a booking; reads answer 503 with Retry-After."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
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
    Slot,
    SlotQuery,
)

from gateway_support import Gateway
from journey import NORTHFIELD, create, first_window, repair_body


@dataclass
class Switch:
    """How the test scheduler misbehaves."""

    mode: str = "ok"  # ok | down | slow | bug
    calls: Counter[str] = field(default_factory=Counter)


class FlakyCalendar:
    """The built-in calendar, with failures switched on by the test."""

    def __init__(self, inner: BuiltinCalendar, switch: Switch) -> None:
        self._inner, self._switch = inner, switch

    async def _misbehave(self, call: str) -> None:
        self._switch.calls[call] += 1
        if self._switch.mode == "down":
            raise BackendUnavailable("connection refused", detail="test: down")
        if self._switch.mode == "slow":
            await asyncio.sleep(30)
        if self._switch.mode == "bug":
            raise KeyError("orderId")

    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        await self._misbehave("slots")
        return await self._inner.slots(query)

    async def book(self, request: BookingRequest) -> Booking:
        await self._misbehave("book")
        return await self._inner.book(request)

    async def reschedule(self, booking: Booking, job: Any, slot: Slot) -> Booking:
        await self._misbehave("reschedule")
        return await self._inner.reschedule(booking, job, slot)

    async def cancel(self, booking: Booking) -> None:
        await self._misbehave("cancel")
        await self._inner.cancel(booking)

    async def status(self, booking: Booking) -> Any:
        await self._misbehave("status")
        return await self._inner.status(booking)


async def flaky_gateway(make_gateway: Any, **settings: Any) -> tuple[Gateway, Switch]:
    """Northfield on a calendar the test switches off and on (short time limits, and any
    other ``settings``)."""
    switch = Switch()

    def build(settings: CalendarSettings, context: AdapterContext) -> FlakyCalendar:
        return FlakyCalendar(build_calendar(settings, context), switch)

    plugin = AdapterPlugin("flaky-calendar", frozenset({"scheduler"}), CalendarSettings, build)
    document = demo_document()
    document["councils"][0]["schedulers"][0]["adapter"] = "flaky-calendar"
    gateway: Gateway = await make_gateway(
        document=document,
        plugins={"flaky-calendar": plugin},
        backend_timeout_seconds=0.3,
        booking_timeout_seconds=0.6,
        **settings,
    )
    return gateway, switch


OPERATOR_TOKEN = "operator-token-for-the-metrics-tests"
"""/metrics is the operator's (issue 14)."""


@pytest.fixture
async def flaky(make_gateway: Any) -> tuple[Gateway, Switch]:
    return await flaky_gateway(make_gateway)


@pytest.mark.parametrize("mode", ["down", "slow", "bug"])
async def test_a_failed_booking_still_stores_the_repair_and_answers_its_reference(
    flaky: tuple[Gateway, Switch], mode: str
) -> None:
    gateway, switch = flaky
    window = await first_window(gateway)
    switch.mode = mode
    response = await create(gateway, repair_body(window["id"]))
    assert response.status_code == 201
    repair = response.json()
    assert repair["status"] == "received"
    assert repair["appointment"] is None
    assert "could not book" in repair["nextSteps"]
    assert await gateway.count() == 1
    switch.mode = "ok"
    fetched = await gateway.client.get(f"{NORTHFIELD}/repairs/{repair['reference']}", headers=gateway.auth())
    assert fetched.json()["status"] == "received"
    # Once the scheduler is back, the same repair can be booked.
    window = await first_window(gateway)
    booked = await gateway.client.post(
        f"{NORTHFIELD}/repairs/{repair['reference']}/reschedule",
        json={"windowId": window["id"]},
        headers=gateway.auth(),
    )
    assert booked.json()["status"] == "booked"


async def test_a_booking_is_never_retried_but_reads_are(flaky: tuple[Gateway, Switch]) -> None:
    gateway, switch = flaky
    window = await first_window(gateway)
    switch.mode = "down"
    await create(gateway, repair_body(window["id"]))
    assert switch.calls["book"] == 1
    switch.calls.clear()
    response = await gateway.client.get(
        f"{NORTHFIELD}/appointments",
        params={"uprn": "100012345001", "triagePath": "kitchen/sink/blocked"},
        headers=gateway.auth(),
    )
    assert switch.calls["slots"] == 3  # one call and two retries
    assert response.status_code == 503
    assert response.headers["retry-after"] == "30"
    assert response.json()["type"] == "/problems/backend-unavailable"


async def test_a_slow_scheduler_is_cut_off_at_the_timeout(flaky: tuple[Gateway, Switch]) -> None:
    gateway, switch = flaky
    switch.mode = "slow"
    started = asyncio.get_running_loop().time()
    response = await gateway.client.get(
        f"{NORTHFIELD}/appointments",
        params={"uprn": "100012345001", "triagePath": "kitchen/sink/blocked"},
        headers=gateway.auth(),
    )
    assert response.status_code == 503
    assert asyncio.get_running_loop().time() - started < 5  # 3 attempts of 0.3 s, not 30 s


async def test_cancel_while_the_scheduler_is_down_changes_nothing(flaky: tuple[Gateway, Switch]) -> None:
    gateway, switch = flaky
    window = await first_window(gateway)
    reference = (await create(gateway, repair_body(window["id"]))).json()["reference"]
    switch.mode = "down"
    response = await gateway.client.post(f"{NORTHFIELD}/repairs/{reference}/cancel", headers=gateway.auth())
    assert response.status_code == 503
    switch.mode = "ok"
    fetched = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    assert fetched.json()["status"] == "booked"


async def test_backend_failures_are_counted_in_metrics(make_gateway: Any) -> None:
    gateway, switch = await flaky_gateway(make_gateway, operator_token=OPERATOR_TOKEN)
    switch.mode = "down"
    await gateway.client.get(
        f"{NORTHFIELD}/appointments",
        params={"uprn": "100012345001", "triagePath": "kitchen/sink/blocked"},
        headers=gateway.auth(),
    )
    operator = {"Authorization": f"Bearer {OPERATOR_TOKEN}"}
    metrics = (await gateway.client.get("/metrics", headers=operator)).text
    assert (
        'repairs_gateway_backend_calls_total{adapter="flaky-calendar",call="slots",outcome="unavailable"} 3.0'
        in metrics
    )
    assert 'repairs_gateway_requests_total{operation="listAppointments",status="503"} 1.0' in metrics


async def test_the_built_ins_answer_a_lost_database_with_the_typed_error(tmp_path: Any) -> None:
    from repairs_gateway.builtin.address_register import AddressRegister
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker

    engine = make_engine(f"sqlite+aiosqlite:///{tmp_path}/missing/folder/gateway.db")
    sessions = make_sessionmaker(engine)
    calendar = BuiltinCalendar(
        "northfield",
        CalendarSettings.model_validate(
            {"windows": [{"start": "08:00", "end": "12:00", "capacity": {"*": 1}}]}
        ),
        sessions,
        "Europe/London",
    )
    try:
        with pytest.raises(BackendUnavailable):
            await AddressRegister("northfield", sessions).addresses_at("NF1 1AA")
        with pytest.raises(BackendUnavailable):
            await calendar.cancel(Booking("NF-7KQ3M9X"))
    finally:
        await engine.dispose()
