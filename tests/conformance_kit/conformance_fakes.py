"""In-memory adaptors for testing the conformance kit: one that keeps every rule, and
one subclass per rule that breaks exactly that rule.

Each fake stands for an adaptor and its backend at once: ``mode`` is the backend's
health, and ``_round_trip`` is where a real adaptor would call it and translate failures.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from repairs_gateway.conformance import (
    AddressSourceHarness,
    FaultControl,
    SchedulerHarness,
    WorksOrderHarness,
)
from repairs_gateway.ports import (
    Address,
    BackendRejected,
    BackendUnavailable,
    Booking,
    BookingRequest,
    BookingState,
    BookingStatus,
    Hazard,
    Job,
    NotFound,
    Slot,
    SlotQuery,
    SlotUnavailable,
    WorksOrderRequest,
    normalise_postcode,
)

Mode = Literal["down", "hang", "garbage"]
ZONE = ZoneInfo("Europe/London")
OWN_TIMEOUT = 0.02
GATEWAY_TIMEOUT = 0.05
# Time a call may take past its limit before the kit calls it hung. A well-behaved fake ends
# within milliseconds of its limit; 0.5 s was once exceeded by a CI machine running the
# browser tests beside these, failing a rule the fake keeps (the event loop was starved).
MARGIN = 1.5


class FakeBackend:
    """Shared by the adaptor fakes: how the pretend backend is feeling."""

    def __init__(self) -> None:
        self.mode: Mode | None = None

    def control(self, mode: Mode) -> FaultControl:
        """A harness control that puts the backend in ``mode`` for a while."""

        @asynccontextmanager
        async def during() -> AsyncIterator[None]:
            self.mode = mode
            try:
                yield
            finally:
                self.mode = None

        return during

    async def round_trip(self) -> None:
        """A call that keeps the rules: typed errors, and its own time limit."""
        if self.mode == "down":
            raise BackendUnavailable("connection refused")
        if self.mode == "hang":
            try:
                async with asyncio.timeout(OWN_TIMEOUT):
                    await asyncio.Event().wait()
            except TimeoutError:
                raise BackendUnavailable("no answer in time") from None
        if self.mode == "garbage":
            raise BackendRejected("unreadable answer")


class BareErrorsBackend(FakeBackend):
    """Lets a refused connection out as the bare ``ConnectionError``."""

    async def round_trip(self) -> None:
        """Breaks: backend down is BackendUnavailable."""
        if self.mode == "down":
            raise ConnectionError("connection refused")
        await super().round_trip()


class NoTimeLimitBackend(FakeBackend):
    """Waits for ever on a backend that does not answer."""

    async def round_trip(self) -> None:
        """Breaks: a hang is BackendUnavailable within the adaptor's time limit."""
        if self.mode == "hang":
            await asyncio.Event().wait()
        await super().round_trip()


class KeyErrorBackend(FakeBackend):
    """Looks up a field that a malformed answer does not have."""

    async def round_trip(self) -> None:
        """Breaks: a malformed answer is a typed error."""
        if self.mode == "garbage":
            raise KeyError("bookingId")
        await super().round_trip()


# --------------------------------------------------------------------------- schedulers

WINDOWS = ((time(9), time(12)), (time(13), time(17)))


@dataclass
class _Held:
    start: datetime
    end: datetime
    active: bool = True


class GoodScheduler:
    """Two windows a day from tomorrow, one place each; keeps every rule."""

    def __init__(self, backend: FakeBackend | None = None) -> None:
        self.backend = backend or FakeBackend()
        self.taken: dict[tuple[datetime, datetime], int] = {}
        self.bookings: dict[str, _Held] = {}

    def _today(self) -> date:
        return datetime.now(ZONE).date()

    def _free(self, start: datetime, end: datetime) -> bool:
        return self.taken.get((start, end), 0) < 1

    def _offerable(self, slot: Slot) -> bool:
        day = slot.start.astimezone(ZONE).date()
        return day > self._today() and any(
            slot.start == datetime.combine(day, s, ZONE) and slot.end == datetime.combine(day, e, ZONE)
            for s, e in WINDOWS
        )

    def _take(self, slot: Slot) -> None:
        if not self._offerable(slot) or not self._free(slot.start, slot.end):
            raise SlotUnavailable("that window is full")
        key = (slot.start, slot.end)
        self.taken[key] = self.taken.get(key, 0) + 1

    def _release(self, held: _Held) -> None:
        key = (held.start, held.end)
        self.taken[key] = max(0, self.taken.get(key, 0) - 1)

    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        """Free windows on the asked days."""
        await self.backend.round_trip()
        offered: list[Slot] = []
        day = max(query.first_day, self._today() + timedelta(days=1))
        while day <= query.last_day:
            for s, e in WINDOWS:
                start, end = datetime.combine(day, s, ZONE), datetime.combine(day, e, ZONE)
                if self._free(start, end):
                    offered.append(Slot(start, end, f"w-{start:%Y%m%d%H}"))
            day += timedelta(days=1)
        return offered

    async def book(self, request: BookingRequest) -> Booking:
        """Take the window's place."""
        await self.backend.round_trip()
        self._take(request.slot)
        self.bookings[request.reference] = _Held(request.slot.start, request.slot.end)
        return Booking(request.reference, {"bookingId": f"b-{len(self.bookings)}"})

    async def reschedule(self, booking: Booking, job: Job, slot: Slot) -> Booking:
        """Take the new window, free the old."""
        await self.backend.round_trip()
        held = self._held(booking)
        self._take(slot)
        self._release(held)
        self.bookings[booking.reference] = _Held(slot.start, slot.end)
        return booking

    async def cancel(self, booking: Booking) -> None:
        """Free the window, once."""
        await self.backend.round_trip()
        held = self._held(booking)
        if held.active:
            held.active = False
            self._release(held)

    async def status(self, booking: Booking) -> BookingState:
        """Booked with its times, or cancelled."""
        await self.backend.round_trip()
        held = self._held(booking)
        if not held.active:
            return BookingState(BookingStatus.CANCELLED)
        return BookingState(BookingStatus.BOOKED, held.start, held.end)

    def _held(self, booking: Booking) -> _Held:
        try:
            return self.bookings[booking.reference]
        except KeyError:
            raise NotFound("no such booking") from None


class UnsortedScheduler(GoodScheduler):
    """Breaks: windows sorted."""

    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        """Latest first."""
        return list(reversed(await super().slots(query)))


class BeyondTheDaysScheduler(GoodScheduler):
    """Breaks: windows inside the asked range."""

    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        """Also the day after the last day asked."""
        later = replace(query, last_day=query.last_day + timedelta(days=1))
        return await super().slots(later)


class PastScheduler(GoodScheduler):
    """Breaks: windows never in the past."""

    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        """Asked from today, also a window that began an hour ago."""
        offered = list(await super().slots(query))
        now = datetime.now(ZONE).replace(microsecond=0)
        if query.first_day <= now.date():
            offered.insert(0, Slot(now - timedelta(hours=1), now - timedelta(minutes=30), "gone"))
        return offered


class LongRefScheduler(GoodScheduler):
    """Breaks: windows well formed (refs of at most 200 characters)."""

    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        """Refs of 300 characters."""
        return [replace(slot, ref="x" * 300) for slot in await super().slots(query)]


class NoBackendRefsScheduler(GoodScheduler):
    """Breaks: booking answers backend references."""

    async def book(self, request: BookingRequest) -> Booking:
        """Forgets the backend's booking id."""
        booking = await super().book(request)
        return Booking(booking.reference)


class OverbookingScheduler(GoodScheduler):
    """Breaks: booking a full window raises SlotUnavailable."""

    def _take(self, slot: Slot) -> None:
        key = (slot.start, slot.end)
        self.taken[key] = self.taken.get(key, 0) + 1


class CancelKeepsThePlaceScheduler(GoodScheduler):
    """Breaks: cancel frees the window."""

    def _release(self, held: _Held) -> None:
        if held.active:  # a reschedule still frees; a cancel (already inactive) does not
            super()._release(held)


class RescheduleStaysScheduler(GoodScheduler):
    """Breaks: reschedule moves the booking."""

    async def reschedule(self, booking: Booking, job: Job, slot: Slot) -> Booking:
        """Answers the booking unchanged."""
        await self.backend.round_trip()
        return booking


# --------------------------------------------------------------------------- address sources

# Stored as the backend's staff typed them; "nf12ab" is the same postcode as "NF1 2AB".
PROPERTIES = (
    Address("100000000001", ("1 Mill Lane", "Northfield"), "NF1 1AA", property_ref="ML1"),
    Address("100000000002", ("2 Mill Lane", "Northfield"), "NF1 1AA", property_ref="ML2"),
    Address("100000000003", ("Flat 1, Weir House", "Northfield"), "nf12ab", property_ref="WH1"),
    Address("100000000004", ("Weir House communal areas", "Northfield"), "nf12ab", "communal", "WHC"),
)
KNOWN_POSTCODES = {"NF1 1AA": ["100000000001", "100000000002"], "NF1 2AB": ["100000000003", "100000000004"]}


class GoodAddresses:
    """Finds postcodes however they are stored, answers them normalised."""

    def __init__(self, backend: FakeBackend | None = None) -> None:
        self.backend = backend or FakeBackend()

    def _answer(self, stored: Address) -> Address:
        return replace(stored, postcode=normalise_postcode(stored.postcode))

    async def addresses_at(self, postcode: str) -> Sequence[Address]:
        """Eligible properties at a normalised postcode."""
        await self.backend.round_trip()
        return [self._answer(a) for a in PROPERTIES if normalise_postcode(a.postcode) == postcode]

    async def address(self, uprn: str) -> Address | None:
        """The property with this UPRN."""
        await self.backend.round_trip()
        return next((self._answer(a) for a in PROPERTIES if a.uprn == uprn), None)

    async def address_by_ref(self, property_ref: str) -> Address | None:
        """The property with this backend reference (a ``PropertyLookup``)."""
        await self.backend.round_trip()
        return next((self._answer(a) for a in PROPERTIES if a.property_ref == property_ref), None)


class UnnormalisedAddresses(GoodAddresses):
    """Breaks: answers carry the normalised postcode."""

    def _answer(self, stored: Address) -> Address:
        return stored


class ExactMatchAddresses(GoodAddresses):
    """Breaks: a known postcode is found however the backend spells it."""

    async def addresses_at(self, postcode: str) -> Sequence[Address]:
        """Compares with the stored spelling."""
        await self.backend.round_trip()
        return [self._answer(a) for a in PROPERTIES if a.postcode == postcode]


class UnknownPostcodeRaises(GoodAddresses):
    """Breaks: an unknown postcode is an empty list."""

    async def addresses_at(self, postcode: str) -> Sequence[Address]:
        """NotFound when nothing is there."""
        found = await super().addresses_at(postcode)
        if not found:
            raise NotFound(f"no properties at {postcode}")
        return found


class BlankLineAddresses(GoodAddresses):
    """Breaks: addresses are well formed (no blank address lines)."""

    def _answer(self, stored: Address) -> Address:
        return replace(super()._answer(stored), lines=(*stored.lines, " "))


class ShoutingByUprnAddresses(GoodAddresses):
    """Breaks: address(uprn) is the same property as addresses_at answered."""

    async def address(self, uprn: str) -> Address | None:
        """Upper-cases the lines."""
        found = await super().address(uprn)
        return replace(found, lines=tuple(line.upper() for line in found.lines)) if found else None


class UnknownUprnRaises(GoodAddresses):
    """Breaks: an unknown UPRN is None."""

    async def address(self, uprn: str) -> Address | None:
        """NotFound instead of None."""
        found = await super().address(uprn)
        if found is None:
            raise NotFound(f"no property {uprn}")
        return found


class ForgetfulLookupAddresses(GoodAddresses):
    """Breaks: address_by_ref finds each property answered by its reference."""

    async def address_by_ref(self, property_ref: str) -> Address | None:
        """Knows only the first property."""
        return await super().address_by_ref(property_ref) if property_ref == "ML1" else None


# --------------------------------------------------------------------------- works orders

HAZARD_PROPERTY = PROPERTIES[2]


class GoodWorksOrders:
    """Raises numbered orders, cancels them, and knows one property's hazards."""

    def __init__(self, backend: FakeBackend | None = None) -> None:
        self.backend = backend or FakeBackend()
        self.open: dict[str, bool] = {}

    def _number(self) -> str:
        return f"WO{len(self.open) + 1:06d}"

    async def raise_order(self, request: WorksOrderRequest) -> str:
        """An order per request; an SoR code the backend does not know is refused."""
        await self.backend.round_trip()
        if request.job.sor_code == "UNKNOWN":
            raise BackendRejected("no such SoR code", detail="UNKNOWN")
        number = self._number()
        self.open[number] = True
        return number

    async def cancel_order(self, works_order_ref: str) -> None:
        """Closes the order; a closed order stays closed."""
        await self.backend.round_trip()
        self.open[works_order_ref] = False

    async def hazards_at(self, address: Address) -> Sequence[Hazard]:
        """An alert and an asbestos record at one property, none elsewhere."""
        await self.backend.round_trip()
        if address.uprn != HAZARD_PROPERTY.uprn:
            return []
        dog = Hazard("alert", "DOG", "Large dog: ask for it to be shut away")
        return [dog, Hazard("asbestos", "ACM", "Loft")]


class LongReferenceWorksOrders(GoodWorksOrders):
    """Breaks: a works order reference is 1 to 64 characters."""

    def _number(self) -> str:
        return super()._number().rjust(65, "0")


class OneNumberWorksOrders(GoodWorksOrders):
    """Breaks: each repair gets its own order."""

    def _number(self) -> str:
        return "WO000001"


class RefusalUnavailableWorksOrders(GoodWorksOrders):
    """Breaks: a refused job is BackendRejected."""

    async def raise_order(self, request: WorksOrderRequest) -> str:
        """A refusal reported as an outage."""
        try:
            return await super().raise_order(request)
        except BackendRejected as exc:
            raise BackendUnavailable(str(exc)) from None


class CancelTwiceRaisesWorksOrders(GoodWorksOrders):
    """Breaks: cancelling twice is not an error."""

    async def cancel_order(self, works_order_ref: str) -> None:
        """NotFound for an order already closed."""
        if self.open.get(works_order_ref) is False:
            raise NotFound(f"order {works_order_ref} is closed")
        await super().cancel_order(works_order_ref)


class UnknownHazardWorksOrders(GoodWorksOrders):
    """Breaks: hazards are alerts or asbestos, with a description."""

    async def hazards_at(self, address: Address) -> Sequence[Hazard]:
        """A kind the gateway does not know."""
        found = await super().hazards_at(address)
        return [replace(h, kind="fire") for h in found]  # type: ignore[arg-type]


# --------------------------------------------------------------------------- harnesses


def scheduler_harness(
    fake: type[GoodScheduler], backend: type[FakeBackend] = FakeBackend
) -> SchedulerHarness:
    """A harness over a fresh fake scheduler."""
    pretend = backend()
    return SchedulerHarness(
        scheduler=fake(pretend),
        address=PROPERTIES[0],
        job=Job("plumbing", 60),
        down={"connection refused": pretend.control("down")},
        hang=pretend.control("hang"),
        malformed={"garbage": pretend.control("garbage")},
        timeout=OWN_TIMEOUT,
        gateway_timeout=GATEWAY_TIMEOUT,
        timeout_margin=MARGIN,
    )


def address_source_harness(
    fake: type[GoodAddresses], backend: type[FakeBackend] = FakeBackend
) -> AddressSourceHarness:
    """A harness over a fresh fake address source."""
    pretend = backend()
    return AddressSourceHarness(
        source=fake(pretend),
        known_postcodes=KNOWN_POSTCODES,
        down={"connection refused": pretend.control("down")},
        hang=pretend.control("hang"),
        malformed={"garbage": pretend.control("garbage")},
        timeout=OWN_TIMEOUT,
        gateway_timeout=GATEWAY_TIMEOUT,
        timeout_margin=MARGIN,
    )


def works_order_harness(
    fake: type[GoodWorksOrders], backend: type[FakeBackend] = FakeBackend
) -> WorksOrderHarness:
    """A harness over a fresh fake works-order sink."""
    pretend = backend()
    sink = fake(pretend)

    async def is_open(reference: str) -> bool:
        return sink.open.get(reference, False)

    return WorksOrderHarness(
        sink=sink,
        address=PROPERTIES[0],
        job=Job("plumbing", 60, sor_code="20060020"),
        refused_job=Job("plumbing", 60, sor_code="UNKNOWN"),
        hazard_address=HAZARD_PROPERTY,
        is_open=is_open,
        down={"connection refused": pretend.control("down")},
        hang=pretend.control("hang"),
        malformed={"garbage": pretend.control("garbage")},
        timeout=OWN_TIMEOUT,
        gateway_timeout=GATEWAY_TIMEOUT,
        timeout_margin=MARGIN,
    )
