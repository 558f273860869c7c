"""The Scheduler port over Kirona DRS.

Slots come from ``checkAvailability`` (windows of days fetched in parallel); a booking is
``createOrder`` then ``scheduleBooking``, undone by ``deleteOrder`` if the second step
fails; a reschedule is ``scheduleBooking`` again; status and cancel find the order with
``selectOrder`` by our repair reference (DRS ``primaryOrderNumber``).
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time as monotonic_time
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, NoReturn
from zoneinfo import ZoneInfo

import httpx
from repairs_gateway.ports import (
    AdapterContext,
    AdapterError,
    Address,
    BackendRejected,
    BackendUnavailable,
    Booking,
    BookingRequest,
    BookingState,
    BookingStatus,
    Contact,
    Hazard,
    Job,
    NotFound,
    ReceiptRefused,
    Slot,
    SlotQuery,
    SlotUnavailable,
)

from .availability import AvailabilityCache, DaySlots, Fetched
from .client import UNAVAILABLE, UNREADABLE, Clock, DrsClient, Reply, UnreadableAnswer
from .protocol import (
    days_limited_to,
    is_not_found,
    is_order_exists,
    is_planning_failed,
)
from .push import (
    XML,
    UnreadablePushError,
    answer_envelope,
    authorised,
    fault_envelope,
    read_confirmation,
)
from .settings import DrsSettings
from .text import java_trim, xml_safe

log = logging.getLogger(__name__)

MAX_ORDER_COMMENTS = 255
_REF_PREFIX = "drs:"

_STATUS_MAP: Mapping[str, BookingStatus] = {
    "PLANNED": BookingStatus.BOOKED,
    "RESERVED": BookingStatus.BOOKED,
    "DESPATCHED": BookingStatus.BOOKED,
    "ACKNOWLEDGED": BookingStatus.BOOKED,
    "ACCEPTED": BookingStatus.BOOKED,
    "ARRIVED": BookingStatus.IN_PROGRESS,
    "STARTED": BookingStatus.IN_PROGRESS,
    "COMPLETED": BookingStatus.COMPLETED,
}

NOT_BOOKABLE = "This repair cannot be booked online."
REFUSED = "The repairs scheduling system could not book this repair."
TAKEN = "That appointment is no longer available."
NO_BOOKING = "The repairs scheduling system holds no such booking."
PUSHES_OFF = "This council takes no bookingConfirmation pushes (no push_token is configured)."
PUSH_REFUSED = "The push did not carry this council's DRS push token."

MAYBE_DONE = (BackendUnavailable, UnreadableAnswer)
"""Failures after which DRS may have carried the call out: its answer was lost or could
not be read."""


class DrsScheduler:
    """Operatives' diaries in one DRS installation (implements ``Scheduler``,
    ``StatusPushReader``, ``Preparable`` and ``Closable``).

    ``clock`` is the wall clock (the session's day, windows begun); ``cache_clock`` the
    monotonic clock the availability cache's time limit is counted on."""

    def __init__(
        self,
        settings: DrsSettings,
        context: AdapterContext,
        *,
        http_client: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
        cache_clock: Callable[[], float] | None = None,
    ) -> None:
        self._settings = settings
        self._tz = ZoneInfo(context.timezone)
        self._now: Clock = clock or (lambda: datetime.now(UTC))
        self._client = DrsClient(
            settings, timezone=context.timezone, http_client=http_client, clock=clock
        )
        self._cache = AvailabilityCache(
            settings.availability_cache_seconds, cache_clock or monotonic_time.monotonic
        )

    @property
    def sessions_opened(self) -> int:
        """How many DRS sessions this adaptor has opened (one a day is the aim)."""
        return self._client.sessions_opened

    # ------------------------------------------------------------------ pushes

    def read_push(self, headers: Mapping[str, str], body: bytes) -> Sequence[str]:
        """The repair reference (DRS ``primaryOrderNumber``) a ``bookingConfirmation`` push
        names. The caller must present ``push_token`` (``Authorization: Bearer`` or Basic
        authentication's password), checked before the body is read; with no ``push_token``
        configured every push is refused. A push for another contract names nothing."""
        token = self._settings.push_token
        if token is None:
            raise ReceiptRefused(PUSHES_OFF)
        if not authorised(headers.get("authorization"), token.get_secret_value()):
            raise ReceiptRefused(PUSH_REFUSED)
        try:
            push = read_confirmation(body)
        except UnreadablePushError as exc:
            raise BackendRejected(str(exc), detail=repr(body[:200])) from None
        if push.contract and push.contract != self._settings.contract:
            log.info("DRS push for another contract ignored: %r", push.contract)
            return []
        # Something changed in DRS (an operative, a planner): windows kept may be stale.
        self._cache.drop(None)
        return [push.primary_order_number]

    def push_answer(self, refused: str | None) -> tuple[str, bytes]:
        """A ``bookingConfirmationResponse`` with status success, or a SOAP Fault."""
        return XML, answer_envelope() if refused is None else fault_envelope(refused)

    async def prepare(self) -> None:
        """Open the day's DRS session now (``Preparable``), so the first resident's page
        costs one round trip. Raises ``BackendRejected`` (a refused login) or
        ``BackendUnavailable``; the first real call then opens the session instead."""
        await self._client.open_session()

    async def aclose(self) -> None:
        """Close the DRS session and connections."""
        await self._cache.aclose()
        await self._client.aclose()

    # ------------------------------------------------------------------ slots

    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        """Free windows on the query's days, earliest first. Windows of ``window_days``
        days are asked for all at once rather than one after another; days asked within
        ``availability_cache_seconds`` are answered from the cache."""
        if query.last_day < query.first_day:
            return []
        sor = self._sor_code(query.job)
        wanted = _days(query.first_day, query.last_day)
        if not self._cache.enabled:
            return _flatten((await self._fetch(query, sor, wanted))[0])
        key = self._cache_key(query, sor)
        kept = self._cache.fresh(key, wanted)
        now = self._now()
        # A window DRS listed a few seconds ago may have begun since.
        found: DaySlots = {d: [s for s in slots if s.start > now] for d, slots in kept.items()}
        missing = [day for day in wanted if day not in kept]
        if missing:
            found.update(
                await self._cache.shared(key, missing, lambda: self._fetch(query, sor, missing))
            )
        return _flatten(found)

    def _cache_key(self, query: SlotQuery, sor: str) -> Hashable:
        """What DRS's answer depends on: the property (operatives' patches, travel) and
        the job as DRS is told it (SoR code, minutes, priority)."""
        return (
            query.council_id,
            self._location_id(query.address),
            query.address.postcode,
            sor,
            query.job.duration_minutes,
            self._settings.priorities[query.job.priority],
        )

    async def _fetch(self, query: SlotQuery, sor: str, wanted: Sequence[date]) -> Fetched:
        """Ask DRS for the windows of ``wanted``: by day, with the days DRS listed."""
        replies = await _gather(
            self._availability(query, sor, chunk)
            for chunk in _chunks(wanted, self._settings.window_days)
        )
        missing = [day for day in wanted if day not in {d for r in replies for d in r[0]}]
        if missing:
            # DRS answered fewer days than asked (its cap is below window_days): fetch
            # the rest in windows it accepts.
            cap = min((c for r in replies if (c := days_limited_to(r[2]))), default=1)
            log.warning(
                "DRS limited availability windows to %d days; window_days=%d is too large",
                cap,
                self._settings.window_days,
            )
            replies += await _gather(
                self._availability(query, sor, chunk) for chunk in _chunks(missing, cap)
            )
        unique = {(s.start, s.end): s for r in replies for s in r[1]}
        by_day: DaySlots = {}
        for slot in unique.values():
            by_day.setdefault(slot.start.date(), []).append(slot)
        listed = {d for r in replies for d in r[0]}.intersection(wanted)
        return by_day, listed

    async def _availability(
        self, query: SlotQuery, sor: str, days: Sequence[date]
    ) -> tuple[set[date], list[Slot], str | None]:
        begin = datetime.combine(days[0], time.min, self._tz)
        end = datetime.combine(days[-1], time(23, 59, 59), self._tz)
        # Any primaryOrderNumber will do for a query; a fresh one cannot match an order.
        number = f"AVAIL-{secrets.token_hex(6).upper()}"
        order = self._order(
            number=number,
            address=query.address,
            job=query.job,
            sor=sor,
            comments="Availability check",
            target=end,
        )
        reply = await self._client.call(
            "checkAvailability",
            lambda session_id: {
                "canSelectOtherOrders": False,
                "checkAvailType": "standard",
                "newBooking": True,
                "onlyBestSlots": "no",
                "periodBegin": _utc(begin),
                "periodEnd": _utc(end),
                "sessionId": session_id,
                "theOrder": order,
            },
        )
        if not reply.ok:
            raise BackendRejected(
                "The repairs scheduling system could not list appointments.",
                detail=reply.describe(),
            )
        listed: set[date] = set()
        found: list[Slot] = []
        for day in reply.body.get("theSlots") or []:
            when = self._aware(day.get("day"), "theSlots.day", reply)
            listed.add(when.date())
            for slot in day.get("slotsForDay") or []:
                if slot.get("available") != "YES":
                    continue
                start = self._aware(slot.get("beginDate"), "slotsForDay.beginDate", reply)
                finish = self._aware(slot.get("endDate"), "slotsForDay.endDate", reply)
                if finish <= start:
                    continue
                found.append(Slot(start, finish, ref=_slot_ref(start, finish)))
        return listed, found, reply.error

    # ------------------------------------------------------------------ booking

    async def book(self, request: BookingRequest) -> Booking:
        """Raise the order and schedule its booking into the slot. Returns only once DRS
        says the booking is scheduled; anything less is undone and raised."""
        sor = self._sor_code(request.job)
        start, end = self._window(request.slot)
        try:
            return await self._book(request, sor, start, end)
        finally:
            # Booked, refused (the cache showed a taken window) or unsure: that day's
            # windows are no longer known.
            self._cache.drop([self._day(start)])

    async def _book(
        self, request: BookingRequest, sor: str, start: datetime, end: datetime
    ) -> Booking:
        # Where the housing system raised a works order, DRS files the job under it, as
        # councils ran UH with DRS: the operative's job and the HMS order are one number.
        number = request.works_order_ref or request.reference
        order = self._order(
            number=number,
            address=request.address,
            job=request.job,
            sor=sor,
            comments=_comments(request.description, request.reference, request.hazards),
            target=end,
            contact=request.contact,
            secondary=request.reference if request.works_order_ref else None,
        )
        created, drs_booking = await self._create(order)
        booking = _booking(request.reference, created, drs_booking, request.works_order_ref)
        try:
            await self._schedule(self._booking_payload(drs_booking, created, start, end))
        except AdapterError as failure:
            # An answer lost or unreadable may hide a success: keep it if DRS has it.
            lost = isinstance(failure, MAYBE_DONE)
            if not (lost and await self._holds(booking, start, end, failure)):
                await self._compensate(created, drs_booking, failure)
        return booking

    async def _create(self, order: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        number = order["primaryOrderNumber"]
        try:
            reply = await self._client.call(
                "createOrder", lambda session_id: {"sessionId": session_id, "theOrder": order}
            )
        except MAYBE_DONE as failure:
            # The order may exist though the answer was lost or unreadable: remove it so
            # a failed booking leaves nothing behind (a retry would adopt it anyway).
            await self._cleanup(order, failure)
            raise
        if reply.ok:
            created = reply.body.get("theOrder")
            drs_booking = _first_booking(created)
            if not isinstance(created, dict) or not _has_ids(created, drs_booking):
                malformed = UnreadableAnswer(
                    UNREADABLE, detail=f"createOrder: success without orderId/bookingId ({number})"
                )
                await self._cleanup(order, malformed)
                raise malformed
            return created, drs_booking
        refused = _refused(reply, REFUSED)
        if isinstance(refused, UnreadableAnswer):
            await self._cleanup(order, refused)  # the order may exist
            raise refused
        if is_order_exists(reply.error):
            # Our reference is already in DRS: an earlier attempt of this same booking
            # got that far. Carry on with that order instead of failing the resident.
            try:
                found = await self._find(number, None)
            except NotFound as missing:
                raise BackendRejected(
                    REFUSED, detail=f"{reply.describe()}; yet selectOrder: {missing.detail}"
                ) from missing
            return self._adopt(order, found, reply)
        raise refused

    def _adopt(
        self, order: Mapping[str, Any], found: dict[str, Any], reply: Reply
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        same = found.get("contract") == order["contract"] and str(found.get("locationID")) == str(
            order["locationID"]
        )
        drs_booking = _first_booking(found)
        if not same or not _has_ids(found, drs_booking):
            raise BackendRejected(
                REFUSED,
                detail=f"{reply.describe()}; the existing order is for another job: "
                f"contract={found.get('contract')} locationID={found.get('locationID')}",
            )
        log.info("Adopting DRS order %s left by an earlier attempt", found.get("orderId"))
        return found, drs_booking

    async def _schedule(self, drs_booking: Mapping[str, Any]) -> None:
        reply = await self._client.call(
            "scheduleBooking",
            lambda session_id: {
                "force": False,
                "sessionId": session_id,
                "theBooking": drs_booking,
                # The resident was promised this window: the optimiser must not move it.
                "timeLock": True,
                "userId": self._settings.user_id,
            },
        )
        if reply.ok:
            return
        if is_planning_failed(reply.error):
            raise SlotUnavailable(TAKEN, detail=reply.describe())
        if is_not_found(reply.error):
            raise NotFound(NO_BOOKING, detail=reply.describe())
        raise _refused(reply, REFUSED)

    async def _compensate(
        self, created: Mapping[str, Any], drs_booking: Mapping[str, Any], failure: AdapterError
    ) -> NoReturn:
        """Delete the order whose booking could not be scheduled, then raise ``failure``.
        If the delete fails too, raise ``BackendUnavailable`` whose detail says the order
        is left half-booked: DRS holds something, so the gateway must keep its record
        (``SlotUnavailable`` would tell it nothing is held) for a later cancel to clear."""
        try:
            await self._delete(created)
        except AdapterError as undo:
            detail = (
                f"{type(failure).__name__}: {failure.detail}; order left half-booked in DRS: "
                f"primaryOrderNumber={created.get('primaryOrderNumber')} "
                f"orderId={created.get('orderId')} bookingId={drs_booking.get('bookingId')}; "
                f"deleteOrder failed: {undo.detail or undo}"
            )
            log.error("DRS compensation failed: %s", detail)
            raise BackendUnavailable(UNAVAILABLE, detail=detail) from undo
        raise failure

    async def _cleanup(self, order: Mapping[str, Any], failure: AdapterError) -> None:
        """Best effort: remove an order whose creation was not confirmed."""
        try:
            await self._delete(order)
        except AdapterError as undo:
            failure.detail = (
                f"{failure.detail}; the order {order['primaryOrderNumber']} may exist in DRS: "
                f"deleteOrder failed: {undo.detail or undo}"
            )

    # ------------------------------------------------------------------ later calls

    async def reschedule(self, booking: Booking, job: Job, slot: Slot) -> Booking:
        """Move the booking to another window with scheduleBooking; the old window is
        kept if the new one is not free."""
        start, end = self._window(slot)
        touched = {self._day(start)}
        try:
            order = await self._find(_number(booking), booking)
            drs_booking = _pick_booking(order, booking)
            touched.update(self._booked_days(order))
            try:
                await self._schedule(self._booking_payload(drs_booking, order, start, end, job=job))
            except MAYBE_DONE as failure:
                # The move may have happened though its answer was lost or unreadable:
                # look before failing.
                if not await self._holds(booking, start, end, failure):
                    raise
        finally:
            # The old day has a place free again, the new one a place fewer.
            self._cache.drop(touched)
        return _booking(booking.reference, order, drs_booking, booking.works_order_ref)

    async def _holds(
        self, booking: Booking, start: datetime, end: datetime, failure: AdapterError
    ) -> bool:
        """Whether DRS holds the booking in exactly this window (False if unsure, with
        the reason added to ``failure``'s detail)."""
        try:
            held = _pick_booking(await self._find(_number(booking), booking), booking)
        except AdapterError as unsure:
            failure.detail = f"{failure.detail}; outcome unknown: {unsure.detail or unsure}"
            return False
        return held.get("planningWindowStart") == start and held.get("planningWindowEnd") == end

    async def cancel(self, booking: Booking) -> None:
        """Delete the order; an order DRS no longer holds is already cancelled."""
        try:
            order = await self._find(_number(booking), booking)
        except NotFound:
            return
        try:
            await self._delete(order)
        except MAYBE_DONE as failure:
            # The delete may have happened though its answer was lost or unreadable: look
            # before failing.
            try:
                await self._find(_number(booking), booking)
            except NotFound:
                return
            except AdapterError as unsure:
                failure.detail = f"{failure.detail}; outcome unknown: {unsure.detail or unsure}"
            raise
        finally:
            # A place is free again on the booking's day (or may be: drop it either way).
            self._cache.drop(self._booked_days(order))

    async def status(self, booking: Booking) -> BookingState:
        """The booking's life-cycle state in DRS and its planned window."""
        order = await self._find(_number(booking), booking)
        drs_booking = _pick_booking(order, booking)
        raw = drs_booking.get("bookingLifeCycleStatus")
        mapped = _STATUS_MAP.get(str(raw))
        if mapped is None:
            raise BackendRejected(
                UNREADABLE, detail=f"selectOrder: bookingLifeCycleStatus={raw!r} for {booking}"
            )
        start, end = drs_booking.get("planningWindowStart"), drs_booking.get("planningWindowEnd")
        return BookingState(
            status=mapped,
            start=start.astimezone(self._tz) if isinstance(start, datetime) else None,
            end=end.astimezone(self._tz) if isinstance(end, datetime) else None,
        )

    async def _find(self, number: str, booking: Booking | None) -> dict[str, Any]:
        reply = await self._client.call(
            "selectOrder",
            lambda session_id: {
                "contract": [self._settings.contract],
                "includeCompletedBookings": True,
                "primaryOrderNumber": [number],
                "sessionId": session_id,
            },
        )
        if not reply.ok:
            if is_not_found(reply.error):
                raise NotFound(NO_BOOKING, detail=reply.describe())
            raise BackendRejected(REFUSED, detail=reply.describe())
        orders = [o for o in reply.body.get("theOrders") or [] if isinstance(o, dict)]
        wanted = (booking.backend_refs.get("orderId") if booking else None) or None
        matches = [
            o
            for o in orders
            if o.get("primaryOrderNumber") == number
            and (wanted is None or str(o.get("orderId")) == wanted)
        ]
        if not matches:
            raise NotFound(NO_BOOKING, detail=f"selectOrder: no order {number} ({wanted})")
        return matches[0]

    async def _delete(self, order: Mapping[str, Any]) -> None:
        payload = self._order_for_delete(order)
        reply = await self._client.call(
            "deleteOrder", lambda session_id: {"sessionId": session_id, "theOrder": payload}
        )
        if reply.ok or is_not_found(reply.error):
            return
        raise _refused(reply, "The repairs scheduling system could not cancel the booking.")

    # ------------------------------------------------------------------ payloads

    def _sor_code(self, job: Job) -> str:
        code = job.sor_code or self._settings.trade_sor_code(job.trade)
        if not code:
            raise BackendRejected(
                NOT_BOOKABLE,
                detail=f"no SoR code for trade {job.trade!r}: add it to the DRS trade_sor setting",
            )
        return code

    def _location_id(self, address: Address) -> str:
        return address.property_ref or address.uprn

    def _order(
        self,
        *,
        number: str,
        address: Address,
        job: Job,
        sor: str,
        comments: str,
        target: datetime,
        contact: Contact | None = None,
        secondary: str | None = None,
    ) -> dict[str, Any]:
        location_id = self._location_id(address)
        # Free text goes without what XML cannot carry, or the request could not be sent;
        # identifiers (references, locationID) are left whole: better refused than altered.
        postcode = xml_safe(address.postcode)
        lines = [text for line in address.lines if (text := xml_safe(line)).strip()] or [postcode]
        name = xml_safe(contact.name) if contact else None
        phone = xml_safe(contact.phone) if contact and contact.phone else None
        return {
            "contactName": name,
            "contract": self._settings.contract,
            "locationID": location_id,
            "message": False,
            "orderComments": comments,
            "orderId": 0,
            "phone": phone,
            "primaryOrderNumber": number,
            "priority": self._settings.priorities[job.priority],
            "secondaryOrderNumber": secondary,
            "targetDate": _utc(target),
            "theBookingCodes": [self._code(number, sor, job)],
            "theLocation": {
                "address1": lines[0],
                "address2": lines[1] if len(lines) > 1 else None,
                "address3": lines[2] if len(lines) > 2 else None,
                "address4": ", ".join(lines[3:]) or None,
                "citizensName": name,
                "excludedFromMsging": False,
                "locationId": location_id,
                "name": lines[0],
                "phoneNumber": phone,
                "postCode": postcode,
                "workflowType": "",
            },
            "userId": self._settings.user_id,
        }

    def _code(self, number: str, sor: str, job: Job, booking_id: int = 0) -> dict[str, Any]:
        return {
            "bookingCodeSORCode": sor,
            "bookingId": booking_id,
            "itemNumberWithinBooking": "1",
            "orderId": 0,
            "primaryOrderNumber": number,
            "quantity": "1",
            # The council's triage says how long the job takes; DRS plans by this.
            "standardMinuteValue": str(job.duration_minutes),
        }

    def _booking_payload(
        self,
        drs_booking: Mapping[str, Any],
        order: Mapping[str, Any],
        start: datetime,
        end: datetime,
        job: Job | None = None,
    ) -> dict[str, Any]:
        codes = [
            {k: v for k, v in code.items() if v is not None}
            for code in (drs_booking.get("theBookingCodes") or order.get("theBookingCodes") or [])
            if isinstance(code, dict)
        ]
        return {
            "bookingId": drs_booking["bookingId"],
            "bookingReason": drs_booking.get("bookingReason") or "first",
            "contract": order.get("contract") or self._settings.contract,
            "duration": drs_booking.get("duration") or (job.duration_minutes if job else None) or 0,
            "isEmergency": bool(drs_booking.get("isEmergency")),
            "isNextBooking": bool(drs_booking.get("isNextBooking")),
            "locationID": drs_booking.get("locationID") or order.get("locationID"),
            "orderId": drs_booking.get("orderId") or order["orderId"],
            "planningWindowEnd": _utc(end),
            "planningWindowStart": _utc(start),
            "primaryOrderNumber": order["primaryOrderNumber"],
            "theBookingCodes": codes,
            "userId": self._settings.user_id,
        }

    def _order_for_delete(self, order: Mapping[str, Any]) -> dict[str, Any]:
        """deleteOrder's schema wants a whole order; DRS identifies it by orderId (or by
        primaryOrderNumber and contract when orderId is 0)."""
        given = order.get("theLocation")
        location_id = str(order.get("locationID") or "")
        location = {k: v for k, v in (given or {}).items() if v is not None}
        # zeep reads an empty element as None; the schema still wants these present.
        location.setdefault("locationId", location_id)
        location.setdefault("excludedFromMsging", False)
        for required in ("address1", "name", "postCode", "workflowType"):
            location.setdefault(required, "")
        return {
            "contract": order.get("contract") or self._settings.contract,
            "locationID": location_id,
            "message": False,
            "orderComments": order.get("orderComments") or "",
            "orderId": order.get("orderId") or 0,
            "primaryOrderNumber": order["primaryOrderNumber"],
            "priority": order.get("priority") or "",
            "targetDate": order.get("targetDate") or _utc(datetime.now(UTC)),
            "theLocation": location,
            "userId": order.get("userId") or self._settings.user_id,
        }

    def _window(self, slot: Slot) -> tuple[datetime, datetime]:
        """The window to book: the one DRS offered (kept in ``ref``), else the slot's."""
        if slot.ref.startswith(_REF_PREFIX):
            try:
                start_text, end_text = slot.ref[len(_REF_PREFIX) :].split("/", 1)
                start, end = datetime.fromisoformat(start_text), datetime.fromisoformat(end_text)
                if start.tzinfo is not None and end.tzinfo is not None and start < end:
                    return start, end
            except ValueError:
                pass
        start = slot.start if slot.start.tzinfo else slot.start.replace(tzinfo=self._tz)
        end = slot.end if slot.end.tzinfo else slot.end.replace(tzinfo=self._tz)
        if end <= start:
            raise SlotUnavailable(TAKEN, detail=f"slot ends before it starts: {slot}")
        return start, end

    def _day(self, when: datetime) -> date:
        """The council's calendar day of ``when``: the unit the cache is kept and dropped by."""
        return when.astimezone(self._tz).date() if when.tzinfo else when.date()

    def _booked_days(self, order: Mapping[str, Any]) -> set[date]:
        """The days an order's bookings are planned on, as DRS answered them."""
        days: set[date] = set()
        for drs_booking in order.get("theBookings") or []:
            if isinstance(drs_booking, dict):
                start = drs_booking.get("planningWindowStart")
                if isinstance(start, datetime):
                    days.add(self._day(start))
        return days

    def _aware(self, value: Any, field: str, reply: Reply) -> datetime:
        if not isinstance(value, datetime):
            raise BackendRejected(UNREADABLE, detail=f"{reply.operation}: {field}={value!r}")
        # DRS answers local times with an offset; one without is local time too.
        aware = value if value.tzinfo is not None else value.replace(tzinfo=self._tz)
        return aware.astimezone(self._tz)


# ---------------------------------------------------------------------- helpers


async def _gather(
    calls: Iterable[Any],
) -> list[tuple[set[date], list[Slot], str | None]]:
    results = await asyncio.gather(*calls, return_exceptions=True)
    answered: list[tuple[set[date], list[Slot], str | None]] = []
    for result in results:
        # Every window is waited for (none left running unobserved); the first error wins.
        if isinstance(result, BaseException):
            raise result
        answered.append(result)
    return answered


def _flatten(by_day: DaySlots) -> list[Slot]:
    unique = {(s.start, s.end): s for slots in by_day.values() for s in slots}
    return sorted(unique.values(), key=lambda s: (s.start, s.end))


def _refused(reply: Reply, message: str) -> BackendRejected:
    """DRS's refusal of a call that changes something; but when the answer says neither
    success nor refusal (no status, or ``undefined``), DRS may have acted on it, which
    ``UnreadableAnswer`` tells the caller."""
    if reply.status in ("error", "failure"):
        return BackendRejected(message, detail=reply.describe())
    return UnreadableAnswer(UNREADABLE, detail=reply.describe())


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _chunks(days: Sequence[date], size: int) -> list[list[date]]:
    """Runs of consecutive days, at most ``size`` long."""
    chunks: list[list[date]] = []
    for day in days:
        if chunks and len(chunks[-1]) < size and chunks[-1][-1] + timedelta(days=1) == day:
            chunks[-1].append(day)
        else:
            chunks.append([day])
    return chunks


def _utc(value: datetime) -> datetime:
    # DRS clients send UTC ("Z"); zeep writes an aware UTC datetime that way.
    return value.astimezone(UTC)


def _slot_ref(start: datetime, end: datetime) -> str:
    return f"{_REF_PREFIX}{start.isoformat()}/{end.isoformat()}"


def _comments(description: str, reference: str, hazards: Sequence[Hazard] = ()) -> str:
    """orderComments: required, 1 to 255 characters as DRS (Java) counts them, and only
    characters XML can carry. Hazards come first, so that when the text is too long it is
    the resident's description that is cut, never what an operative must know."""
    text = " ".join(xml_safe(description).split()) or f"Repair {reference} reported online"
    if hazards:
        text = f"{_hazard_note(hazards)} | {text}"
    return java_trim(text, MAX_ORDER_COMMENTS)


_HAZARD_LABELS = {"alert": "ALERT", "asbestos": "ASBESTOS", "unread": "CHECK"}


def _hazard_note(hazards: Sequence[Hazard]) -> str:
    """Hazards for operatives, in one line (``ALERT VIO: violent occupant; ASBESTOS (loft):
    ...``)."""
    parts = []
    for hazard in hazards:
        where = f" ({xml_safe(hazard.location)})" if hazard.location else ""
        label = _HAZARD_LABELS.get(hazard.kind, hazard.kind.upper())
        code = f" {xml_safe(hazard.code)}" if hazard.kind == "alert" and hazard.code else ""
        parts.append(f"{label}{code}{where}: {' '.join(xml_safe(hazard.description).split())}")
    return "; ".join(parts)


def _number(booking: Booking) -> str:
    """The primaryOrderNumber DRS files the booking under: the works order's, where one was
    raised, else our repair reference."""
    refs = booking.backend_refs
    return refs.get("primaryOrderNumber") or booking.works_order_ref or booking.reference


def _first_booking(order: Any) -> dict[str, Any]:
    if isinstance(order, dict):
        for booking in order.get("theBookings") or []:
            if isinstance(booking, dict):
                return booking
    return {}


def _has_ids(order: Mapping[str, Any], drs_booking: Mapping[str, Any]) -> bool:
    return bool(order.get("orderId")) and bool(drs_booking.get("bookingId"))


def _pick_booking(order: Mapping[str, Any], booking: Booking) -> dict[str, Any]:
    wanted = booking.backend_refs.get("bookingId")
    for candidate in order.get("theBookings") or []:
        if isinstance(candidate, dict) and (
            wanted is None or str(candidate.get("bookingId")) == wanted
        ):
            return candidate
    raise NotFound(
        NO_BOOKING, detail=f"selectOrder: order {order.get('orderId')} has no booking {wanted}"
    )


def _booking(
    reference: str,
    order: Mapping[str, Any],
    drs_booking: Mapping[str, Any],
    works_order_ref: str | None = None,
) -> Booking:
    return Booking(
        reference=reference,
        backend_refs={
            "orderId": str(order["orderId"]),
            "bookingId": str(drs_booking["bookingId"]),
        },
        works_order_ref=works_order_ref,
    )
