"""The ``civica-uh-diary`` scheduler: appointments in UH's own diary, for councils that
book in UH without a separate scheduler.

UH's diary books works orders, not repairs: a booking needs the ``OrderReference`` the
``civica-uh`` works-orders adaptor raised (``BookingRequest.works_order_ref``). Slots
come from ``GetDiarySlotsByDate`` and are booked with ``BookDiarySlotByOrder``. Moving,
cancelling and reading an appointment use ``RebookDiarySlotByOrder``,
``CancelDiaryBookingByOrder`` and ``GetDiaryBookingByOrder``: those three are ASSUMED
(see the README), in the style of the two that are known.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from repairs_gateway.ports import (
    AdapterContext,
    BackendRejected,
    Booking,
    BookingRequest,
    BookingState,
    BookingStatus,
    Job,
    NotFound,
    Slot,
    SlotQuery,
    SlotUnavailable,
)

from . import protocol as p
from .client import UNREADABLE, Reply, UhClient, UnreadableAnswer
from .errors import is_already_booked, is_booking_not_found, is_order_not_found, is_slot_taken
from .settings import UhDiarySettings

NEEDS_ORDER = (
    "UH's diary books works orders: this council's works_orders adaptor must be civica-uh, "
    "so that every booking has a UH works order."
)
TAKEN = "That appointment is no longer available."
NO_ORDER = "The housing system holds no such works order."
NO_BOOKING = "The housing system holds no appointment for this repair."
LIST_REFUSED = "The housing system would not list appointments."
BOOK_REFUSED = "The housing system would not book this appointment."
MAX_REF_LENGTH = 200

_STATUSES: Mapping[str, BookingStatus] = {
    p.BOOKING_BOOKED.lower(): BookingStatus.BOOKED,
    p.BOOKING_STARTED.lower(): BookingStatus.IN_PROGRESS,
    p.BOOKING_COMPLETED.lower(): BookingStatus.COMPLETED,
    p.BOOKING_CANCELLED.lower(): BookingStatus.CANCELLED,
}

Clock = Any  # a callable answering an aware datetime


class UhDiary:
    """One council's UH diary (implements ``Scheduler`` and ``Closable``)."""

    def __init__(
        self,
        settings: UhDiarySettings,
        context: AdapterContext | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._settings = settings
        self._tz = ZoneInfo(context.timezone if context is not None else "Europe/London")
        self._clock = clock or (lambda: datetime.now(UTC))
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout_seconds)
        )
        self._client = UhClient(settings, "RepairService", self._http)

    async def aclose(self) -> None:
        """Close the HTTP connections this adaptor opened."""
        self._client.close()
        if self._owns_http:
            await self._http.aclose()

    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        """Free diary slots on the query's days, not yet begun, earliest first."""
        if query.last_day < query.first_day:
            return []
        fields: dict[str, Any] = {
            # UH reads times without an offset as its own wall clock: the council's.
            "DateFrom": datetime.combine(query.first_day, time.min),
            "DateTo": datetime.combine(query.last_day, time(23, 59, 59)),
            "PropertyReference": query.address.property_ref,
        }
        if self._settings.send_job_code and query.job.sor_code:
            fields["JobCode"] = query.job.sor_code
        reply = await self._client.call("GetDiarySlotsByDate", **fields)
        if not reply.success:
            raise BackendRejected(LIST_REFUSED, detail=reply.describe())
        holder = reply.body.get("DiarySlotList") or {}
        listed = holder.get("DiarySlotDto") if isinstance(holder, Mapping) else None
        now = self._clock()
        days = _days(query.first_day, query.last_day)
        found: dict[tuple[datetime, datetime], Slot] = {}
        for dto in listed or []:
            if str(dto.get("StatusType") or "").lower() != p.SLOT_FREE.lower():
                continue
            slot = self._slot(dto)
            if slot.start.date() in days and slot.start > now:
                found.setdefault((slot.start, slot.end), slot)
        return sorted(found.values(), key=lambda s: (s.start, s.end))

    async def book(self, request: BookingRequest) -> Booking:
        """Book the works order into the slot."""
        order = request.works_order_ref
        if not order:
            raise BackendRejected(NEEDS_ORDER, detail=f"{request.reference}: no works_order_ref")
        reply = await self._client.call(
            "BookDiarySlotByOrder", DiaryReference=request.slot.ref, OrderReference=order
        )
        if not reply.success and is_already_booked(reply):
            # A retry after an answer was lost: the order holds this very slot.
            held = await self._booking_of(order)
            if (
                held.get("DiaryReference") == request.slot.ref
                and _status(held) == BookingStatus.BOOKED
            ):
                return _booking(request.reference, order, request.slot.ref)
        self._judge_booking(reply)
        return _booking(request.reference, order, self._diary_ref(reply, request.slot.ref))

    async def reschedule(self, booking: Booking, job: Job, slot: Slot) -> Booking:
        """Move the order's appointment to ``slot``."""
        order = _order_of(booking)
        reply = await self._client.call(
            "RebookDiarySlotByOrder", DiaryReference=slot.ref, OrderReference=order
        )
        self._judge_booking(reply)
        return _booking(booking.reference, order, self._diary_ref(reply, slot.ref))

    async def cancel(self, booking: Booking) -> None:
        """Cancel the appointment (the works order stays; ``civica-uh`` withdraws it)."""
        order = _order_of(booking)
        reply = await self._client.call("CancelDiaryBookingByOrder", OrderReference=order)
        if reply.success:
            return
        if is_booking_not_found(reply) or is_order_not_found(reply):
            raise NotFound(NO_BOOKING, detail=reply.describe())
        raise BackendRejected(
            "The housing system would not cancel the appointment.", detail=reply.describe()
        )

    async def status(self, booking: Booking) -> BookingState:
        """The appointment as UH's diary holds it."""
        held = await self._booking_of(_order_of(booking))
        status = _status(held)
        start = held.get("ProposedStartDate")
        minutes = held.get("ProposedDuration")
        if not isinstance(start, datetime) or not isinstance(minutes, int):
            return BookingState(status)
        begin = self._local(start)
        return BookingState(status, begin, begin + timedelta(minutes=minutes))

    async def _booking_of(self, order: str) -> Mapping[str, Any]:
        reply = await self._client.call("GetDiaryBookingByOrder", OrderReference=order)
        if not reply.success:
            if is_booking_not_found(reply) or is_order_not_found(reply):
                raise NotFound(NO_BOOKING, detail=reply.describe())
            raise BackendRejected("The housing system would not say.", detail=reply.describe())
        held = reply.body.get("DiaryBooking")
        if not isinstance(held, Mapping):
            raise UnreadableAnswer(UNREADABLE, detail="GetDiaryBookingByOrder: no DiaryBooking")
        return held

    def _judge_booking(self, reply: Reply) -> None:
        if reply.success:
            return
        if is_slot_taken(reply):
            raise SlotUnavailable(TAKEN, detail=reply.describe())
        if is_order_not_found(reply):
            raise NotFound(NO_ORDER, detail=reply.describe())
        if is_booking_not_found(reply):
            raise NotFound(NO_BOOKING, detail=reply.describe())
        raise BackendRejected(BOOK_REFUSED, detail=reply.describe())

    def _diary_ref(self, reply: Reply, asked: str) -> str:
        held = reply.body.get("DiaryBooking")
        ref = held.get("DiaryReference") if isinstance(held, Mapping) else None
        if ref is not None and str(ref) != asked:
            raise UnreadableAnswer(
                UNREADABLE, detail=f"{reply.operation}: booked {ref}, not {asked}"
            )
        return asked

    def _slot(self, dto: Mapping[str, Any]) -> Slot:
        ref = str(dto.get("DiaryReference") or "").strip()
        start = dto.get("ProposedStartDate")
        minutes = dto.get("ProposedDuration")
        if not ref or len(ref) > MAX_REF_LENGTH or not isinstance(start, datetime):
            raise UnreadableAnswer(
                UNREADABLE,
                detail=f"GetDiarySlotsByDate: a slot without its reference or start: {dto!r}",
            )
        if not isinstance(minutes, int) or minutes <= 0:
            raise UnreadableAnswer(
                UNREADABLE, detail=f"GetDiarySlotsByDate: slot {ref} has no duration"
            )
        begin = self._local(start)
        return Slot(begin, begin + timedelta(minutes=minutes), ref)

    def _local(self, value: datetime) -> datetime:
        return (
            value.replace(tzinfo=self._tz) if value.tzinfo is None else value.astimezone(self._tz)
        )


def _order_of(booking: Booking) -> str:
    order = booking.backend_refs.get("orderReference") or booking.works_order_ref
    if not order:
        raise NotFound(NO_BOOKING, detail=f"{booking.reference}: no UH works order reference")
    return order


def _status(held: Mapping[str, Any]) -> BookingStatus:
    raw = str(held.get("StatusType") or "")
    status = _STATUSES.get(raw.lower())
    if status is None:
        raise UnreadableAnswer(UNREADABLE, detail=f"an appointment with status {raw!r}")
    return status


def _booking(reference: str, order: str, diary_ref: str) -> Booking:
    return Booking(
        reference=reference,
        backend_refs={"orderReference": order, "diaryReference": diary_ref},
        works_order_ref=order,
    )


def _days(first: date, last: date) -> set[date]:
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}
