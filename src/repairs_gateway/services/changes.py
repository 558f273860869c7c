"""Carrying out a change recorded on a repair: book, move or cancel, against its backends.

One code path serves a request that is waiting (``interactive``) and a worker settling a
change whose process died or whose backend was down: the intent is on the repair before
any backend is called, and what a backend holds is asked before a change is made again.

The rules:
* A booking confirmed to a resident exists in the backend; a lost answer is settled by
  asking the backend's ``status``, and the booking is taken only in the window asked.
* Something a backend holds that no one asked for (a half-made order) is withdrawn before
  booking again.
* A backend that is down leaves the repair ``received`` with a job to book it later; one
  that refuses (or a window taken while a worker books) leaves it for a person.
* A worker never chooses another time for a resident.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from typing import Any

from repairs_gateway.domain.errors import BackendDown, WindowTaken
from repairs_gateway.domain.repair import Intent, RepairStatus
from repairs_gateway.persistence.models import Repair, utcnow
from repairs_gateway.persistence.queue import NewJob
from repairs_gateway.persistence.repair_store import Held, RepairStore
from repairs_gateway.ports import (
    AdapterError,
    Address,
    BackendRejected,
    Booking,
    BookingRequest,
    BookingState,
    BookingStatus,
    Contact,
    Hazard,
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

UNREAD_HAZARDS = Hazard(
    "unread",
    "UNREAD",
    "Cautionary alerts and asbestos records could not be read from the housing system: "
    "check them before visiting",
)

log = logging.getLogger("repairs_gateway.repairs")
S = RepairStatus
TAKEN = "that appointment window has just been taken: choose another"
BOOK_JOB = "book"
SETTLE_JOB = "settle"
WITHDRAW_JOB = "withdraw-works-order"


@dataclass(frozen=True, slots=True)
class Outcome:
    """How a change ended: the repair as stored, and when its backend could not be reached,
    why (the worker retries later)."""

    row: Repair
    retry: str | None = None


def failed(what: str, exc: AdapterError) -> str:
    """A note for staff of a failed backend call (never shown to residents)."""
    return f"{what} failed: {type(exc).__name__}: {exc} ({exc.detail})"


def job_of(row: Repair) -> Job:
    """The job a repair books."""
    return Job(row.trade, row.duration_minutes, Priority(row.priority), row.sor_code)


def backend_key(council_id: str, scheduler: str | None) -> str:
    """The name jobs wait on for a backend."""
    return f"{council_id}/{scheduler or 'works-orders'}"


def book_later(row: Repair, council_id: str, delay: float) -> NewJob:
    """The job that books a repair once its backend answers again."""
    return NewJob(
        BOOK_JOB,
        f"book:{row.id}:{row.attempt or utcnow().timestamp()}",
        council_id=council_id,
        repair_id=row.id,
        backend=backend_key(council_id, row.scheduler),
        delay_seconds=delay,
    )


def withdraw_later(council_id: str, works_order_ref: str, repair_id: int) -> NewJob:
    """The job that cancels a works order no repair needs any more."""
    return NewJob(
        WITHDRAW_JOB,
        f"withdraw:{council_id}:{works_order_ref}",
        council_id=council_id,
        repair_id=repair_id,
        backend=backend_key(council_id, None),
        payload={"works_order_ref": works_order_ref},
    )


def holds(state: BookingState | None, intent: Intent) -> bool:
    """Whether the backend holds the booking in exactly the intent's window."""
    return (
        state is not None
        and state.status == BookingStatus.BOOKED
        and state.start is not None
        and state.end is not None
        and intent.start is not None
        and (state.start, state.end) == (intent.start, intent.end)
    )


class ChangeRunner:
    """Carries out the intent recorded on a held repair."""

    def __init__(self, store: RepairStore, first_retry_seconds: float = 2.0) -> None:
        self._store = store
        self._first_retry = first_retry_seconds

    # ------------------------------------------------------------------ entry

    async def carry_out(
        self,
        council: CouncilRuntime,
        held: Held,
        *,
        interactive: bool,
        resumed: bool,
        address: Address | None = None,
        restore: dict[str, Any] | None = None,
    ) -> Outcome:
        """Finish the repair's recorded intent. ``resumed`` says an earlier attempt may have
        reached a backend (a crash, a lost answer): the backend is asked first. When the
        window asked for is taken, a request is told so (409): a new repair is withdrawn, and
        one that existed before is put back as ``restore`` says."""
        intent = held.intent
        assert intent is not None
        if intent.operation == "cancel":
            return await self._cancel(council, held, interactive)
        if intent.operation == "move":
            return await self._move(council, held, intent, interactive, resumed)
        return await self._book(council, held, intent, interactive, resumed, address, restore)

    # ------------------------------------------------------------------ book

    async def _book(
        self,
        council: CouncilRuntime,
        held: Held,
        intent: Intent,
        interactive: bool,
        resumed: bool,
        address: Address | None,
        restore: dict[str, Any] | None = None,
    ) -> Outcome:
        row = held.row
        hazards: tuple[Hazard, ...] | None = None
        if address is None:
            try:
                address = await eligible_address(council, row.uprn)
            except BackendDown:
                return await self._not_booked(
                    council, held, "the address source is not answering", True, interactive
                )
        if council.works_orders is not None and row.works_order_ref is None:
            if resumed and intent.step == "works_order":
                return Outcome(
                    await held.save(
                        status=S.NEEDS_ATTENTION,
                        backend_note="an interrupted attempt may have raised a works order: check the "
                        "housing system before booking this repair",
                    )
                )
            intent = replace(intent, step="works_order")
            await held.record(intent=intent)
            hazards = await hazards_at(council, address)
            try:
                reference = await council.works_orders.raise_order(
                    WorksOrderRequest(
                        council.spec.id,
                        row.reference,
                        address,
                        job_of(row),
                        row.description,
                        _contact(row),
                        hazards,
                    )
                )
            except AdapterError as exc:
                transient = not isinstance(exc, BackendRejected)
                return await self._not_booked(
                    council, held, failed("raising the works order", exc), transient, interactive
                )
            intent = replace(intent, step="booking")
            row = await held.record(works_order_ref=reference, intent=intent)
        if intent.scheduler is None or intent.start is None or intent.end is None:
            return Outcome(await held.save(status=S.RECEIVED, backend_note=None))
        scheduler = council.schedulers.get(intent.scheduler)
        if scheduler is None:
            return Outcome(
                await held.save(
                    status=S.NEEDS_ATTENTION, backend_note="its scheduler is no longer configured"
                )
            )
        booking = Booking(row.reference, row.backend_refs, row.works_order_ref)
        if resumed:
            try:
                state: BookingState | None = await scheduler.status(booking)
            except NotFound:
                state = None
            except AdapterError as exc:
                return await self._not_booked(
                    council, held, failed("checking the booking", exc), True, interactive
                )
            if holds(state, intent):
                log.warning(
                    "repair %s: the scheduler holds the booking an earlier attempt made", row.reference
                )
                return Outcome(await held.save(**_booked(intent, booking)))
            if state is not None and state.status in (BookingStatus.BOOKED, BookingStatus.IN_PROGRESS):
                # Held, but not as asked (a half-made order): withdraw it before booking again.
                try:
                    await scheduler.cancel(booking)
                except NotFound:
                    pass
                except AdapterError as exc:
                    return await self._not_booked(
                        council, held, failed("withdrawing a half-made booking", exc), True, interactive
                    )
                log.warning("repair %s: withdrew what an interrupted attempt left", row.reference)
        if intent.start <= utcnow():
            return Outcome(
                await held.save(
                    status=S.NEEDS_ATTENTION, backend_note="the window asked for has passed: arrange another"
                )
            )
        slot = Slot(intent.start, intent.end, intent.ref)
        request = BookingRequest(
            council.spec.id,
            row.reference,
            address,
            job_of(row),
            slot,
            row.description,
            _contact(row),
            row.works_order_ref,
            hazards if hazards is not None else await hazards_at(council, address),
        )
        try:
            made = await scheduler.book(request)
        except SlotUnavailable:
            if interactive:
                if restore is None:
                    await self._withdraw_repair(council, held)
                else:
                    await held.save(**restore)
                raise WindowTaken(TAKEN) from None
            return Outcome(
                await held.save(
                    status=S.NEEDS_ATTENTION,
                    backend_note="the window asked for was taken before it could be booked: arrange another",
                )
            )
        except AdapterError as exc:
            if holds(await self._look(scheduler, booking), intent):
                log.warning("repair %s: booking answered %s, yet the scheduler holds it", row.reference, exc)
                return Outcome(await held.save(**_booked(intent, booking)))
            transient = not isinstance(exc, BackendRejected)
            return await self._not_booked(council, held, failed("booking", exc), transient, interactive)
        return Outcome(await held.save(**_booked(intent, made)))

    async def _not_booked(
        self, council: CouncilRuntime, held: Held, note: str, transient: bool, interactive: bool
    ) -> Outcome:
        """The booking did not happen: wait for the backend (received, with a job to book
        later: a new one for a request, the worker's own job tried again otherwise) or, when
        retrying cannot help, for a person."""
        if not transient:
            return Outcome(await held.save(status=S.NEEDS_ATTENTION, backend_note=note))
        jobs = [book_later(held.row, council.spec.id, self._first_retry)] if interactive else []
        row = await held.save(jobs=jobs, status=S.RECEIVED, backend_note=note)
        return Outcome(row, retry=note)

    async def _withdraw_repair(self, council: CouncilRuntime, held: Held) -> None:
        """Nothing was promised: remove the record and its works order, so the caller can
        choose another window. A works order that cannot be withdrawn keeps the repair, with
        a note for staff and a job to try again."""
        row = held.row
        if row.works_order_ref is not None:
            outcome = await withdraw_order(council, row.works_order_ref)
            if outcome != "withdrawn":
                retry = (
                    [withdraw_later(council.spec.id, row.works_order_ref, row.id)]
                    if outcome == "failed"
                    else []
                )
                await held.save(
                    jobs=retry,
                    status=S.NEEDS_ATTENTION,
                    backend_note="window taken; the works order could not be withdrawn",
                )
                return
        await self._store.delete(held)

    @staticmethod
    async def _look(scheduler: Scheduler, booking: Booking) -> BookingState | None:
        """What the scheduler holds for a booking whose call failed; None when it cannot say."""
        try:
            return await scheduler.status(booking)
        except AdapterError:
            return None

    # ------------------------------------------------------------------ move

    async def _move(
        self, council: CouncilRuntime, held: Held, intent: Intent, interactive: bool, resumed: bool
    ) -> Outcome:
        row = held.row
        assert intent.scheduler is not None and intent.start is not None and intent.end is not None
        scheduler = council.schedulers[intent.scheduler]
        booking = Booking(row.reference, row.backend_refs, row.works_order_ref)
        if resumed:
            try:
                state = await scheduler.status(booking)
            except NotFound:
                # The booking is gone: book the window asked for afresh.
                return await self._book(
                    council, held, replace(intent, operation="book"), interactive, True, None
                )
            except AdapterError as exc:
                return Outcome(
                    await held.save(intent=intent, backend_note=failed("checking a move", exc)),
                    retry=str(exc),
                )
            if holds(state, intent):
                return Outcome(await held.save(**_booked(intent, booking)))
        try:
            moved = await scheduler.reschedule(
                booking, job_of(row), Slot(intent.start, intent.end, intent.ref)
            )
        except SlotUnavailable:
            if interactive:
                await held.save(backend_note=None)
                raise WindowTaken(TAKEN) from None
            return Outcome(
                await held.save(backend_note="a move was not made: the window asked for was taken")
            )
        except AdapterError as exc:
            looked = await self._look(scheduler, booking)
            if holds(looked, intent):  # the move was made; its answer was lost
                return Outcome(await held.save(**_booked(intent, booking)))
            unchanged = (
                looked is not None
                and looked.status == BookingStatus.BOOKED
                and (looked.start, looked.end) == (row.window_start, row.window_end)
            )
            note = failed("reschedule", exc)
            if unchanged:
                await held.save(backend_note=note)
                if interactive:
                    raise BackendDown(
                        "The appointment could not be changed just now; nothing has changed. "
                        "Try again shortly."
                    ) from None
                return Outcome(held.row)
            # Not known: keep the intent for the worker to settle once the backend answers.
            await held.save(
                jobs=[settle_job(council.spec.id, row.id, intent.attempt, self._first_retry)],
                intent=intent,
                backend_note=note,
            )
            if interactive:
                raise BackendDown(
                    "The change could not be confirmed just now. Check the repair for its appointment "
                    "before trying again."
                ) from None
            return Outcome(held.row, retry=note)
        return Outcome(await held.save(**_booked(intent, moved)))

    # ------------------------------------------------------------------ cancel

    async def _cancel(self, council: CouncilRuntime, held: Held, interactive: bool) -> Outcome:
        row = held.row
        # A scheduler is named once a booking was asked for: whatever it may hold goes.
        scheduler = council.schedulers.get(row.scheduler or "")
        if scheduler is not None:
            try:
                await scheduler.cancel(Booking(row.reference, row.backend_refs, row.works_order_ref))
            except NotFound:
                pass  # the backend holds nothing: cancelled already
            except AdapterError as exc:
                note = failed("cancel", exc)
                if interactive:
                    await held.save(backend_note=note)
                    raise BackendDown(
                        "The appointment could not be cancelled just now; nothing has changed. "
                        "Try again shortly."
                    ) from None
                return Outcome(await held.save(intent=held.intent, backend_note=note), retry=note)
        jobs: list[NewJob] = []
        if row.works_order_ref is not None and await withdraw_order(council, row.works_order_ref) == "failed":
            jobs.append(withdraw_later(council.spec.id, row.works_order_ref, row.id))
        return Outcome(await held.save(jobs=jobs, status=S.CANCELLED))


def settle_job(council_id: str, repair_id: int, attempt: str, delay: float = 0.0) -> NewJob:
    """The job that settles a change left unfinished (its holder died, or its outcome was
    not known), named by the change's attempt so that it is queued once."""
    return NewJob(
        SETTLE_JOB,
        f"{SETTLE_JOB}:{repair_id}:{attempt}",
        council_id=council_id,
        repair_id=repair_id,
        delay_seconds=delay,
    )


async def hazards_at(council: CouncilRuntime, address: Address) -> tuple[Hazard, ...]:
    """What operatives must know of the property, from the council's housing system. When it
    cannot be asked the booking goes ahead, and operatives are told to check before visiting:
    a repair is not left waiting on a read that only informs the visit."""
    if council.hazards is None:
        return ()
    try:
        return tuple(await council.hazards.hazards_at(address))
    except AdapterError as exc:
        log.warning("hazards at %s could not be read: %s (%s)", address.uprn, exc, exc.detail)
        return (UNREAD_HAZARDS,)


async def withdraw_order(council: CouncilRuntime, works_order_ref: str) -> str:
    """Cancel a works order: ``withdrawn``, ``cannot`` (the housing system cannot cancel
    orders: a person must) or ``failed`` (worth trying again)."""
    if council.works_orders is None:
        return "withdrawn"
    try:
        withdrawn = await council.works_orders.cancel_order(works_order_ref)
    except NotFound:
        return "withdrawn"  # the housing system holds no such order: nothing to withdraw
    except BackendRejected as exc:
        # Refused for good (UH will not cancel an issued or completed order): asking again
        # cannot help, a person must.
        log.warning("works order %s cannot be withdrawn: %s (%s)", works_order_ref, exc, exc.detail)
        return "cannot"
    except AdapterError as exc:
        log.warning("works order %s could not be withdrawn: %s (%s)", works_order_ref, exc, exc.detail)
        return "failed"
    if not withdrawn:
        log.warning("works order %s stays raised: the housing system cannot cancel orders", works_order_ref)
        return "cannot"
    return "withdrawn"


def _contact(row: Repair) -> Contact:
    return Contact(row.contact_name, row.contact_phone, row.contact_email)


def _booked(intent: Intent, booking: Booking) -> dict[str, Any]:
    return {
        "status": S.BOOKED,
        "scheduler": intent.scheduler,
        "backend_refs": dict(booking.backend_refs),
        "window_start": intent.start,
        "window_end": intent.end,
        "window_label": intent.label,
        "window_ref": intent.ref,
        "backend_note": None,
    }
