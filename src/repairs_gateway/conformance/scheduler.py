"""The behaviour every ``Scheduler`` must show.

Subclass ``SchedulerConformance`` in a test module (its name starting with ``Test``) and
define a fixture ``scheduler_harness`` answering a ``SchedulerHarness``.

Windows rule: a scheduler answers the windows of the days asked, in the council's time
zone, sorted by start then end, none starting before the moment it was asked; the gateway
checks again, but a supplier's own front-ends may call the adaptor without it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import ClassVar

import pytest

from repairs_gateway.conformance.checks import (
    Operation,
    Operations,
    check_down,
    check_gateway_timeout,
    check_malformed,
    check_own_timeout,
)
from repairs_gateway.conformance.diary import Diary, pick_two, show
from repairs_gateway.conformance.harness import SchedulerHarness
from repairs_gateway.ports import Booking, BookingStatus, NotFound, SlotUnavailable

MAX_REF_LENGTH = 200


def _operations(harness: SchedulerHarness) -> Operations:
    """Every call, about a booking made while the backend is well."""
    return lambda: _prepare(Diary(harness))


async def _prepare(diary: Diary) -> list[Operation]:
    first, second = pick_two(await diary.bookable(at_least=2), diary.zone)
    booking = await diary.book(first)
    scheduler, job = diary.scheduler, diary.harness.job
    today = diary.today()
    query = diary.query(today, today + timedelta(days=diary.harness.days - 1))
    return [
        ("slots", lambda: scheduler.slots(query)),
        ("book", lambda: scheduler.book(diary.request(second))),
        ("reschedule", lambda: scheduler.reschedule(booking, job, second)),
        ("status", lambda: scheduler.status(booking)),
        ("cancel", lambda: scheduler.cancel(booking)),
    ]


async def _status(diary: Diary, booking: Booking) -> tuple[BookingStatus, datetime | None, datetime | None]:
    state = await diary.scheduler.status(booking)
    return state.status, state.start, state.end


class SchedulerConformance:
    """The conformance tests of a ``Scheduler``; needs ``scheduler_harness``."""

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [pytest.mark.conformance, pytest.mark.asyncio]

    async def test_windows_are_sorted(self, scheduler_harness: SchedulerHarness) -> None:
        """Windows come sorted by start, then end."""
        windows = await Diary(scheduler_harness).upcoming(at_least=2)
        keys = [(w.start, w.end) for w in windows]
        assert keys == sorted(keys), "windows must be sorted by start then end; answered:\n  " + "\n  ".join(
            show(w) for w in windows
        )

    async def test_windows_are_inside_the_asked_days(self, scheduler_harness: SchedulerHarness) -> None:
        """Every window starts on one of the days asked, in the council's time zone."""
        diary = Diary(scheduler_harness)
        first = diary.today() + timedelta(days=1)
        last = first + timedelta(days=scheduler_harness.days - 1)
        windows = await diary.windows(first, last)
        outside = [show(w) for w in windows if not first <= w.start.astimezone(diary.zone).date() <= last]
        assert not outside, f"asked for {first} to {last} ({diary.zone.key}); answered:\n  " + "\n  ".join(
            outside
        )

    async def test_windows_are_never_in_the_past(self, scheduler_harness: SchedulerHarness) -> None:
        """Asked from today, no window starts before the moment of asking."""
        diary = Diary(scheduler_harness)
        asked_at = datetime.now(diary.zone)
        # Naive times are reported by test_windows_are_well_formed; they cannot be compared here.
        past = [show(w) for w in await diary.upcoming() if w.start.tzinfo and w.start <= asked_at]
        assert not past, (
            f"asked at {asked_at.isoformat()}, answered windows already begun:\n  " + "\n  ".join(past)
        )

    async def test_windows_are_well_formed(self, scheduler_harness: SchedulerHarness) -> None:
        """Times are timezone-aware, each window ends after it starts, refs are short text."""
        problems: list[str] = []
        for w in await Diary(scheduler_harness).upcoming():
            if w.start.tzinfo is None or w.end.tzinfo is None:
                problems.append(f"{w!r}: start and end must be timezone-aware")
            elif w.end <= w.start:
                problems.append(f"{show(w)}: ends before it starts")
            if not isinstance(w.ref, str) or len(w.ref) > MAX_REF_LENGTH:
                problems.append(f"{w!r}: ref must be text of at most {MAX_REF_LENGTH} characters")
        assert not problems, "malformed windows:\n  " + "\n  ".join(problems)

    async def test_booking_answers_backend_references(self, scheduler_harness: SchedulerHarness) -> None:
        """A booking answers our reference and the backend's own, and is then booked there."""
        diary = Diary(scheduler_harness)
        slot = (await diary.bookable())[0]
        request = diary.request(slot)
        booking = await diary.scheduler.book(request)
        assert booking.reference == request.reference, "the booking must carry the gateway's reference"
        refs = dict(booking.backend_refs)
        assert refs, "a booking must answer the backend's references (backend_refs), to find it again"
        assert all(isinstance(k, str) and isinstance(v, str) and v for k, v in refs.items()), (
            f"backend_refs must map text to non-empty text: {refs!r}"
        )
        status, start, end = await _status(diary, booking)
        assert status == BookingStatus.BOOKED, f"status of a new booking is {status!r}, not booked"
        assert start in (None, slot.start) and end in (None, slot.end), (
            f"booked {show(slot)} but status says {start}..{end}"
        )

    async def test_full_window_is_no_longer_free(self, scheduler_harness: SchedulerHarness) -> None:
        """Once a window is full it is not offered, and booking it raises ``SlotUnavailable``."""
        diary = Diary(scheduler_harness)
        slot = (await diary.bookable())[0]
        await diary.fill(slot)
        try:
            booking = await diary.scheduler.book(diary.request(slot))
        except SlotUnavailable:
            return
        pytest.fail(
            f"booking the full window {show(slot)} answered {booking!r}; it must raise SlotUnavailable",
            pytrace=False,
        )

    async def test_cancel_frees_the_window(self, scheduler_harness: SchedulerHarness) -> None:
        """Cancelling frees the place, the booking reads cancelled, and a second cancel is harmless."""
        diary = Diary(scheduler_harness)
        slot = (await diary.bookable())[0]
        booking = await diary.book(slot)
        await diary.fill(slot)
        await diary.scheduler.cancel(booking)
        assert await diary.offered(slot), f"after cancelling, the window {show(slot)} is not offered again"
        # Backends that delete a cancelled booking (Kirona DRS deletes the order) may answer
        # NotFound; any other answer than cancelled would show a resident a visit that is off.
        try:
            status, _, _ = await _status(diary, booking)
        except NotFound:
            status = BookingStatus.CANCELLED
        assert status == BookingStatus.CANCELLED, f"status of a cancelled booking is {status!r}"
        await diary.scheduler.cancel(booking)
        await diary.book(slot)

    async def test_reschedule_moves_the_booking(self, scheduler_harness: SchedulerHarness) -> None:
        """Rescheduling frees the old window and holds the new one."""
        diary = Diary(scheduler_harness)
        old, new = pick_two(await diary.bookable(at_least=2), diary.zone)
        booking = await diary.book(old)
        await diary.fill(old)
        moved = await diary.scheduler.reschedule(booking, scheduler_harness.job, new)
        assert moved.reference == booking.reference, "a rescheduled booking keeps the gateway's reference"
        assert await diary.offered(old), (
            f"after moving to {show(new)}, the old window {show(old)} is not free"
        )
        status, start, end = await _status(diary, moved)
        assert status == BookingStatus.BOOKED, f"status of a moved booking is {status!r}, not booked"
        assert start in (None, new.start) and end in (None, new.end), (
            f"moved to {show(new)} but status says {start}..{end}"
        )

    async def test_backend_down_is_unavailable(self, scheduler_harness: SchedulerHarness) -> None:
        """Called directly, every call raises ``BackendUnavailable`` while the backend is down."""
        await check_down(scheduler_harness, _operations(scheduler_harness))

    async def test_hanging_backend_is_unavailable_within_the_adapter_timeout(
        self, scheduler_harness: SchedulerHarness
    ) -> None:
        """Called directly, the adaptor gives up on a hanging backend within its own time limit."""
        await check_own_timeout(scheduler_harness, _operations(scheduler_harness))

    async def test_hanging_backend_is_unavailable_through_the_gateway(
        self, scheduler_harness: SchedulerHarness
    ) -> None:
        """Through the gateway's ``BackendCaller``, a hanging call ends within its time limit."""
        await check_gateway_timeout(scheduler_harness, _operations(scheduler_harness))

    async def test_malformed_answers_raise_typed_errors(self, scheduler_harness: SchedulerHarness) -> None:
        """Called directly, a malformed answer raises ``BackendRejected`` or ``BackendUnavailable``."""
        await check_malformed(scheduler_harness, _operations(scheduler_harness))
