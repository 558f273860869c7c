"""The repair use cases: record and book, read, cancel, move, and settle.

The rules this module keeps:
* A repair is stored (committed) before any backend is called, so nothing is lost; a
  change that will touch a backend is recorded on the repair (its intent) before it does.
* A backend failure after that still answers the reference, with status ``received``, and
  queues a job that books the repair once the backend answers again.
* A window that filled up meanwhile is a 409, and the stored repair is withdrawn (with any
  works order raised for it), so the caller can choose another window.
* Same Idempotency-Key and same body replays the first answer, even once its window id has
  expired; a different body is a 422; while the first is still being settled, a 409 with
  ``Retry-After``.
* Only one change to a repair runs at a time, held by a lease (``RepairStore.changing``);
  a change whose process died is settled by whoever takes the repair next, or the worker.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from repairs_gateway.domain.errors import (
    BackendDown,
    ChangeInProgress,
    DuplicateRepair,
    InvalidWindow,
    RepairStateConflict,
)
from repairs_gateway.domain.repair import Intent, RepairStatus
from repairs_gateway.domain.tokens import InvalidToken, TokenSigner, WindowClaim, job_fingerprint
from repairs_gateway.domain.windows import label_for
from repairs_gateway.persistence.models import Repair, utcnow
from repairs_gateway.persistence.queue import NewJob
from repairs_gateway.persistence.repair_store import Held, RepairStore, Replay
from repairs_gateway.ports import (
    Address,
    Contact,
    Job,
)
from repairs_gateway.runtime import CouncilRuntime
from repairs_gateway.services.addresses import eligible_address
from repairs_gateway.services.changes import (
    BOOK_JOB,
    ChangeRunner,
    Outcome,
    backend_key,
    job_of,
)
from repairs_gateway.services.duplicates import Duplicates, Joined, Reporter
from repairs_gateway.services.jobs import RepairSpec, resolve_job
from repairs_gateway.services.status import StatusService

log = logging.getLogger("repairs_gateway.repairs")
S = RepairStatus
PENDING = "a request with this Idempotency-Key is still being settled; ask again shortly"


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
    new_problem: bool = False
    """The caller says it is a new problem: recorded even if it repeats an open repair."""


@dataclass(frozen=True, slots=True)
class Created:
    """What createRepair did: the repair it answers; whether it replayed an earlier request
    with the same Idempotency-Key; and, when the report joined an open communal repair
    rather than making one, the channel its reporter is told by."""

    row: Repair
    replayed: bool = False
    joined_channel: str | None = None


def _hash_request(council_id: str, body: dict[str, Any]) -> str:
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(f"{council_id}\n{canonical}".encode()).hexdigest()


def _intent(operation: str, claim: WindowClaim) -> Intent:
    return Intent(
        operation,  # type: ignore[arg-type]
        Intent.new_attempt(),
        claim.scheduler,
        claim.start_at,
        claim.end_at,
        claim.label,
        claim.ref,
    )


def _asked(claim: WindowClaim) -> dict[str, Any]:
    """The window asked for, kept on the repair (shown only once booked)."""
    return {
        "scheduler": claim.scheduler,
        "window_start": claim.start_at,
        "window_end": claim.end_at,
        "window_label": claim.label,
        "window_ref": claim.ref,
    }


class RepairService:
    """The repair use cases for every council."""

    def __init__(self, store: RepairStore, signer: TokenSigner, first_retry_seconds: float = 2.0) -> None:
        self._store = store
        self._signer = signer
        self._changes = ChangeRunner(store, first_retry_seconds)
        self._first_retry = first_retry_seconds

    @property
    def store(self) -> RepairStore:
        """Where repairs are kept."""
        return self._store

    # ------------------------------------------------------------------ window ids

    def _claim(self, council: CouncilRuntime, window_id: str, uprn: str, job: Job) -> WindowClaim:
        try:
            claim = self._signer.window(window_id)
        except InvalidToken as exc:
            raise InvalidWindow(str(exc), "windowId") from None
        if claim.council != council.spec.id:
            raise InvalidWindow("was offered by another council", "windowId")
        if claim.uprn != uprn:
            raise InvalidWindow("was offered for another property", "windowId")
        if claim.job != job_fingerprint(job):
            raise InvalidWindow("was offered for another repair", "windowId")
        if claim.scheduler not in council.schedulers or claim.scheduler != council.scheduler_for(job.trade):
            raise InvalidWindow("is no longer offered: ask again", "windowId")
        # The label is the council's name for these times: one that does not match them was
        # not signed by this configuration, and would be shown to the resident as their visit.
        zone = council.zone
        if claim.label != label_for(
            claim.start_at.astimezone(zone), claim.end_at.astimezone(zone), council.spec.windows
        ):
            raise InvalidWindow("is no longer offered: ask again", "windowId")
        return claim

    # ------------------------------------------------------------------ create

    async def create(
        self,
        council: CouncilRuntime,
        client_id: int,
        request: NewRepair,
        idempotency_key: str | None,
        duplicates: Duplicates,
    ) -> Created:
        """Record and, given a window, book a repair; or, when the report repeats an open
        repair of the same job at the same property, join it (a communal area) or refuse
        naming it (a home, ``DuplicateRepair``), unless the caller says it is a new problem.
        ``duplicates`` finds open repairs and adds reporters to them."""
        spec = council.spec
        digest = _hash_request(spec.id, request.body)
        # A retry replays the first answer before anything else is judged: its window id may
        # have expired since, and that must not turn a made booking into a refusal.
        # One query answers both kinds of replay: a repair the key made, or one it joined.
        if idempotency_key is not None:
            earlier = await self._store.replay(spec.id, client_id, idempotency_key, digest)
            if earlier is not None:
                return await self._replayed(council, earlier)
        job = resolve_job(council, request.repair, "repair.")
        claim = self._claim(council, request.window_id, request.uprn, job) if request.window_id else None
        address: Address | None
        try:
            address = await eligible_address(council, request.uprn)
        except BackendDown:
            address = None  # the address source is down: record the repair all the same
        triage_path = request.repair.triage_path.strip("/").lower() if request.repair.triage_path else None
        if address is not None and not request.new_problem:
            reporter = Reporter(
                request.contact, request.preferred_channel, client_id, idempotency_key, digest
            )
            joined = await self._repeated(
                council, duplicates, request.uprn, address, job, triage_path, reporter
            )
            if joined is not None:
                return Created(joined.row, joined_channel=joined.channel)
        needs_backend = claim is not None or council.works_orders is not None
        values: dict[str, Any] = {
            "council_id": spec.id,
            "client_id": client_id,
            "uprn": request.uprn,
            "triage_path": triage_path,
            "trade": job.trade,
            "duration_minutes": job.duration_minutes,
            "priority": int(job.priority),
            "sor_code": job.sor_code,
            "description": request.description,
            "contact_name": request.contact.name,
            "contact_phone": request.contact.phone,
            "contact_email": request.contact.email,
            "preferred_channel": request.preferred_channel,
            "status": S.RECEIVED.value,
            "backend_refs": {},
            "backend_note": None,
            "idempotency_key": idempotency_key,
            "request_hash": digest,
            "address_lines": list(address.lines) if address else None,
            **(_asked(claim) if claim else {}),
        }
        attempt: str | None = None
        jobs: list[NewJob] = []
        if needs_backend and address is None:
            # Nothing is booked now; the worker books it once the address source answers.
            values["backend_note"] = "property could not be checked: address source unavailable"
            jobs.append(
                NewJob(
                    BOOK_JOB,
                    "book:{repair}:address",
                    council_id=spec.id,
                    backend=backend_key(spec.id, claim.scheduler if claim else None),
                    delay_seconds=self._first_retry,
                )
            )
        elif needs_backend:
            intent = _intent("book", claim) if claim else Intent("book", Intent.new_attempt())
            values.update(status=S.BOOKING.value, intent=intent.to_json())
            attempt = intent.attempt
        row = await self._store.insert(values, spec.reference_prefix, attempt, jobs)
        if row is None:  # a concurrent request with the same key stored first
            assert idempotency_key is not None
            earlier = await self._store.replay(spec.id, client_id, idempotency_key, digest)
            if earlier is None:
                raise ChangeInProgress(PENDING)
            return await self._replayed(council, earlier)
        if attempt is None:
            return Created(row)
        held = self._store.adopt(row)
        async with self._store.holding(held):
            outcome = await self._changes.carry_out(
                council, held, interactive=True, resumed=False, address=address
            )
        return Created(outcome.row)

    async def _replayed(self, council: CouncilRuntime, earlier: Replay) -> Created:
        """The answer to a retry: the repair its key made, once settled; or the open repair
        its report joined, which is another resident's and is answered as it is, whatever it
        is doing."""
        if earlier.joined_channel is not None:
            return Created(earlier.row, replayed=True, joined_channel=earlier.joined_channel)
        if earlier.row.first_answer is not None:
            # The first answer was given and kept: it is the answer, whatever the repair has
            # done since or is doing now (a cancel under way is no reason to make a retry wait).
            return Created(earlier.row, replayed=True)
        return Created(await self._settled(council, earlier.row), replayed=True)

    async def _repeated(
        self,
        council: CouncilRuntime,
        duplicates: Duplicates,
        uprn: str,
        address: Address,
        job: Job,
        triage_path: str | None,
        reporter: Reporter,
    ) -> Joined | None:
        """The open repair a report repeats, joined at a communal area reported within the
        council's time; ``DuplicateRepair`` naming it at a home (where the council turns that
        on); None when there is none."""
        spec = council.spec
        communal = address.kind == "communal"
        since = None
        if communal:
            days = spec.duplicates.communal_window_days
            if days == 0:
                return None  # this council never joins communal reports
            since = utcnow() - timedelta(days=days)
        elif not spec.duplicates.refuse_at_homes:
            return None  # this council records a home's repeated report as new
        found = await duplicates.open_repair(spec.id, uprn, job, triage_path, since)
        if found is None:
            return None
        if not communal:
            raise DuplicateRepair(
                f"This property already has an open repair for the same job, {found.reference}. "
                "If this is a different problem, report it again with newProblem set to true.",
                found.reference,
            )
        # None: the open repair closed meanwhile, so this report is recorded as a new one.
        return await duplicates.join(spec.id, found.id, reporter)

    async def _settled(self, council: CouncilRuntime, row: Repair) -> Repair:
        """The repair an earlier request made, once nothing is under way: a live change is
        a 409 with Retry-After, and one whose process died is settled here and now."""
        if self._store.held_by_another(row):
            raise ChangeInProgress(PENDING, self._store.retry_after(row))
        if row.intent is None:
            return row
        try:
            async with self._store.changing(row) as held:
                if held.intent is None:
                    return held.row
                outcome = await self._changes.carry_out(council, held, interactive=False, resumed=True)
        except ChangeInProgress:
            raise ChangeInProgress(PENDING, self._store.retry_after(row)) from None
        return outcome.row

    # ------------------------------------------------------------------ read

    async def get(self, council: CouncilRuntime, reference: str) -> Repair:
        """The repair, with its status refreshed from the scheduler when it is booked (the
        same path as the worker's poll and a scheduler's push: ``StatusService``)."""
        row = await self._store.load(council.spec.id, reference)
        if self._store.held_by_another(row) or row.status in (S.CANCELLED, S.COMPLETED):
            return row
        if row.intent is not None:  # a change whose process died: settle it now
            try:
                return await self._settled(council, row)
            except ChangeInProgress:
                return row
        if row.status == S.RECEIVED:
            return await self._take_up(council, row)
        return await StatusService(self._store).refresh(council, row)

    async def _take_up(self, council: CouncilRuntime, row: Repair) -> Repair:
        """A received repair whose booking call failed, taken up if the scheduler holds the
        very window asked for (see ``StatusService.take_up``)."""
        return await StatusService(self._store).take_up(council, row)

    # ------------------------------------------------------------------ cancel

    async def cancel(self, council: CouncilRuntime, reference: str) -> Repair:
        """Cancel the repair and free its window; cancelling twice answers it again."""
        row = await self._settled_first(council, await self._store.load(council.spec.id, reference))
        if row.status == S.CANCELLED:
            return row
        async with self._store.changing(row) as held:
            row = held.row
            if row.status == S.CANCELLED:
                return row
            if row.status == S.COMPLETED:
                raise RepairStateConflict("a completed repair cannot be cancelled")
            await held.record(intent=Intent("cancel", held.attempt))
            outcome = await self._changes.carry_out(council, held, interactive=True, resumed=False)
        return outcome.row

    async def _settled_first(self, council: CouncilRuntime, row: Repair) -> Repair:
        """The repair with any unfinished change settled before another is started; a
        backend that still cannot settle it is a 503, nothing changed."""
        if row.intent is None or self._store.held_by_another(row):
            return row  # a live holder: ``changing`` answers 409 with Retry-After
        row = await self._settled(council, row)
        if row.intent is not None:
            raise BackendDown("An earlier change to this repair is still being completed; try again shortly.")
        return row

    # ------------------------------------------------------------------ reschedule

    async def reschedule(self, council: CouncilRuntime, reference: str, window_id: str) -> Repair:
        """Move the repair to another window, or book a repair that has none yet."""
        row = await self._store.load(council.spec.id, reference)
        job = job_of(row)
        claim = self._claim(council, window_id, row.uprn, job)
        self._check_movable(row, claim)
        address = await eligible_address(council, row.uprn)
        row = await self._settled_first(council, row)
        async with self._store.changing(row) as held:
            row = held.row
            self._check_movable(row, claim)  # again, on the repair as it is now held
            if row.status == S.BOOKED and (row.window_start, row.window_end) == (
                claim.start_at,
                claim.end_at,
            ):
                return row  # already in that window
            if row.status == S.BOOKED:
                await held.record(intent=_intent("move", claim))
                outcome = await self._changes.carry_out(council, held, interactive=True, resumed=False)
            else:
                # A first booking. An earlier attempt's answer may have been lost, so it may
                # have booked: the backend is asked first when one was tried.
                tried = row.scheduler is not None
                restore = {
                    "status": row.status,
                    "scheduler": row.scheduler,
                    "window_start": row.window_start,
                    "window_end": row.window_end,
                    "window_label": row.window_label,
                    "window_ref": row.window_ref,
                }
                await held.record(status=S.BOOKING, intent=_intent("book", claim), **_asked(claim))
                outcome = await self._changes.carry_out(
                    council, held, interactive=True, resumed=tried, address=address, restore=restore
                )
        return outcome.row

    @staticmethod
    def _check_movable(row: Repair, claim: WindowClaim) -> None:
        if row.status in (S.CANCELLED, S.COMPLETED, S.IN_PROGRESS):
            raise RepairStateConflict(
                f"a repair that is {row.status.replace('_', ' ')} cannot be rescheduled"
            )
        if row.status == S.BOOKED and row.scheduler != claim.scheduler:
            raise InvalidWindow("was offered by a scheduler this repair is not with", "windowId")

    # ------------------------------------------------------------------ settle (the worker)

    async def settle(self, council: CouncilRuntime, repair_id: int) -> str | None:
        """Bring a repair to rest without a request: finish a change whose process died, or
        book a ``received`` repair into the window it asked for. Answers why to try again
        later (a backend still down, the repair held by another change), or None."""
        row = await self._store.get(repair_id)
        if row is None:
            return None  # withdrawn meanwhile
        try:
            async with self._store.changing(row) as held:
                outcome = await self._settle_held(council, held)
        except ChangeInProgress as busy:
            return busy.message
        return outcome.retry if outcome is not None else None

    async def _settle_held(self, council: CouncilRuntime, held: Held) -> Outcome | None:
        if held.intent is not None:
            return await self._changes.carry_out(council, held, interactive=False, resumed=True)
        row = held.row
        waiting = row.status == S.RECEIVED and (
            row.window_start is not None or (council.works_orders is not None and row.works_order_ref is None)
        )
        if not waiting:
            return None
        intent = Intent(
            "book",
            held.attempt,
            row.scheduler,
            row.window_start,
            row.window_end,
            row.window_label,
            row.window_ref or "",
        )
        await held.record(status=S.BOOKING, intent=intent)
        return await self._changes.carry_out(council, held, interactive=False, resumed=True)
