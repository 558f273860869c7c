"""Recording, booking, checking, moving and cancelling repairs.

The rules this module keeps:
* A repair is stored (committed) before any backend is called, so nothing is lost.
* A backend failure after that still answers the reference, with status ``received``.
* A window that filled up meanwhile is a 409, and the stored repair is withdrawn, so that
  the caller can choose another window (with the same Idempotency-Key if it likes).
* Same Idempotency-Key and same body replays the first answer; a different body is a 422.
* Only one change to a repair runs at a time (the ``in_flight`` flag is taken with a
  conditional UPDATE), so racing replicas never book twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.domain.references import new_reference
from repairs_gateway.domain.tokens import InvalidToken, TokenSigner, WindowClaim, job_fingerprint
from repairs_gateway.persistence.models import Repair
from repairs_gateway.ports import (
    AdapterError,
    Address,
    BackendRejected,
    BackendUnavailable,
    Booking,
    BookingRequest,
    BookingStatus,
    Contact,
    Job,
    NotFound,
    Priority,
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
    not_found,
    unacceptable,
    unavailable,
)

log = logging.getLogger("repairs_gateway.repairs")

RECEIVED = "received"
BOOKED = BookingStatus.BOOKED.value
CANCELLED = BookingStatus.CANCELLED.value
COMPLETED = BookingStatus.COMPLETED.value
# A change left in flight longer than this was interrupted (a crashed process).
STALE_AFTER = timedelta(minutes=2)


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


class RepairService:
    """The repair use cases for every council."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], signer: TokenSigner) -> None:
        self._sessions = sessions
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

    # ------------------------------------------------------------------ storage helpers

    async def _load(self, council_id: str, reference: str) -> Repair:
        async with self._sessions() as session:
            row = await session.scalar(
                select(Repair).where(Repair.council_id == council_id).where(Repair.reference == reference)
            )
        if row is None:
            raise not_found("repair-not-found", f"repair {reference}", "reference")
        return row

    async def _take(self, row: Repair) -> None:
        """Mark the repair as being changed; 409 if another change is under way."""
        stale = datetime.now(UTC) - STALE_AFTER
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Repair)
                .where(Repair.id == row.id)
                .where((Repair.in_flight.is_(False)) | (Repair.updated_at < stale))
                .values(in_flight=True, updated_at=datetime.now(UTC))
            )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise conflict(
                "another change to this repair is in progress; try again shortly", "request-in-progress"
            )

    async def _save(self, row: Repair, **changes: Any) -> Repair:
        """Write ``changes`` and release the repair."""
        changes.setdefault("in_flight", False)
        changes["updated_at"] = datetime.now(UTC)
        async with self._sessions.begin() as session:
            await session.execute(update(Repair).where(Repair.id == row.id).values(**changes))
            fresh = await session.get(Repair, row.id, populate_existing=True)
        assert fresh is not None
        return fresh

    # ------------------------------------------------------------------ create

    async def _replay(self, council_id: str, client_id: int, key: str, digest: str) -> Repair | None:
        async with self._sessions() as session:
            row = await session.scalar(
                select(Repair)
                .where(Repair.council_id == council_id)
                .where(Repair.client_id == client_id)
                .where(Repair.idempotency_key == key)
            )
        if row is None:
            return None
        if row.request_hash != digest:
            raise unacceptable(
                "idempotency-key-reused",
                "Idempotency-Key",
                "header",
                "was used before with a different request body",
            )
        if row.in_flight and row.updated_at > datetime.now(UTC) - STALE_AFTER:
            raise conflict("a request with this Idempotency-Key is still in progress", "request-in-progress")
        return row

    async def _insert(self, row_values: dict[str, Any], prefix: str) -> Repair | None:
        """Insert a new repair with a fresh reference; None when the idempotency key won a race."""
        for _ in range(5):
            row = Repair(reference=new_reference(prefix), **row_values)
            try:
                async with self._sessions.begin() as session:
                    session.add(row)
                return row
            except IntegrityError as exc:
                # The driver's message names the violated constraint (the statement's own text
                # names every column, so it cannot tell the two apart).
                if "idempotency" in str(exc.orig).lower():
                    return None
                continue  # a reference collision: draw again
        raise RuntimeError("could not draw a unique reference")

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
        job = resolve_job(council, request.repair, "body", "repair.")
        claim = (
            self._claim(council, request.window_id, request.uprn, job, "body") if request.window_id else None
        )
        digest = _hash_request(spec.id, request.body)
        if idempotency_key is not None:
            existing = await self._replay(spec.id, client_id, idempotency_key, digest)
            if existing is not None:
                return existing, True
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
        row = await self._insert(values, spec.reference_prefix)
        if row is None:  # a concurrent request with the same key stored first
            assert idempotency_key is not None
            existing = await self._replay(spec.id, client_id, idempotency_key, digest)
            if existing is None:
                raise conflict(
                    "a request with this Idempotency-Key is still in progress", "request-in-progress"
                )
            return existing, True
        if address is None:
            return row, False
        return await self._fulfil(council, row, address, job, claim, request), False

    async def _fulfil(
        self,
        council: CouncilRuntime,
        row: Repair,
        address: Address,
        job: Job,
        claim: WindowClaim | None,
        request: NewRepair,
    ) -> Repair:
        """Raise the works order and book the window, after the repair was stored."""
        changes: dict[str, Any] = {}
        if council.works_orders is not None:
            try:
                changes["works_order_ref"] = await council.works_orders.raise_order(
                    WorksOrderRequest(
                        council.spec.id, row.reference, address, job, request.description, request.contact
                    )
                )
            except AdapterError as exc:
                return await self._save(row, backend_note=f"works order not raised: {exc.detail or exc}")
        if claim is None:
            return await self._save(row, **changes)
        scheduler = council.schedulers[claim.scheduler]
        booking_request = BookingRequest(
            council.spec.id,
            row.reference,
            address,
            job,
            self._slot(claim),
            request.description,
            request.contact,
            changes.get("works_order_ref"),
        )
        try:
            booking = await scheduler.book(booking_request)
        except SlotUnavailable:
            # Nothing was promised: withdraw the record so the caller can pick another window.
            async with self._sessions.begin() as session:
                await session.execute(delete(Repair).where(Repair.id == row.id))
            raise conflict(
                "that appointment window has just been taken: choose another", "window-unavailable"
            ) from None
        except AdapterError as exc:
            changes["backend_note"] = f"booking failed: {exc} ({exc.detail})"
            changes["scheduler"] = claim.scheduler
            return await self._save(row, **changes)
        return await self._save(
            row,
            **changes,
            status=BOOKED,
            scheduler=claim.scheduler,
            backend_refs=dict(booking.backend_refs),
            window_start=claim.start_at,
            window_end=claim.end_at,
            window_label=claim.label,
            backend_note=None,
        )

    # ------------------------------------------------------------------ read

    async def get(self, council: CouncilRuntime, reference: str) -> Repair:
        """The repair, with its status refreshed from the scheduler when it is booked."""
        row = await self._load(council.spec.id, reference)
        if row.status not in (BOOKED, BookingStatus.IN_PROGRESS.value) or not row.scheduler:
            return row
        scheduler = council.schedulers.get(row.scheduler)
        if scheduler is None or row.in_flight:
            return row
        try:
            state = await scheduler.status(Booking(row.reference, row.backend_refs))
        except NotFound:
            log.warning("repair %s: the scheduler no longer knows its booking", row.reference)
            return row
        except AdapterError:
            return row  # the stored state is the best answer while the backend is down
        changes: dict[str, Any] = {}
        if state.status.value != row.status:
            changes["status"] = state.status.value
        if state.start and state.end and state.start != row.window_start:
            changes.update(window_start=state.start, window_end=state.end)
        if not changes:
            return row
        async with self._sessions.begin() as session:
            await session.execute(update(Repair).where(Repair.id == row.id).values(**changes))
        return await self._load(council.spec.id, reference)

    # ------------------------------------------------------------------ cancel

    async def cancel(self, council: CouncilRuntime, reference: str) -> Repair:
        """Cancel the repair and free its window; cancelling twice answers it again."""
        row = await self._load(council.spec.id, reference)
        if row.status == CANCELLED:
            return row
        if row.status == COMPLETED:
            raise conflict("a completed repair cannot be cancelled", "repair-state-conflict")
        await self._take(row)
        scheduler = council.schedulers.get(row.scheduler or "")
        if row.status != RECEIVED and scheduler is not None:
            try:
                await scheduler.cancel(Booking(row.reference, row.backend_refs))
            except NotFound:
                pass  # the backend holds nothing: cancelled already
            except AdapterError as exc:
                await self._save(row, backend_note=f"cancel failed: {exc} ({exc.detail})")
                raise unavailable(
                    "The appointment could not be cancelled just now; nothing has changed. Try again shortly."
                ) from None
        return await self._save(row, status=CANCELLED)

    # ------------------------------------------------------------------ reschedule

    async def reschedule(self, council: CouncilRuntime, reference: str, window_id: str) -> Repair:
        """Move the repair to another window, or book a repair that has none yet."""
        row = await self._load(council.spec.id, reference)
        job = _job(row)
        claim = self._claim(council, window_id, row.uprn, job, "body")
        if row.status in (CANCELLED, COMPLETED):
            raise conflict(f"a {row.status} repair cannot be rescheduled", "repair-state-conflict")
        if row.status == BOOKED and (row.window_start, row.window_end) == (claim.start_at, claim.end_at):
            return row  # already in that window
        if row.status == BOOKED and row.scheduler != claim.scheduler:
            raise unacceptable(
                "invalid-window", "windowId", "body", "was offered by a scheduler this repair is not with"
            )
        address = await eligible_address(council, row.uprn, "body")
        await self._take(row)
        scheduler = council.schedulers[claim.scheduler]
        try:
            if row.status == RECEIVED:
                booking = await scheduler.book(
                    BookingRequest(
                        council.spec.id,
                        row.reference,
                        address,
                        job,
                        self._slot(claim),
                        row.description,
                        Contact(row.contact_name, row.contact_phone, row.contact_email),
                        row.works_order_ref,
                    )
                )
            else:
                booking = await scheduler.reschedule(
                    Booking(row.reference, row.backend_refs), job, self._slot(claim)
                )
        except SlotUnavailable:
            await self._save(row)
            raise conflict(
                "that appointment window has just been taken: choose another", "window-unavailable"
            ) from None
        except (BackendUnavailable, BackendRejected, NotFound) as exc:
            await self._save(row, backend_note=f"reschedule failed: {exc} ({exc.detail})")
            raise unavailable(
                "The appointment could not be changed just now; nothing has changed. Try again shortly."
            ) from None
        return await self._save(
            row,
            status=BOOKED,
            scheduler=claim.scheduler,
            backend_refs=dict(booking.backend_refs),
            window_start=claim.start_at,
            window_end=claim.end_at,
            window_label=claim.label,
            backend_note=None,
        )
