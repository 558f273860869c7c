"""The adaptor end to end against the simulator: what the gateway and residents see."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import date, datetime, timedelta
from typing import Any

import httpx
import pytest
from repairs_gateway.ports import (
    AdapterContext,
    Address,
    BackendRejected,
    Booking,
    BookingStatus,
    Closable,
    Job,
    NotFound,
    Priority,
    Scheduler,
    Slot,
    SlotQuery,
    SlotUnavailable,
)

from drs_helpers import BASE_URL, LONDON, MONDAY, FakeClock, request_for
from repairs_gateway_kirona_drs import DrsScheduler, DrsSettings
from repairs_gateway_kirona_drs.simulator import DrsSimulator, SimulatorConfig


def window(day: date, start: tuple[int, int], end: tuple[int, int]) -> tuple[datetime, datetime]:
    return (
        datetime(day.year, day.month, day.day, *start, tzinfo=LONDON),
        datetime(day.year, day.month, day.day, *end, tzinfo=LONDON),
    )


def slot_at(slots: list[Slot], start: datetime, end: datetime) -> Slot:
    return next(s for s in slots if s.start == start and s.end == end)


async def test_it_is_a_scheduler_that_can_be_closed(scheduler: DrsScheduler) -> None:
    assert isinstance(scheduler, Scheduler)
    assert isinstance(scheduler, Closable)


# ----------------------------------------------------------------------- slots


async def test_slots_are_sorted_and_only_the_free_ones(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    monday_morning = window(MONDAY, (8, 0), (12, 0))
    tuesday_afternoon = window(MONDAY + timedelta(days=1), (12, 0), (16, 0))
    sim.state.maybe_windows.add(tuesday_afternoon)  # DRS is unsure: not offered
    slots = list(await scheduler.slots(week))
    for n in range(2):  # two plumbers free that morning: fill it
        await scheduler.book(request_for(week, slot_at(slots, *monday_morning), f"NF-FULL00{n}"))

    offered = list(await scheduler.slots(week))

    assert offered == sorted(offered, key=lambda s: (s.start, s.end))
    windows = {(s.start, s.end) for s in offered}
    assert monday_morning not in windows
    assert tuesday_afternoon not in windows
    assert len(offered) == 5 * 4 - 2  # five weekdays of four slots; no weekend slots
    assert all(s.start.weekday() < 5 for s in offered)
    assert all(len(s.ref) <= 200 for s in offered)


async def test_a_morning_slot_is_at_eight_local_time_in_every_season(
    scheduler: DrsScheduler, week: SlotQuery, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 3, 27, 7, 0, tzinfo=LONDON)
    # Clocks go forward on Sunday 30 March 2025.
    query = dataclasses.replace(week, first_day=date(2025, 3, 28), last_day=date(2025, 3, 31))
    slots = list(await scheduler.slots(query))
    friday, monday = slots[0], slots[-4]
    assert (friday.start.hour, friday.start.utcoffset()) == (8, timedelta(0))
    assert (monday.start.hour, monday.start.utcoffset()) == (8, timedelta(hours=1))
    assert monday.start.date() == date(2025, 3, 31)


async def test_windows_of_days_are_fetched_in_parallel(
    settings: DrsSettings, clock: FakeClock, week: SlotQuery
) -> None:
    sim = DrsSimulator(SimulatorConfig(latency_ms=40), clock=clock)
    in_flight = _InFlight(sim.app)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=in_flight), base_url=BASE_URL
    ) as http:
        adaptor = DrsScheduler(settings, AdapterContext("nf"), http_client=http, clock=clock)
        three_weeks = dataclasses.replace(week, last_day=MONDAY + timedelta(days=20))
        slots = await adaptor.slots(three_weeks)
        await adaptor.aclose()
    assert sim.state.calls["checkAvailability"] == 3  # 21 days in windows of 7
    assert in_flight.peak == 3  # all three at once
    assert {s.start.date() for s in slots} >= {MONDAY, MONDAY + timedelta(days=14)}


async def test_every_day_is_covered_when_drs_caps_windows_below_the_setting(
    settings: DrsSettings, http: httpx.AsyncClient, clock: FakeClock, week: SlotQuery
) -> None:
    wide = settings.model_copy(update={"window_days": 14})
    adaptor = DrsScheduler(wide, AdapterContext("nf"), http_client=http, clock=clock)
    fortnight = dataclasses.replace(week, last_day=MONDAY + timedelta(days=13))
    days = {s.start.date() for s in await adaptor.slots(fortnight)}
    await adaptor.aclose()
    assert len(days) == 10  # both weeks' weekdays, though DRS answers 7 days at most


async def test_an_empty_range_asks_drs_nothing(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    backwards = dataclasses.replace(week, first_day=MONDAY, last_day=MONDAY - timedelta(days=1))
    assert list(await scheduler.slots(backwards)) == []
    assert sim.state.calls["checkAvailability"] == 0


async def test_drs_refusing_a_query_is_rejected_without_its_text_for_residents(
    scheduler: DrsScheduler, week: SlotQuery
) -> None:
    unknown = dataclasses.replace(week, job=dataclasses.replace(week.job, sor_code="NOPE"))
    with pytest.raises(BackendRejected) as caught:
        await scheduler.slots(unknown)
    assert "NOPE" in (caught.value.detail or "")
    assert "NOPE" not in str(caught.value)


# ----------------------------------------------------------------------- booking


async def test_book_holds_the_window_in_drs(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    slots = list(await scheduler.slots(week))
    chosen = slots[3]
    booking = await scheduler.book(request_for(week, chosen))

    assert booking.reference == "NF-7KQ3M9X"
    assert set(booking.backend_refs) == {"orderId", "bookingId"}
    assert sim.state.held_windows("NF-7KQ3M9X") == [(chosen.start, chosen.end)]
    (order,) = sim.state.find_orders(numbers=["NF-7KQ3M9X"])
    assert str(order.order_id) == booking.backend_refs["orderId"]
    assert order.location_id == "00012345"  # the property's own reference
    assert order.contact_name == "Ann Example" and order.phone == "01234 567890"
    assert order.priority == "N"
    assert order.comments == "The kitchen sink is blocked and water will not drain."


async def test_the_uprn_is_the_location_when_there_is_no_property_reference(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery, address: Address
) -> None:
    bare = dataclasses.replace(address, property_ref=None)
    query = dataclasses.replace(week, address=bare)
    slot = (await scheduler.slots(query))[0]
    await scheduler.book(request_for(query, slot))
    (order,) = sim.state.find_orders(numbers=["NF-7KQ3M9X"])
    assert order.location_id == "100023336956"


@pytest.mark.parametrize(
    ("description", "expected_length"),
    [("x" * 600, 255), ("   ", None), ("", None)],
)
async def test_order_comments_are_never_empty_nor_longer_than_drs_takes(
    scheduler: DrsScheduler,
    sim: DrsSimulator,
    week: SlotQuery,
    description: str,
    expected_length: int | None,
) -> None:
    slot = (await scheduler.slots(week))[0]
    await scheduler.book(request_for(week, slot, description=description))
    (order,) = sim.state.find_orders(numbers=["NF-7KQ3M9X"])
    assert order.comments.strip()
    if expected_length:
        assert len(order.comments) == expected_length


async def test_priority_is_sent_as_the_councils_drs_code(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    urgent = dataclasses.replace(week, job=dataclasses.replace(week.job, priority=Priority.URGENT))
    slot = (await scheduler.slots(urgent))[0]
    await scheduler.book(request_for(urgent, slot))
    (order,) = sim.state.find_orders(numbers=["NF-7KQ3M9X"])
    assert order.priority == "U"


async def test_a_job_without_sor_code_books_by_the_trade_fallback(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    carpentry = dataclasses.replace(week, job=Job(trade="carpentry", duration_minutes=120))
    slot = (await scheduler.slots(carpentry))[0]
    await scheduler.book(request_for(carpentry, slot))
    (order,) = sim.state.find_orders(numbers=["NF-7KQ3M9X"])
    assert order.lines[0].sor_code == "20110010"
    assert order.lines[0].trade == "carpentry"


async def test_a_job_without_sor_code_or_fallback_is_not_bookable(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    glazing = dataclasses.replace(week, job=Job(trade="glazing", duration_minutes=60))
    with pytest.raises(BackendRejected) as caught:
        await scheduler.slots(glazing)
    assert "trade_sor" in (caught.value.detail or "")
    assert sim.state.calls["checkAvailability"] == 0


async def test_a_taken_slot_is_slot_unavailable_and_leaves_no_order(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    for n in range(2):
        await scheduler.book(request_for(week, slot, f"NF-TAKEN0{n}"))

    with pytest.raises(SlotUnavailable) as caught:
        await scheduler.book(request_for(week, slot, "NF-TOOLATE"))

    assert "Planning failed" in (caught.value.detail or "")
    assert "Planning failed" not in str(caught.value)
    assert sim.state.find_orders(numbers=["NF-TOOLATE"]) == []


async def test_a_window_never_offered_is_slot_unavailable(
    scheduler: DrsScheduler, week: SlotQuery
) -> None:
    saturday = window(MONDAY + timedelta(days=5), (8, 0), (12, 0))
    with pytest.raises(SlotUnavailable):
        await scheduler.book(request_for(week, Slot(*saturday)))


# ----------------------------------------------------------------------- later calls


async def test_cancel_frees_the_slot_and_can_be_repeated(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    first = await scheduler.book(request_for(week, slot, "NF-CANCEL0"))
    await scheduler.book(request_for(week, slot, "NF-CANCEL1"))
    assert (slot.start, slot.end) not in {(s.start, s.end) for s in await scheduler.slots(week)}

    await scheduler.cancel(first)
    await scheduler.cancel(first)  # twice is not an error

    assert sim.state.find_orders(numbers=["NF-CANCEL0"]) == []
    assert (slot.start, slot.end) in {(s.start, s.end) for s in await scheduler.slots(week)}


async def test_cancelling_a_booking_drs_never_had_is_fine(scheduler: DrsScheduler) -> None:
    await scheduler.cancel(Booking("NF-NEVERWAS", {"orderId": "9", "bookingId": "9"}))


async def test_reschedule_moves_the_booking(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    slots = list(await scheduler.slots(week))
    booking = await scheduler.book(request_for(week, slots[0]))

    moved = await scheduler.reschedule(booking, week.job, slots[-1])

    assert moved.backend_refs == booking.backend_refs
    assert sim.state.held_windows("NF-7KQ3M9X") == [(slots[-1].start, slots[-1].end)]
    state = await scheduler.status(moved)
    assert (state.start, state.end) == (slots[-1].start, slots[-1].end)


async def test_rescheduling_into_a_full_slot_keeps_the_old_one(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    slots = list(await scheduler.slots(week))
    booking = await scheduler.book(request_for(week, slots[0]))
    for n in range(2):
        await scheduler.book(request_for(week, slots[1], f"NF-OTHER0{n}"))

    with pytest.raises(SlotUnavailable):
        await scheduler.reschedule(booking, week.job, slots[1])

    assert sim.state.held_windows("NF-7KQ3M9X") == [(slots[0].start, slots[0].end)]


@pytest.mark.parametrize(
    ("lifecycle", "expected"),
    [
        ("PLANNED", BookingStatus.BOOKED),
        ("RESERVED", BookingStatus.BOOKED),
        ("DESPATCHED", BookingStatus.BOOKED),
        ("ACKNOWLEDGED", BookingStatus.BOOKED),
        ("ACCEPTED", BookingStatus.BOOKED),
        ("ARRIVED", BookingStatus.IN_PROGRESS),
        ("STARTED", BookingStatus.IN_PROGRESS),
        ("COMPLETED", BookingStatus.COMPLETED),
    ],
)
async def test_status_follows_the_drs_life_cycle(
    scheduler: DrsScheduler,
    sim: DrsSimulator,
    week: SlotQuery,
    lifecycle: str,
    expected: BookingStatus,
) -> None:
    slot = (await scheduler.slots(week))[0]
    booking = await scheduler.book(request_for(week, slot))
    sim.state.set_status(int(booking.backend_refs["bookingId"]), lifecycle)

    state = await scheduler.status(booking)

    assert state.status is expected
    assert (state.start, state.end) == (slot.start, slot.end)


async def test_status_of_an_order_drs_does_not_hold_is_not_found(
    scheduler: DrsScheduler, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    booking = await scheduler.book(request_for(week, slot))
    await scheduler.cancel(booking)
    with pytest.raises(NotFound):
        await scheduler.status(booking)
    with pytest.raises(NotFound):
        await scheduler.reschedule(booking, week.job, slot)


# ----------------------------------------------------------------------- helpers


class _InFlight:
    """Counts requests the app is serving at once."""

    def __init__(self, app: Callable[..., Awaitable[None]]) -> None:
        self.app = app
        self.now = 0
        self.peak = 0

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            self.now -= 1
