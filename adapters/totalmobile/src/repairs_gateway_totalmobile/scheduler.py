"""The Scheduler port over Totalmobile.

Slots are the appointment offers of a *quote job*: one unallocated job per property and
kind of job, reused by every resident and process that asks (see ``jobs.quote_reference``),
its days fetched in as few calls as the installation allows, in parallel. A booking
creates the repair's own job (our reference as its identity) and accepts an offer for
it, deleting the job if that fails; a reschedule accepts another offer; cancel deletes
the job; status reads the job's state. After a lost answer the job is looked up by our
reference before anything is reported as failed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import NoReturn, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from repairs_gateway.ports import (
    AdapterContext,
    AdapterError,
    BackendRejected,
    BackendUnavailable,
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

from .client import (
    MAYBE_DONE,
    REFUSED,
    UNAVAILABLE,
    UNREADABLE,
    Answer,
    TotalmobileClient,
    UnreadableAnswer,
)
from .jobs import (
    BadJobError,
    JobView,
    location_ref,
    quote_job,
    quote_reference,
    read_job,
    repair_job,
    status_of,
)
from .offers import BadOffersError, read_offers, to_slots, window
from .settings import TotalmobileSettings
from .tokens import Clock

log = logging.getLogger(__name__)

TAKEN = "That appointment is no longer available."
NO_BOOKING = "The repairs scheduling system holds no such booking."
NOT_BOOKED = "The repairs scheduling system could not book this repair."

JOB_NOT_FOUND = "JobNotFound"
JOB_EXISTS = "JobAlreadyExists"
OFFER_NOT_FOUND = "OfferNotFound"
OFFER_TAKEN = "OfferNoLongerAvailable"

T = TypeVar("T")


class TotalmobileScheduler:
    """Operatives' diaries in one Totalmobile world (implements ``Scheduler`` and
    ``Closable``)."""

    def __init__(
        self,
        settings: TotalmobileSettings,
        context: AdapterContext,
        *,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._settings = settings
        self._council = context.council_id
        self._tz = ZoneInfo(context.timezone)
        self._bands = settings.bands()
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._client = TotalmobileClient(
            settings, http_client=http_client, transport=transport, clock=self._clock
        )
        self._quotes: set[str] = set()
        self._quote_locks: dict[str, asyncio.Lock] = {}

    @property
    def tokens_fetched(self) -> int:
        """How many access tokens this adaptor has fetched."""
        return self._client.tokens.fetched

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._client.aclose()

    # ------------------------------------------------------------------ slots

    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        """Free windows on the query's days, earliest first: the quote job's offers,
        ``offer_days`` days a call, every call at once."""
        if query.last_day < query.first_day:
            return []
        reference = quote_reference(self._council, query.address, query.job, self._settings)
        spans = _spans(query.first_day, query.last_day, self._settings.offer_days)
        found = await _gather(self._offers(reference, query, a, b) for a, b in spans)
        now = self._clock()
        unique = {(s.start, s.end): s for slots in found for s in slots}
        # Outside the asked days or already begun: never offered to a resident.
        kept = [s for s in unique.values() if s.start > now]
        return sorted(kept, key=lambda s: (s.start, s.end))

    async def _offers(
        self, reference: str, query: SlotQuery, first: date, last: date
    ) -> list[Slot]:
        # Asked first even when this process has not made the quote job: another process
        # (or this one before a restart) usually has, so one round trip is the common case.
        answer = await self._ask_offers(reference, first, last)
        if answer.status == 404 and answer.code == JOB_NOT_FOUND:
            # No quote job yet (or Totalmobile purged it): make it, then ask again.
            self._quotes.discard(reference)
            await self._ensure_quote(reference, query)
            answer = await self._ask_offers(reference, first, last)
        if not answer.ok:
            raise BackendRejected(REFUSED, detail=f"appointment-offers {reference}: {answer}")
        try:
            offers = read_offers(answer.body)
        except BadOffersError as exc:
            raise BackendRejected(UNREADABLE, detail=f"appointment-offers: {exc}") from None
        return to_slots(offers, self._bands, self._tz, first, last, self._clock())

    async def _ask_offers(self, reference: str, first: date, last: date) -> Answer:
        return await self._client.call(
            "GET",
            f"/{_path(reference)}/appointment-offers",
            params={"from": first.isoformat(), "to": last.isoformat()},
        )

    async def _ensure_quote(self, reference: str, query: SlotQuery) -> None:
        """Create the quote job once, however many callers need it at the same moment."""
        lock = self._quote_locks.setdefault(reference, asyncio.Lock())
        async with lock:
            if reference in self._quotes:
                return
            payload = quote_job(reference, query.address, query.job, self._settings, query.last_day)
            answer = await self._client.call("POST", json_body=payload)
            if not (answer.ok or (answer.status == 409 and answer.code == JOB_EXISTS)):
                raise BackendRejected(REFUSED, detail=f"creating quote job {reference}: {answer}")
            self._quotes.add(reference)

    # ------------------------------------------------------------------ booking

    async def book(self, request: BookingRequest) -> Booking:
        """Create the repair's job and accept the offer of the chosen window. Returns only
        once Totalmobile says the job holds that appointment; anything less is undone."""
        start, end = self._window(request.slot)
        reference = request.reference
        view = await self._create(request, end)
        if view.appointment is not None and self._same_window(view, start, end):
            # An earlier attempt of this very booking got all the way.
            return self._booking(reference, view.appointment.offer, request.works_order_ref)
        try:
            held = await self._accept(reference, request.slot, start, end)
        except AdapterError as failure:
            # An answer lost or unreadable may hide a success: keep it if Totalmobile has it.
            if isinstance(failure, MAYBE_DONE) and await self._holds(
                reference, start, end, failure
            ):
                held = await self._job(reference)
            else:
                await self._withdraw(reference, failure)
        assert held.appointment is not None
        return self._booking(reference, held.appointment.offer, request.works_order_ref)

    async def _create(self, request: BookingRequest, due: datetime) -> JobView:
        reference = request.reference
        payload = repair_job(request, self._settings, due)
        try:
            answer = await self._client.call("POST", json_body=payload)
        except MAYBE_DONE as failure:
            # The job may exist though its answer was lost: carry on with it if so.
            return await self._found_after(reference, failure)
        if answer.status == 409 and answer.code == JOB_EXISTS:
            # Our reference is already a job: an earlier attempt of this same booking.
            existing = await self._job(reference)
            if existing.location != location_ref(request.address):
                raise BackendRejected(
                    NOT_BOOKED,
                    detail=f"job {reference} exists for another location: {existing.location}",
                )
            log.info("Totalmobile job %s left by an earlier attempt is carried on", reference)
            return existing
        if not answer.ok:
            raise BackendRejected(NOT_BOOKED, detail=f"creating job {reference}: {answer}")
        try:
            return self._read(answer, reference, unreadable=UnreadableAnswer)
        except UnreadableAnswer as failure:
            return await self._found_after(reference, failure)

    async def _found_after(self, reference: str, failure: AdapterError) -> JobView:
        """The job a create whose answer was lost or unreadable may have made."""
        try:
            return await self._job(reference)
        except NotFound:
            raise failure from None
        except AdapterError as unsure:
            failure.detail = f"{failure.detail}; outcome unknown: {unsure.detail or unsure}"
        if isinstance(failure, UnreadableAnswer):
            # Totalmobile answers, but not readably: remove the job rather than leave an
            # unbooked one on planners' lists (not after a lost answer: the backend may be
            # gone, and the gateway settles that repair later through status and cancel).
            try:
                await self._delete(reference)
            except AdapterError as undo:
                failure.detail = f"{failure.detail}; delete failed: {undo.detail or undo}"
        raise failure from None

    async def _accept(self, reference: str, slot: Slot, start: datetime, end: datetime) -> JobView:
        """Accept the slot's offer for the job; if the handle is not one for this job (an
        installation whose offers are bound to the job asked), accept this job's own
        offer of the same window."""
        offer = slot.ref
        answer = await self._post_accept(reference, offer) if offer else None
        if answer is None or (answer.status == 404 and answer.code == OFFER_NOT_FOUND):
            offer = await self._offer_for(reference, start, end)
            answer = await self._post_accept(reference, offer)
        if answer.status == 409 and answer.code == OFFER_TAKEN:
            raise SlotUnavailable(
                TAKEN, detail=f"accepting offer {offer} for {reference}: {answer}"
            )
        if answer.status == 404 and answer.code == OFFER_NOT_FOUND:
            raise SlotUnavailable(TAKEN, detail=f"offer {offer} unknown for {reference}: {answer}")
        if answer.status == 404 and answer.code == JOB_NOT_FOUND:
            raise NotFound(NO_BOOKING, detail=f"accepting offer {offer}: {answer}")
        if not answer.ok:
            raise BackendRejected(
                NOT_BOOKED, detail=f"accepting offer {offer} for {reference}: {answer}"
            )
        view = self._read(answer, reference, unreadable=UnreadableAnswer)
        if view.appointment is None or not self._same_window(view, start, end):
            raise UnreadableAnswer(
                UNREADABLE,
                detail=f"accepted {offer} for {reference}; the job holds {view.appointment}",
            )
        return view

    async def _post_accept(self, reference: str, offer: str) -> Answer:
        return await self._client.call(
            "POST", f"/{_path(reference)}/appointment-offers/{_path(offer)}/accept", json_body={}
        )

    async def _offer_for(self, reference: str, start: datetime, end: datetime) -> str:
        day = start.astimezone(self._tz).date()
        answer = await self._ask_offers(reference, day, day)
        if answer.status == 404 and answer.code == JOB_NOT_FOUND:
            raise NotFound(NO_BOOKING, detail=f"appointment-offers {reference}: {answer}")
        if not answer.ok:
            raise BackendRejected(REFUSED, detail=f"appointment-offers {reference}: {answer}")
        try:
            offers = read_offers(answer.body)
        except BadOffersError as exc:
            raise BackendRejected(UNREADABLE, detail=f"appointment-offers: {exc}") from None
        for offer in offers:
            if window(offer.day, offer.band, self._bands, self._tz) == (start, end):
                return offer.reference
        raise SlotUnavailable(TAKEN, detail=f"no offer of {start}..{end} for {reference}")

    async def _holds(
        self, reference: str, start: datetime, end: datetime, failure: AdapterError
    ) -> bool:
        """Whether Totalmobile holds the job booked in exactly this window (False if
        unsure, with the reason added to ``failure``'s detail)."""
        try:
            view = await self._job(reference)
        except AdapterError as unsure:
            failure.detail = f"{failure.detail}; outcome unknown: {unsure.detail or unsure}"
            return False
        return status_of(view) == BookingStatus.BOOKED and self._same_window(view, start, end)

    async def _withdraw(self, reference: str, failure: AdapterError) -> NoReturn:
        """Delete the job whose offer could not be accepted, then raise ``failure``. If the
        delete fails too, raise ``BackendUnavailable`` saying a job is left unbooked, so
        the gateway keeps its record (``SlotUnavailable`` would say nothing is held)."""
        try:
            await self._delete(reference)
        except AdapterError as undo:
            detail = (
                f"{type(failure).__name__}: {failure.detail}; job {reference} left unbooked "
                f"in Totalmobile; deleting it failed: {undo.detail or undo}"
            )
            log.error("Totalmobile compensation failed: %s", detail)
            raise BackendUnavailable(UNAVAILABLE, detail=detail) from undo
        raise failure

    # ------------------------------------------------------------------ later calls

    async def reschedule(self, booking: Booking, job: Job, slot: Slot) -> Booking:
        """Accept another offer for the job; the old appointment is kept if the new
        window is not free."""
        start, end = self._window(slot)
        reference = booking.reference
        try:
            held = await self._accept(reference, slot, start, end)
        except MAYBE_DONE as failure:
            # The move may have happened though its answer was lost: look before failing.
            if not await self._holds(reference, start, end, failure):
                raise
            held = await self._job(reference)
        assert held.appointment is not None
        return self._booking(reference, held.appointment.offer, booking.works_order_ref)

    async def cancel(self, booking: Booking) -> None:
        """Delete the job. A job Totalmobile no longer holds, or holds cancelled, is already
        cancelled; one whose visit has begun or ended is not deleted (``BackendRejected``):
        the operative's record of it must stay."""
        reference = booking.reference
        try:
            view = await self._job(reference)
        except NotFound:
            return
        mapped = status_of(view)
        if mapped == BookingStatus.CANCELLED:
            return
        if mapped != BookingStatus.BOOKED:
            raise BackendRejected(
                "The visit has begun or is over, so it cannot be cancelled online.",
                detail=f"job {reference} is {view.state!r}",
            )
        try:
            await self._delete(reference)
        except MAYBE_DONE as failure:
            # The delete may have happened though its answer was lost: look before failing.
            try:
                await self._job(reference)
            except NotFound:
                return
            except AdapterError as unsure:
                failure.detail = f"{failure.detail}; outcome unknown: {unsure.detail or unsure}"
            raise

    async def status(self, booking: Booking) -> BookingState:
        """The job's state in Totalmobile and the window of the appointment it holds."""
        view = await self._job(booking.reference)
        mapped = status_of(view)
        if mapped is None:
            raise BackendRejected(
                UNREADABLE, detail=f"job {booking.reference}: status {view.state!r}"
            )
        start = end = None
        if view.appointment is not None:
            times = window(view.appointment.day, view.appointment.band, self._bands, self._tz)
            if times is not None:
                start, end = times
        return BookingState(status=mapped, start=start, end=end)

    # ------------------------------------------------------------------ jobs

    async def _job(self, reference: str) -> JobView:
        answer = await self._client.call("GET", f"/{_path(reference)}")
        if answer.status == 404 and answer.code == JOB_NOT_FOUND:
            raise NotFound(NO_BOOKING, detail=f"job {reference}: {answer}")
        if not answer.ok:
            raise BackendRejected(REFUSED, detail=f"job {reference}: {answer}")
        return self._read(answer, reference)

    async def _delete(self, reference: str) -> None:
        answer = await self._client.call("DELETE", f"/{_path(reference)}")
        if answer.status == 204 or (answer.status == 404 and answer.code == JOB_NOT_FOUND):
            return
        if answer.ok:
            # Totalmobile answers a delete with no content; anything else is not its answer.
            raise UnreadableAnswer(UNREADABLE, detail=f"deleting job {reference}: {answer}")
        raise BackendRejected(
            "The repairs scheduling system could not cancel the booking.",
            detail=f"deleting job {reference}: {answer}",
        )

    def _read(
        self, answer: Answer, reference: str, unreadable: type[BackendRejected] = BackendRejected
    ) -> JobView:
        try:
            view = read_job(answer.body)
        except BadJobError as exc:
            raise unreadable(UNREADABLE, detail=f"job {reference}: {exc}") from None
        if view.reference != reference:
            raise unreadable(
                UNREADABLE, detail=f"asked for job {reference}, answered {view.reference}"
            )
        return view

    # ------------------------------------------------------------------ helpers

    def _same_window(self, view: JobView, start: datetime, end: datetime) -> bool:
        if view.appointment is None:
            return False
        return window(view.appointment.day, view.appointment.band, self._bands, self._tz) == (
            start,
            end,
        )

    def _window(self, slot: Slot) -> tuple[datetime, datetime]:
        start = slot.start if slot.start.tzinfo else slot.start.replace(tzinfo=self._tz)
        end = slot.end if slot.end.tzinfo else slot.end.replace(tzinfo=self._tz)
        if end <= start:
            raise SlotUnavailable(TAKEN, detail=f"slot ends before it starts: {slot}")
        return start, end

    def _booking(self, reference: str, offer: str, works_order_ref: str | None) -> Booking:
        return Booking(
            reference=reference,
            backend_refs={
                "jobReference": reference,
                "worldId": self._settings.world_id,
                "offerReference": offer,
            },
            works_order_ref=works_order_ref,
        )


def _path(text: str) -> str:
    return quote(text, safe="")


def _spans(first: date, last: date, size: int) -> list[tuple[date, date]]:
    """``first``..``last`` cut into runs of at most ``size`` days."""
    spans: list[tuple[date, date]] = []
    begin = first
    while begin <= last:
        end = min(last, begin + timedelta(days=size - 1))
        spans.append((begin, end))
        begin = end + timedelta(days=1)
    return spans


async def _gather(calls: Iterable[Awaitable[T]]) -> list[T]:
    results: list[T | BaseException] = await asyncio.gather(*calls, return_exceptions=True)
    answered: list[T] = []
    for result in results:
        # Every call is waited for (none left running unobserved); the first error wins.
        if isinstance(result, BaseException):
            raise result
        answered.append(result)
    return answered
