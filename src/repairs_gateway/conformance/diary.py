"""The conformance kit's view of a scheduler under test: asking for windows, booking
them and filling them, with failure messages that say which promise was broken."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from repairs_gateway.conformance.harness import SchedulerHarness
from repairs_gateway.domain.references import new_reference
from repairs_gateway.ports import Booking, BookingRequest, Slot, SlotQuery, SlotUnavailable


def same_window(a: Slot, b: Slot) -> bool:
    """Windows are the same when their times are; a backend may hand out new refs."""
    return a.start == b.start and a.end == b.end


class Diary:
    """A scheduler harness, with the calls the tests make."""

    def __init__(self, harness: SchedulerHarness) -> None:
        self.harness = harness
        self.scheduler = harness.scheduler
        self.zone = ZoneInfo(harness.timezone)

    def today(self) -> date:
        """Today in the council's time zone."""
        return datetime.now(self.zone).date()

    def query(self, first: date, last: date) -> SlotQuery:
        """Ask for the harness's job at its address on these days."""
        h = self.harness
        return SlotQuery(h.council_id, h.address, h.job, first, last)

    async def windows(self, first: date, last: date, *, at_least: int = 1) -> list[Slot]:
        """The windows offered on these days; fails when there are fewer than ``at_least``."""
        offered = list(await self.scheduler.slots(self.query(first, last)))
        if len(offered) < at_least:
            pytest.fail(
                f"harness: the scheduler offered {len(offered)} window(s) from {first} to {last}; "
                f"the kit needs at least {at_least} for the harness's job and address",
                pytrace=False,
            )
        return offered

    async def upcoming(self, *, at_least: int = 1) -> list[Slot]:
        """The windows offered on the harness's days from today."""
        today = self.today()
        return await self.windows(today, today + timedelta(days=self.harness.days - 1), at_least=at_least)

    async def bookable(self, *, at_least: int = 1) -> list[Slot]:
        """The upcoming windows that have not begun: the ones a resident could choose."""
        now = datetime.now(self.zone)
        windows = [w for w in await self.upcoming() if w.start.tzinfo is None or w.start > now]
        if len(windows) < at_least:
            pytest.fail(f"harness: the kit needs at least {at_least} window(s) not yet begun", pytrace=False)
        return windows

    async def offered(self, slot: Slot) -> bool:
        """Whether the scheduler offers this window now."""
        day = slot.start.astimezone(self.zone).date()
        return any(same_window(slot, other) for other in await self.scheduler.slots(self.query(day, day)))

    def request(self, slot: Slot) -> BookingRequest:
        """A booking request for the harness's job in ``slot``, with a fresh reference."""
        h = self.harness
        return BookingRequest(
            h.council_id,
            new_reference(h.reference_prefix),
            h.address,
            h.job,
            slot,
            h.description,
            h.contact,
        )

    async def book(self, slot: Slot) -> Booking:
        """Book ``slot``; fails with what happened when the scheduler will not."""
        try:
            return await self.scheduler.book(self.request(slot))
        except SlotUnavailable as exc:
            pytest.fail(
                f"booking the offered window {show(slot)} raised SlotUnavailable: {exc}", pytrace=False
            )

    async def fill(self, slot: Slot) -> list[Booking]:
        """Take every remaining place in ``slot``'s window, then check it is not offered."""
        if self.harness.fill is not None:
            await self.harness.fill(slot)
            if await self.offered(slot):
                pytest.fail(f"the window {show(slot)} is still offered once full", pytrace=False)
            return []
        made: list[Booking] = []
        for _ in range(self.harness.max_fill_bookings):
            if not await self.offered(slot):
                return made
            try:
                made.append(await self.scheduler.book(self.request(slot)))
            except SlotUnavailable:
                pytest.fail(
                    f"the window {show(slot)} is offered but booking it raised SlotUnavailable: "
                    "a window with no room must not be offered",
                    pytrace=False,
                )
        if not await self.offered(slot):  # the last booking took the last place
            return made
        pytest.fail(
            f"the window {show(slot)} was still offered after {len(made)} bookings: a full window "
            "must not be offered (or give the harness fill=..., or raise max_fill_bookings)",
            pytrace=False,
        )


def pick_two(windows: Sequence[Slot], zone: ZoneInfo) -> tuple[Slot, Slot]:
    """Two different windows, on different days where possible, so that filling one is
    unlikely to touch the other's capacity."""
    first = windows[0]
    first_day = first.start.astimezone(zone).date()
    others = [w for w in windows if not same_window(w, first)]
    if not others:
        pytest.fail("harness: the kit needs two different windows", pytrace=False)
    later = [w for w in others if w.start.astimezone(zone).date() != first_day]
    return first, (later or others)[0]


def show(slot: Slot) -> str:
    """A window, for failure messages."""
    return f"{slot.start.isoformat()}..{slot.end.isoformat()} (ref {slot.ref!r})"
