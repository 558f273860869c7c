"""UH's diary as a scheduler: slots, booking works orders, moves, cancels and status."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from repairs_gateway.ports import (
    AdapterContext,
    Address,
    BackendRejected,
    Booking,
    BookingRequest,
    BookingStatus,
    Contact,
    Job,
    NotFound,
    Priority,
    Slot,
    SlotQuery,
    SlotUnavailable,
)

from repairs_gateway_civica_uh import UhDiary
from repairs_gateway_civica_uh.simulator import UhSimulator
from uh_helpers import diary_settings

FLAT = Address("400078000101", ("Flat 1 Larch Court",), "UH1 1AA", property_ref="00041001")
JOB = Job("plumbing", 60, Priority.NORMAL, "20060020")
MONDAY = date(2031, 6, 2)
LONDON_NINE_AM_MONDAY = datetime(2031, 6, 2, 8, 0, tzinfo=UTC)  # 09:00 BST


@pytest.fixture
def sim() -> UhSimulator:
    return UhSimulator(clock=lambda: LONDON_NINE_AM_MONDAY)


@pytest.fixture
async def diary(http: httpx.AsyncClient) -> UhDiary:
    return UhDiary(
        diary_settings(),
        AdapterContext("larchford"),
        http_client=http,
        clock=lambda: LONDON_NINE_AM_MONDAY,
    )


def _order(sim: UhSimulator) -> str:
    created = sim.state.create_repair(
        {"PropertyRef": "00041001", "Problem": "Sink", "Priority": "N"},
        [{"JobCode": "20060020", "PriorityCode": "N", "SupplierReference": "LBC-DLO"}],
    )
    return created.orders[0]


def _request(slot: Slot, order: str | None) -> BookingRequest:
    return BookingRequest(
        "larchford", "LF-1", FLAT, JOB, slot, "Sink blocked", Contact("Ann"), works_order_ref=order
    )


async def _week(diary: UhDiary) -> list[Slot]:
    return list(await diary.slots(SlotQuery("larchford", FLAT, JOB, MONDAY, MONDAY + timedelta(6))))


async def test_slots_are_the_free_windows_of_the_days_asked_not_begun(diary: UhDiary) -> None:
    slots = await _week(diary)
    # Monday's AM window began at 08:00 (it is 09:00): only its PM, then Tue..Fri.
    assert [s.ref for s in slots][:3] == ["DY20310602PM", "DY20310603AM", "DY20310603PM"]
    assert len(slots) == 9
    assert slots[0].start.isoformat() == "2031-06-02T12:00:00+01:00"
    assert slots[0].end - slots[0].start == timedelta(hours=4)
    assert slots == sorted(slots, key=lambda s: (s.start, s.end))


async def test_a_full_window_is_not_offered_and_cannot_be_booked(
    diary: UhDiary, sim: UhSimulator
) -> None:
    slot = (await _week(diary))[0]
    for _ in range(sim.config.capacity):
        await diary.book(_request(slot, _order(sim)))
    assert slot.ref not in [s.ref for s in await _week(diary)]
    with pytest.raises(SlotUnavailable):
        await diary.book(_request(slot, _order(sim)))


async def test_booking_without_a_works_order_says_civica_uh_must_raise_them(
    diary: UhDiary,
) -> None:
    slot = (await _week(diary))[0]
    with pytest.raises(BackendRejected) as refused:
        await diary.book(_request(slot, None))
    assert "works_orders adaptor must be civica-uh" in str(refused.value)


async def test_booking_an_unknown_order_is_not_found(diary: UhDiary) -> None:
    slot = (await _week(diary))[0]
    with pytest.raises(NotFound):
        await diary.book(_request(slot, "09999999"))


async def test_a_booking_names_its_order_and_slot_and_is_found_again(
    diary: UhDiary, sim: UhSimulator
) -> None:
    slot = (await _week(diary))[1]
    order = _order(sim)
    booking = await diary.book(_request(slot, order))
    assert booking.works_order_ref == order
    assert dict(booking.backend_refs) == {"orderReference": order, "diaryReference": slot.ref}
    state = await diary.status(booking)
    assert (state.status, state.start, state.end) == (BookingStatus.BOOKED, slot.start, slot.end)
    # Booked again after an answer was lost: the same slot is no error.
    assert await diary.book(_request(slot, order)) == booking


async def test_a_move_frees_the_old_slot(diary: UhDiary, sim: UhSimulator) -> None:
    first, second = (await _week(diary))[:2]
    booking = await diary.book(_request(first, _order(sim)))
    await diary.book(_request(first, _order(sim)))  # first is now full
    moved = await diary.reschedule(booking, JOB, second)
    assert moved.backend_refs["diaryReference"] == second.ref
    assert (await diary.status(moved)).start == second.start
    assert first.ref in [s.ref for s in await _week(diary)]


async def test_cancel_twice_then_status_cancelled(diary: UhDiary, sim: UhSimulator) -> None:
    booking = await diary.book(_request((await _week(diary))[0], _order(sim)))
    await diary.cancel(booking)
    await diary.cancel(booking)
    assert (await diary.status(booking)).status is BookingStatus.CANCELLED


async def test_status_follows_the_visit(diary: UhDiary, sim: UhSimulator) -> None:
    order = _order(sim)
    booking = await diary.book(_request((await _week(diary))[0], order))
    sim.state.start_visit(order)
    assert (await diary.status(booking)).status is BookingStatus.IN_PROGRESS
    sim.state.complete(order)
    assert (await diary.status(booking)).status is BookingStatus.COMPLETED


async def test_an_order_never_booked_is_not_found(diary: UhDiary, sim: UhSimulator) -> None:
    booking = Booking("LF-1", {"orderReference": _order(sim)})
    with pytest.raises(NotFound):
        await diary.status(booking)
    with pytest.raises(NotFound):
        await diary.cancel(booking)
    with pytest.raises(NotFound):
        await diary.reschedule(booking, JOB, (await _week(diary))[0])
