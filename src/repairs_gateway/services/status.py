"""Following a booking in its scheduler: one code path for a read of the repair, a poll by
the worker and a push from the scheduler.

Whatever asks, the scheduler's ``status`` is the only source believed (a push only says
which bookings to ask about), and what it reports is applied through
``RepairStore.refresh``, so the events, the messages and the next poll time follow from the
store: a move by the contractor keeps its own label, a booking the scheduler no longer holds
reads cancelled. Closed repairs are never asked about, and a repair another change holds is
left to that change.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from repairs_gateway.domain.errors import RepairNotFound
from repairs_gateway.domain.polling import HELD, next_poll_at, retry_poll_at
from repairs_gateway.domain.repair import Intent, RepairStatus, can_move
from repairs_gateway.domain.windows import default_label, label_for
from repairs_gateway.persistence.models import Repair, utcnow
from repairs_gateway.persistence.queue import NewJob
from repairs_gateway.persistence.repair_store import RepairStore
from repairs_gateway.ports import AdapterError, Booking, BookingState, NotFound, StatusPushReader
from repairs_gateway.resilience import GuardedScheduler
from repairs_gateway.runtime import CouncilRuntime
from repairs_gateway.services.changes import holds

log = logging.getLogger("repairs_gateway.status")
S = RepairStatus
POLL_JOB = "poll"
FOLLOWED = frozenset({S.BOOKED, S.IN_PROGRESS})
"""The statuses whose booking the scheduler is asked about."""
GONE = "the scheduler no longer holds this booking"


@dataclass(frozen=True, slots=True)
class Followed:
    """What asking about a repair came to: the repair as stored now; ``reached`` is False
    when its scheduler could not be asked (down), ``held`` True when another change holds
    the repair (nothing was asked)."""

    row: Repair
    reached: bool = True
    held: bool = False


def poll_job(council_id: str, repair_id: int, due: datetime) -> NewJob:
    """The job that polls a repair's scheduler, once per repair and due time."""
    return NewJob(
        POLL_JOB,
        f"poll:{repair_id}:{due.timestamp():.6f}",
        council_id=council_id,
        repair_id=repair_id,
        payload={"due": due.isoformat()},
        max_attempts=5,
    )


def push_reader(council: CouncilRuntime, scheduler_name: str) -> StatusPushReader | None:
    """The council's scheduler of that name when its adapter reads pushes, else None."""
    scheduler = council.schedulers.get(scheduler_name)
    if scheduler is None:
        return None
    # The gateway's guard wraps the adapter; reading a push is parsing, not a backend call.
    adapter = scheduler.adapter if isinstance(scheduler, GuardedScheduler) else scheduler
    return adapter if isinstance(adapter, StatusPushReader) else None


class StatusService:
    """Asks schedulers what they hold of repairs' bookings and records what changed."""

    def __init__(self, store: RepairStore) -> None:
        self._store = store

    # ------------------------------------------------------------------ one repair

    async def refresh(self, council: CouncilRuntime, row: Repair) -> Repair:
        """The repair with what its scheduler holds applied: a booked or in-progress repair
        is asked about, a received one whose booking call failed is taken up if the
        scheduler holds the very window asked for. The stored repair while it is down."""
        if row.status == S.RECEIVED:
            return await self.take_up(council, row)
        return (await self.follow(council, row)).row

    async def follow(self, council: CouncilRuntime, row: Repair) -> Followed:
        """Ask the scheduler of a booked or in-progress repair, and apply what changed."""
        if row.status not in FOLLOWED:
            return Followed(row)  # received, closed, ...: nothing to follow
        if self._store.held_by_another(row) or row.intent is not None:
            return Followed(row, held=True)
        scheduler = council.schedulers.get(row.scheduler or "")
        if scheduler is None:
            return Followed(row)  # its scheduler is no longer configured
        try:
            state = await scheduler.status(Booking(row.reference, row.backend_refs, row.works_order_ref))
        except NotFound:
            # The scheduler holds no such booking any more (DRS deletes cancelled orders):
            # telling the resident an operative is coming would be untrue.
            log.warning("repair %s: the scheduler no longer holds its booking", row.reference)
            return Followed(await self._store.refresh(row, status=S.CANCELLED.value, backend_note=GONE))
        except AdapterError as exc:
            log.info("repair %s: status not known now (%s)", row.reference, type(exc).__name__)
            return Followed(row, reached=False)
        changes = _changes(council, row, state)
        return Followed(await self._store.refresh(row, **changes) if changes else row)

    async def take_up(self, council: CouncilRuntime, row: Repair) -> Repair:
        """A repair whose booking call failed may be booked after all (its answer was lost,
        or the gateway's time limit cut it short): take it up if the scheduler holds the very
        window that was asked for. Any other window is not taken for a booking: DRS, for
        one, holds an unscheduled order as PLANNED across a default window."""
        if row.window_start is None or row.window_end is None or row.backend_note is None:
            return row
        scheduler = council.schedulers.get(row.scheduler or "")
        if scheduler is None:
            return row
        try:
            state = await scheduler.status(Booking(row.reference, row.backend_refs, row.works_order_ref))
        except AdapterError:
            return row
        asked = Intent("book", "", row.scheduler, row.window_start, row.window_end)
        if not holds(state, asked):
            return row
        log.warning("repair %s: the scheduler holds the booking its failed call made", row.reference)
        return await self._store.refresh(row, status=S.BOOKED.value, backend_note=None)

    # ------------------------------------------------------------------ the worker's poll

    async def poll(self, council: CouncilRuntime, repair_id: int, due: datetime) -> Followed | None:
        """The worker's poll of a repair that was due at ``due``: follow it, then set when to
        ask next (the usual cadence; sooner after a scheduler that was down, shortly after a
        change that held the repair). None when the repair is gone."""
        row = await self._store.get(repair_id)
        if row is None:
            return None
        followed = await self.follow(council, row)
        now, fresh = utcnow(), followed.row
        if followed.held:
            at: datetime | None = now + HELD
        elif not followed.reached:
            at = retry_poll_at(now, fresh.status, fresh.window_start)
        else:
            at = next_poll_at(now, fresh.status, fresh.window_start)
        # Unless a change set the next poll meanwhile (a status applied just now does).
        await self._store.poll_again(repair_id, due, at)
        return followed

    # ------------------------------------------------------------------ a push

    async def pushed(self, council: CouncilRuntime, scheduler_name: str, references: Iterable[str]) -> int:
        """Follow each repair a push from ``scheduler_name`` names, at once. References the
        council does not know, or of repairs with another scheduler, are ignored; a repair
        that cannot be followed now (held by a change, the scheduler down) is polled at the
        worker's next pass. Answers how many of the references were repairs of this
        scheduler."""
        known = 0
        for reference in dict.fromkeys(references):
            try:
                row = await self._store.load(council.spec.id, reference)
            except RepairNotFound:
                # Schedulers that file a job under the housing system's works order name
                # the repair by that order (DRS's primaryOrderNumber on a UH council).
                found = await self._store.by_works_order(council.spec.id, reference)
                if found is None:
                    continue
                row = found
            if row.scheduler != scheduler_name:
                continue
            known += 1
            followed = await self.follow(council, row)
            if followed.held or not followed.reached:
                await self._poll_now(followed.row)
        return known

    async def _poll_now(self, row: Repair) -> None:
        if row.next_poll_at is not None and row.status in FOLLOWED:
            await self._store.poll_again(row.id, row.next_poll_at, utcnow())


def _changes(council: CouncilRuntime, row: Repair, state: BookingState) -> dict[str, Any]:
    """What the scheduler reports that the stored repair does not say yet."""
    changes: dict[str, Any] = {}
    if state.status.value != row.status and can_move(row.status, state.status.value):
        changes["status"] = state.status.value
    if state.start and state.end and (state.start, state.end) != (row.window_start, row.window_end):
        start, end = state.start.astimezone(council.zone), state.end.astimezone(council.zone)
        changes.update(
            window_start=start,
            window_end=end,
            window_label=label_for(start, end, council.spec.windows) or default_label(start, end),
        )
    return changes
