"""Recording, booking, checking, moving and cancelling repairs.

The rules this module keeps:
* A repair is stored (committed) before any backend is called, so nothing is lost.
* A backend failure after that still answers the reference, with status ``received``.
* A window that filled up meanwhile is a 409, and the stored repair is withdrawn (with any
  works order raised for it), so the caller can choose another window.
* Same Idempotency-Key and same body replays the first answer, even once its window id has
  expired; a different body is a 422.
* Only one change to a repair runs at a time, decided on the repair as it is once held
  (``RepairStore.changing``), so racing replicas never book twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from typing import Any

from repairs_gateway.domain.tokens import InvalidToken, TokenSigner, WindowClaim, job_fingerprint
from repairs_gateway.domain.windows import default_label, label_for
from repairs_gateway.persistence.models import Repair
from repairs_gateway.ports import (
    AdapterError,
    Address,
    Booking,
    BookingRequest,
    BookingState,
    BookingStatus,
    Contact,
    Job,
    NotFound,
    Priority,
    Scheduler,
    Slot,
    SlotUnavailable,
    WorksOrderRequest,
)
from repairs_gateway.runtime import CouncilRuntime
from repairs_gateway.services.addresses import eligible_address
from repairs_gateway.services.jobs import RepairSpec, resolve_job
from repairs_gateway.services.problems import (
    Location,
    Problem,
    conflict,
    unacceptable,
    unavailable,
)
from repairs_gateway.services.repair_store import Change, RepairStore

log = logging.getLogger("repairs_gateway.repairs")

RECEIVED = "received"
BOOKED = BookingStatus.BOOKED.value
IN_PROGRESS = BookingStatus.IN_PROGRESS.value
CANCELLED = BookingStatus.CANCELLED.value
COMPLETED = BookingStatus.COMPLETED.value
TAKEN = "that appointment window has just been taken: choose another"


@dataclass(frozen=True, slots=True)
class NewRepair:
    """A createRepair request, already checked against the schema."""

    uprn: str
    repair: RepairSpec
    description: str
    contact: Contact
    preferred_channel: str
    window_id: str | None
    body: dict[str, Any]


def _hash_request(council_id: str, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{council_id}\n{canonical}".encode()).hexdigest()


def _job(row: Repair) -> Job:
    return Job(row.trade, row.duration_minutes, Priority(row.priority), row.sor_code)


def _contact(row: Repair) -> Contact:
    return Contact(row.contact_name, row.contact_phone, row.contact_email)


def _failed(what: str, exc: AdapterError) -> str:
    return f"{what} failed: {type(exc).__name__}: {exc} ({exc.detail})"


class RepairService:
    """The repair use cases for every council."""

    def __init__(self, store: RepairStore, signer: TokenSigner) -> None:
        self._store = store
        self._signer = signer

    # ------------------------------------------------------------------ window ids

    def _claim(
        self, council: CouncilRuntime, window_id: str, uprn: str, job: Job, location: Location
    ) -> WindowClaim:
        try:
            claim = self._signer.window(window_id)
        except InvalidToken as exc:
            raise unacceptable("invalid-window", "windowId", location, str(exc)) from None
        if claim.council != council.spec.id:
            raise unacceptable("invalid-window", "windowId", location, "was offered by another council")
        if claim.uprn != uprn:
            raise unacceptable("invalid-window", "windowId", location, "was offered for another property")
        if claim.job != job_fingerprint(job):
            raise unacceptable("invalid-window", "windowId", location, "was offered for another repair")
        if claim.scheduler not in council.schedulers:
            raise unacceptable("invalid-window", "windowId", location, "is no longer offered: ask again")
        return claim

    @staticmethod
    def _slot(claim: WindowClaim) -> Slot:
        return Slot(claim.start_at, claim.end_at, claim.ref)

    @staticmethod
    async def _held(scheduler: Scheduler, booking: Booking) -> BookingState | None:
        """What the scheduler holds for a booking whose call failed; None when it cannot say.
        A lost answer, or a call the gateway's time limit cut short, may have done its work."""
        try:
            return await scheduler.status(booking)
        except AdapterError:
            return None

    @staticmethod
    def _holds_window(state: BookingState | None, claim: WindowClaim) -> bool:
        return (
            state is not None
            and state.status == BookingStatus.BOOKED
            and (state.start, state.end) == (claim.start_at, claim.end_at)
        )

    @staticmethod
    def _booked(claim: WindowClaim, booking: Booking) -> dict[str, Any]:
        return {
            "status": BOOKED,
            "scheduler": claim.scheduler,
            "backend_refs": dict(booking.backend_refs),
            "window_start": claim.start_at,
            "window_end": claim.end_at,
            "window_label": claim.label,
            "backend_note": None,
        }

    # ------------------------------------------------------------------ create

    async def create(
        self,
        council: CouncilRuntime,
        client_id: int,
        request: NewRepair,
        idempotency_key: str | None,
    ) -> tuple[Repair, bool]:
        """Record and, given a window, book a repair. Answers the repair and whether it was
        replayed from an earlier request with the same Idempotency-Key."""
        spec = council.spec
        digest = _hash_request(spec.id, request.body)
        # A retry replays the first answer before anything else is judged: its window id may
        # have expired since, and that must not turn a made booking into a refusal.
        if idempotency_key is not None:
            existing = await self._store.replay(spec.id, client_id, idempotency_key, digest)
            if existing is not None:
                return existing, True
        job = resolve_job(council, request.repair, "body", "repair.")
        claim = (
            self._claim(council, request.window_id, request.uprn, job, "body") if request.window_id else None
        )
        address: Address | None
        try:
            address = await eligible_address(council, request.uprn, "body")
        except Problem as problem:
            if problem.status != 503:
                raise
            address = None  # the address source is down: record the repair all the same
        values: dict[str, Any] = {
            "council_id": spec.id,
            "client_id": client_id,
            "uprn": request.uprn,
            "triage_path": request.repair.triage_path.strip("/").lower()
            if request.repair.triage_path
            else None,
            "trade": job.trade,
            "duration_minutes": job.duration_minutes,
            "priority": int(job.priority),
            "sor_code": job.sor_code,
            "description": request.description,
            "contact_name": request.contact.name,
            "contact_phone": request.contact.phone,
            "contact_email": request.contact.email,
            "preferred_channel": request.preferred_channel,
            "status": RECEIVED,
            "backend_refs": {},
            "in_flight": address is not None,
            "backend_note": None if address else "property could not be checked: address source unavailable",
            "idempotency_key": idempotency_key,
            "request_hash": digest,
        }
        row = await self._store.insert(values, spec.reference_prefix)
        if row is None:  # a concurrent request with the same key stored first
            assert idempotency_key is not None
            existing = await self._store.replay(spec.id, client_id, idempotency_key, digest)
            if existing is None:
                raise conflict(
                    "a request with this Idempotency-Key is still in progress", "request-in-progress"
                )
            return existing, True
        if address is None:
            return row, False
        change = self._store.adopt(row)
        try:
            return await self._fulfil(council, change, address, job, claim, request), False
        finally:
            if not change.done:  # an unexpected failure: release the repair, as it stands
                await self._store.save(row.id)

    async def _fulfil(
        self,
        council: CouncilRuntime,
        change: Change,
        address: Address,
        job: Job,
        claim: WindowClaim | None,
        request: NewRepair,
    ) -> Repair:
        """Raise the works order and book the window, after the repair was stored."""
        row = change.row
        works_order_ref: str | None = None
        if council.works_orders is not None:
            try:
                works_order_ref = await council.works_orders.raise_order(
                    WorksOrderRequest(
                        council.spec.id, row.reference, address, job, request.description, request.contact
                    )
                )
            except AdapterError as exc:
                return await change.save(backend_note=_failed("raising the works order", exc))
        if claim is None:
            return await change.save(works_order_ref=works_order_ref)
        scheduler = council.schedulers[claim.scheduler]
        booking_request = BookingRequest(
            council.spec.id,
            row.reference,
            address,
            job,
            self._slot(claim),
            request.description,
            request.contact,
            works_order_ref,
        )
        try:
            booking = await scheduler.book(booking_request)
        except SlotUnavailable:
            # Nothing was promised: withdraw the record (and its works order) so the caller
            # can pick another window.
            if works_order_ref is not None and not await self._withdraw_order(council, works_order_ref):
                await change.save(
                    works_order_ref=works_order_ref,
                    backend_note="window taken; the works order could not be withdrawn",
                )
                raise conflict(TAKEN, "window-unavailable") from None
            await self._store.delete(row.id)
            change.done = True
            raise conflict(TAKEN, "window-unavailable") from None
        except AdapterError as exc:
            held = Booking(row.reference)
            if self._holds_window(await self._held(scheduler, held), claim):
                log.warning("repair %s: booking answered %s, yet the scheduler holds it", row.reference, exc)
                return await change.save(works_order_ref=works_order_ref, **self._booked(claim, held))
            # Still unknown: remember where and which window (shown only once it is
            # confirmed), so that a later read or change can settle it.
            return await change.save(
                works_order_ref=works_order_ref,
                scheduler=claim.scheduler,
                window_start=claim.start_at,
                window_end=claim.end_at,
                window_label=claim.label,
                backend_note=_failed("booking", exc),
            )
        return await change.save(works_order_ref=works_order_ref, **self._booked(claim, booking))

    @staticmethod
    async def _withdraw_order(council: CouncilRuntime, works_order_ref: str) -> bool:
        """Cancel a works order, if the housing system can; whether it is gone."""
        if council.works_orders is None:
            return True
        try:
            withdrawn = await council.works_orders.cancel_order(works_order_ref)
        except AdapterError as exc:
            log.warning("works order %s could not be withdrawn: %s (%s)", works_order_ref, exc, exc.detail)
            return False
        if not withdrawn:
            log.warning(
                "works order %s stays raised: the housing system cannot cancel orders", works_order_ref
            )
        return withdrawn

    # ------------------------------------------------------------------ read

    async def get(self, council: CouncilRuntime, reference: str) -> Repair:
        """The repair, with its status refreshed from the scheduler when it is booked."""
        row = await self._store.load(council.spec.id, reference)
        scheduler = council.schedulers.get(row.scheduler or "")
        if scheduler is None or self._store.held_by_another(row) or row.status in (CANCELLED, COMPLETED):
            return row
        if row.status == RECEIVED:
            return await self._take_up(council, scheduler, row)
        try:
            state = await scheduler.status(Booking(row.reference, row.backend_refs))
        except NotFound:
            # The scheduler holds no such booking any more (DRS deletes cancelled orders):
            # telling the resident an operative is coming would be untrue.
            log.warning("repair %s: the scheduler no longer holds its booking", row.reference)
            return await self._store.refresh(
                row, status=CANCELLED, backend_note="the scheduler no longer holds this booking"
            )
        except AdapterError:
            return row  # the stored state is the best answer while the backend is down
        changes: dict[str, Any] = {}
        if state.status.value != row.status:
            changes["status"] = state.status.value
        if state.start and state.end and (state.start, state.end) != (row.window_start, row.window_end):
            start, end = state.start.astimezone(council.zone), state.end.astimezone(council.zone)
            changes.update(
                window_start=start,
                window_end=end,
                window_label=label_for(start, end, council.spec.windows) or default_label(start, end),
            )
        return await self._store.refresh(row, **changes) if changes else row

    async def _take_up(self, council: CouncilRuntime, scheduler: Scheduler, row: Repair) -> Repair:
        """A repair whose booking call failed may be booked after all (its answer was lost,
        or the gateway's time limit cut it short): take it up if the scheduler holds the very
        window that was asked for. Any other window is not taken for a booking: DRS, for
        one, holds an unscheduled order as PLANNED across a default window."""
        if row.window_start is None or row.window_end is None:
            return row
        state = await self._held(scheduler, Booking(row.reference, row.backend_refs))
        if state is None or state.status != BookingStatus.BOOKED:
            return row
        if (state.start, state.end) != (row.window_start, row.window_end):
            return row
        log.warning("repair %s: the scheduler holds the booking its failed call made", row.reference)
        return await self._store.refresh(row, status=BOOKED, backend_note=None)

    # ------------------------------------------------------------------ cancel

    async def cancel(self, council: CouncilRuntime, reference: str) -> Repair:
        """Cancel the repair and free its window; cancelling twice answers it again."""
        row = await self._store.load(council.spec.id, reference)
        if row.status == CANCELLED:
            return row
        async with self._store.changing(row) as change:
            row = change.row
            if row.status == CANCELLED:
                return row
            if row.status == COMPLETED:
                raise conflict("a completed repair cannot be cancelled", "repair-state-conflict")
            # A scheduler is named once a booking was made or attempted (an attempt whose
            # answer was lost may have booked): cancelling is safe either way.
            scheduler = council.schedulers.get(row.scheduler or "")
            if scheduler is not None:
                try:
                    await scheduler.cancel(Booking(row.reference, row.backend_refs))
                except NotFound:
                    pass  # the backend holds nothing: cancelled already
                except AdapterError as exc:
                    await change.save(backend_note=_failed("cancel", exc))
                    raise unavailable(
                        "The appointment could not be cancelled just now; "
                        "nothing has changed. Try again shortly."
                    ) from None
            if row.works_order_ref is not None:
                await self._withdraw_order(council, row.works_order_ref)
            return await change.save(status=CANCELLED)

    # ------------------------------------------------------------------ reschedule

    async def reschedule(self, council: CouncilRuntime, reference: str, window_id: str) -> Repair:
        """Move the repair to another window, or book a repair that has none yet."""
        row = await self._store.load(council.spec.id, reference)
        job = _job(row)
        claim = self._claim(council, window_id, row.uprn, job, "body")
        self._check_movable(row, claim)
        address = await eligible_address(council, row.uprn, "body")
        async with self._store.changing(row) as change:
            row = change.row
            self._check_movable(row, claim)  # again, on the repair as it is now held
            if row.status == BOOKED and (row.window_start, row.window_end) == (claim.start_at, claim.end_at):
                return row  # already in that window
            scheduler = council.schedulers[claim.scheduler]
            try:
                booking = await self._move(council, scheduler, row, address, job, claim)
            except SlotUnavailable:
                raise conflict(TAKEN, "window-unavailable") from None
            except AdapterError as exc:
                held = Booking(row.reference, row.backend_refs)
                state = await self._held(scheduler, held)
                if self._holds_window(state, claim):  # the move was made; its answer was lost
                    return await change.save(**self._booked(claim, held))
                attempt: dict[str, Any] = {}
                if row.status == RECEIVED:  # a first booking: remember the window it asked for
                    attempt = {
                        "scheduler": claim.scheduler,
                        "window_start": claim.start_at,
                        "window_end": claim.end_at,
                        "window_label": claim.label,
                    }
                await change.save(backend_note=_failed("reschedule", exc), **attempt)
                unchanged = (
                    state is not None
                    and state.status == BookingStatus.BOOKED
                    and (state.start, state.end) == (row.window_start, row.window_end)
                )
                if unchanged:
                    raise unavailable(
                        "The appointment could not be changed just now; nothing has changed. "
                        "Try again shortly."
                    ) from None
                raise unavailable(
                    "The change could not be confirmed just now. Check the repair for its appointment "
                    "before trying again."
                ) from None
            return await change.save(**self._booked(claim, booking))

    @staticmethod
    def _check_movable(row: Repair, claim: WindowClaim) -> None:
        if row.status in (CANCELLED, COMPLETED, IN_PROGRESS):
            raise conflict(
                f"a repair that is {row.status.replace('_', ' ')} cannot be rescheduled",
                "repair-state-conflict",
            )
        if row.status == BOOKED and row.scheduler != claim.scheduler:
            raise unacceptable(
                "invalid-window", "windowId", "body", "was offered by a scheduler this repair is not with"
            )

    async def _move(
        self,
        council: CouncilRuntime,
        scheduler: Scheduler,
        row: Repair,
        address: Address,
        job: Job,
        claim: WindowClaim,
    ) -> Booking:
        """Reschedule a booked repair; book one that has no appointment yet."""
        held = Booking(row.reference, row.backend_refs)
        if row.status == BOOKED:
            return await scheduler.reschedule(held, job, self._slot(claim))
        if row.scheduler is not None:
            # An earlier attempt's answer was lost, so it may have booked: free that first.
            await scheduler.cancel(held)
        return await scheduler.book(
            BookingRequest(
                council.spec.id,
                row.reference,
                address,
                job,
                self._slot(claim),
                row.description,
                _contact(row),
                row.works_order_ref,
            )
        )
