"""How repairs are stored and changed safely: one change at a time, held by a lease.

A change takes the repair with a conditional UPDATE that sets ``lease_until`` and a fresh
``attempt`` id, and re-reads the row while holding it, so a decision is never made on a
state another process has since changed. While the change runs, its lease is renewed; a
process that dies stops renewing, and once the lease has run out any process may take the
repair over and settle what the dead one recorded in ``intent``. Every write of a holder
names its ``attempt``, so a holder that lost its lease cannot overwrite the new holder.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Integer, cast, func, insert, null, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.domain.errors import ChangeInProgress, IdempotencyKeyReused, RepairNotFound
from repairs_gateway.domain.history import EventKind, events_for
from repairs_gateway.domain.polling import next_poll_at
from repairs_gateway.domain.references import new_reference
from repairs_gateway.domain.repair import Intent, RepairStatus, check_move
from repairs_gateway.persistence.models import Repair, RepairContact, RepairEvent, utcnow
from repairs_gateway.persistence.queue import NewJob, add_jobs

IN_PROGRESS_DETAIL = "another change to this repair is in progress; try again shortly"


@dataclass(frozen=True, slots=True)
class Replay:
    """What an earlier request with the same Idempotency-Key did: made ``row``, or, when
    ``joined_channel`` is given, joined that open repair as a reporter told by it."""

    row: Repair
    joined_channel: str | None = None


class Held:
    """A repair held for one change: ``row`` as it is now; ``record`` writes and keeps
    holding (an intent, before the backend is called), ``save`` writes and lets go."""

    def __init__(self, store: RepairStore, row: Repair, attempt: str) -> None:
        self.row = row
        self.attempt = attempt
        self._store = store
        self.done = False

    @property
    def intent(self) -> Intent | None:
        """The change recorded on the repair, if any."""
        return Intent.from_json(self.row.intent) if self.row.intent else None

    async def record(self, jobs: Sequence[NewJob] = (), **changes: Any) -> Repair:
        """Write ``changes`` (an ``intent=Intent`` among them) and keep the repair."""
        self.row = await self._store._write(self, changes, release=False, jobs=jobs)
        return self.row

    async def save(self, jobs: Sequence[NewJob] = (), **changes: Any) -> Repair:
        """Write ``changes``, queue ``jobs`` in the same transaction, clear the intent unless
        ``intent`` is among the changes, and let go of the repair."""
        changes.setdefault("intent", None)
        self.row = await self._store._write(self, changes, release=True, jobs=jobs)
        self.done = True
        return self.row


class RepairStore:
    """The ``repairs`` table, as the use cases need it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], lease: timedelta) -> None:
        self._sessions = sessions
        self.lease = lease

    # ------------------------------------------------------------------ reading

    async def load(self, council_id: str, reference: str) -> Repair:
        """The council's repair with this reference; ``RepairNotFound`` otherwise."""
        async with self._sessions() as session:
            row = await session.scalar(
                select(Repair).where(Repair.council_id == council_id).where(Repair.reference == reference)
            )
        if row is None:
            raise RepairNotFound(f"repair {reference} was not found", "reference")
        return row

    async def by_works_order(self, council_id: str, works_order_ref: str) -> Repair | None:
        """The council's repair raised as this works order, if any."""
        async with self._sessions() as session:
            return await session.scalar(
                select(Repair)
                .where(Repair.council_id == council_id)
                .where(Repair.works_order_ref == works_order_ref)
                .order_by(Repair.id.desc())
                .limit(1)
            )

    async def get(self, repair_id: int) -> Repair | None:
        """The repair with this id, if it still exists."""
        async with self._sessions() as session:
            return await session.get(Repair, repair_id)

    @staticmethod
    def held_by_another(row: Repair) -> bool:
        """Whether a live change holds the repair now."""
        return row.lease_until is not None and row.lease_until > utcnow()

    def retry_after(self, row: Repair) -> int:
        """A fair wait, in seconds, before asking about a held repair again."""
        if row.lease_until is None:
            return 1
        left = (row.lease_until - utcnow()).total_seconds()
        return int(max(1, min(5, left + 1)))

    async def replay(self, council_id: str, client_id: int, key: str, digest: str) -> Replay | None:
        """The repair an earlier request with this Idempotency-Key made, or the open repair
        an earlier report with it joined (with that reporter's channel), the made one first;
        ``IdempotencyKeyReused`` when that request had another body. One indexed query: the
        two lookups, each on its own unique key, as a UNION ALL joined to the repair."""
        made = (
            select(Repair.id.label("repair_id"), cast(null(), Integer).label("contact_id"))
            .where(Repair.council_id == council_id)
            .where(Repair.client_id == client_id)
            .where(Repair.idempotency_key == key)
        )
        joined = (
            select(RepairContact.repair_id, RepairContact.id)
            .where(RepairContact.client_id == client_id)
            .where(RepairContact.idempotency_key == key)
        )
        hits = union_all(made, joined).subquery()
        query = (
            select(Repair, RepairContact.request_hash, RepairContact.preferred_channel)
            .join(hits, Repair.id == hits.c.repair_id)
            .outerjoin(RepairContact, RepairContact.id == hits.c.contact_id)
            .where(Repair.council_id == council_id)
            .order_by(hits.c.contact_id.is_not(None), hits.c.contact_id)
            .limit(1)
        )
        async with self._sessions() as session:
            found = (await session.execute(query)).first()
        if found is None:
            return None
        row, joined_hash, channel = found
        if channel is None:  # the request made this repair
            if row.request_hash != digest:
                raise IdempotencyKeyReused("was used before with a different request body", "Idempotency-Key")
            return Replay(row)
        if joined_hash != digest:
            raise IdempotencyKeyReused("was used before with a different request body", "Idempotency-Key")
        return Replay(row, channel)

    async def first_answer(self, repair_id: int, answer: dict[str, Any]) -> dict[str, Any]:
        """Keep ``answer`` as the first answer to the request that made the repair, unless
        one is kept already; answers the one kept (so two racing answers agree), or
        ``answer`` when the repair was withdrawn meanwhile."""
        async with self._sessions.begin() as session:
            stored = await session.execute(
                update(Repair)
                .where(Repair.id == repair_id)
                .where(Repair.first_answer.is_(None))
                # Keeping the answer is not a change to the repair: updated_at stays.
                .values(first_answer=answer, updated_at=Repair.updated_at)
            )
            if stored.rowcount == 1:  # type: ignore[attr-defined]
                return answer
            kept = await session.scalar(select(Repair.first_answer).where(Repair.id == repair_id))
        return kept if kept is not None else answer

    async def abandoned(self, limit: int = 500) -> list[tuple[int, str, str]]:
        """Repairs let go, or whose holder died, with an intent recorded:
        (id, council, the intent's attempt)."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(Repair.id, Repair.council_id, Repair.intent)
                .where(Repair.lease_until < utcnow())
                .where(Repair.intent.is_not(None))
                .order_by(Repair.lease_until)
                .limit(limit)
            )
            return [
                (rid, council, str((intent or {}).get("attempt", ""))) for rid, council, intent in rows.all()
            ]

    async def due_polls(self, now: datetime, limit: int = 200) -> list[tuple[int, str, datetime]]:
        """Booked and in-progress repairs whose next status poll is due, the longest due
        first: (id, council, the due time). Closed repairs have no poll time."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(Repair.id, Repair.council_id, Repair.next_poll_at)
                .where(Repair.next_poll_at <= now)
                .where(Repair.status.in_((RepairStatus.BOOKED.value, RepairStatus.IN_PROGRESS.value)))
                .order_by(Repair.next_poll_at, Repair.id)
                .limit(limit)
            )
            return [(rid, council, due) for rid, council, due in rows.all() if due is not None]

    async def poll_again(self, repair_id: int, due: datetime, at: datetime | None) -> bool:
        """Set the repair's next status poll to ``at`` after a poll that was due at ``due``,
        unless something else has set it since (a change, which sets its own); False then.
        The repair's ``updated_at`` is left alone: a poll that found nothing changed nothing."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Repair)
                .where(Repair.id == repair_id)
                .where(Repair.next_poll_at == due)
                .values(next_poll_at=at, updated_at=Repair.updated_at)
                .execution_options(synchronize_session=False)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def listing(
        self,
        council_id: str,
        statuses: Sequence[str],
        older_than: datetime | None,
        after_id: int | None,
        limit: int,
    ) -> list[Repair]:
        """A council's repairs in ``statuses`` (all when empty), oldest first, from after
        ``after_id``, created before ``older_than``."""
        query = select(Repair).where(Repair.council_id == council_id)
        if statuses:
            query = query.where(Repair.status.in_(statuses))
        if older_than is not None:
            query = query.where(Repair.created_at < older_than)
        if after_id is not None:
            query = query.where(Repair.id > after_id)
        async with self._sessions() as session:
            return list(await session.scalars(query.order_by(Repair.id).limit(limit)))

    async def counts(self) -> dict[tuple[str, str], int]:
        """How many repairs each council has in each status."""
        async with self._sessions() as session:
            rows = await session.execute(
                select(Repair.council_id, Repair.status, func.count()).group_by(
                    Repair.council_id, Repair.status
                )
            )
            return {(council, status): int(n) for council, status, n in rows.all()}

    # ------------------------------------------------------------------ writing

    async def insert(
        self,
        values: dict[str, Any],
        prefix: str,
        attempt: str | None,
        jobs: Sequence[NewJob] = (),
    ) -> Repair | None:
        """Insert a repair under a fresh reference, held by ``attempt`` when given, with
        ``jobs`` queued in the same transaction; None when its Idempotency-Key was stored
        first by a concurrent request."""
        for _ in range(5):
            row = Repair(reference=new_reference(prefix), **values)
            if attempt is not None:
                row.attempt, row.lease_until = attempt, utcnow() + self.lease
            try:
                async with self._sessions.begin() as session:
                    session.add(row)
                    await session.flush()
                    await add_jobs(session, [_for_repair(job, row.id) for job in jobs])
                    await record_events(session, row, [(EventKind.REPORTED, {})])
                return row
            except IntegrityError as exc:
                # The driver's message names the violated constraint (the statement's own
                # text names every column, so it cannot tell the two apart).
                if "idempotency" in str(exc.orig).lower():
                    return None
        raise RuntimeError("could not draw a unique reference")

    async def delete(self, held: Held) -> None:
        """Withdraw a repair that promised nothing (its window was taken)."""
        async with self._sessions.begin() as session:
            row = await session.get(Repair, held.row.id)
            if row is not None and row.attempt == held.attempt:
                await session.delete(row)
        held.done = True

    async def refresh(self, row: Repair, **changes: Any) -> Repair:
        """Apply what a backend reports, unless the repair is held or changed since read."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Repair)
                .where(Repair.id == row.id)
                # Not held by a live change; a holder that died without an intent (its
                # lease ran out) must not keep what the backend reports from being written.
                .where(Repair.lease_until.is_(None) | (Repair.lease_until < utcnow()))
                .where(Repair.updated_at == row.updated_at)
                .values(**changes, updated_at=utcnow())
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                return await _after_change(session, row)
            fresh = await session.get(Repair, row.id, populate_existing=True)
        assert fresh is not None
        return fresh

    @asynccontextmanager
    async def changing(self, row: Repair) -> AsyncIterator[Held]:
        """Hold the repair for one change (``ChangeInProgress`` if a live change holds it),
        with the row re-read, the lease renewed while the block runs, and the repair let go
        on every way out (its intent kept, for a crash-free failure to settle later)."""
        held = await self._take(row.id)
        async with self._renewing(held):
            try:
                yield held
            finally:
                if not held.done:
                    await self._write(held, {}, release=True, jobs=())

    def adopt(self, row: Repair) -> Held:
        """The hold of a repair this request has just inserted with a lease."""
        assert row.attempt is not None
        return Held(self, row, row.attempt)

    @asynccontextmanager
    async def holding(self, held: Held) -> AsyncIterator[Held]:
        """Keep an adopted repair's lease renewed while the block runs; let go after."""
        async with self._renewing(held):
            try:
                yield held
            finally:
                if not held.done:
                    await self._write(held, {}, release=True, jobs=())

    async def _take(self, repair_id: int) -> Held:
        now = utcnow()
        attempt = Intent.new_attempt()
        async with self._sessions.begin() as session:
            taken = await session.execute(
                update(Repair)
                .where(Repair.id == repair_id)
                .where(Repair.lease_until.is_(None) | (Repair.lease_until < now))
                .values(lease_until=now + self.lease, attempt=attempt)
            )
            fresh = await session.get(Repair, repair_id, populate_existing=True)
        if taken.rowcount != 1 or fresh is None:  # type: ignore[attr-defined]
            if fresh is None:
                raise RepairNotFound("the repair was withdrawn", "reference")
            raise ChangeInProgress(IN_PROGRESS_DETAIL, self.retry_after(fresh))
        return Held(self, fresh, attempt)

    @asynccontextmanager
    async def _renewing(self, held: Held) -> AsyncIterator[None]:
        task = asyncio.create_task(self._renew(held))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _renew(self, held: Held) -> None:
        """Push the lease on while the holder lives; stop once it is lost."""
        period = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(period)
            async with self._sessions.begin() as session:
                result = await session.execute(
                    update(Repair)
                    .where(Repair.id == held.row.id)
                    .where(Repair.attempt == held.attempt)
                    .values(lease_until=utcnow() + self.lease)
                )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return

    async def _write(
        self, held: Held, changes: dict[str, Any], release: bool, jobs: Sequence[NewJob]
    ) -> Repair:
        values = dict(changes)
        if isinstance(values.get("intent"), Intent):
            values["intent"] = values["intent"].to_json()
        if "status" in values:
            new = RepairStatus(values["status"])
            if new.value != held.row.status:
                check_move(held.row.status, new)
            values["status"] = new.value
        now = utcnow()
        values["updated_at"] = now
        if release:
            # A repair let go with its intent still recorded (a failure whose outcome is not
            # known, or an interrupted change) keeps an expired lease, so the worker's sweep
            # finds it through the lease index.
            keeps_intent = values["intent"] is not None if "intent" in values else held.row.intent is not None
            values.update(lease_until=now if keeps_intent else None, attempt=None)
        else:
            values["lease_until"] = now + self.lease
        # The holder knows the row as stored (every write names its attempt), so the next
        # status poll is set in the same UPDATE, and the row comes back by RETURNING rather
        # than being read again.
        before = held.row
        status = str(values.get("status", before.status))
        window = (
            values.get("window_start", before.window_start),
            values.get("window_end", before.window_end),
        )
        label = values.get("window_label", before.window_label)
        if _needs_poll(before, status, window, label):
            values["next_poll_at"] = next_poll_at(now, status, window[0])
        async with self._sessions.begin() as session:
            fresh = (
                await session.scalars(
                    update(Repair)
                    .where(Repair.id == before.id)
                    .where(Repair.attempt == held.attempt)
                    .values(**values)
                    .returning(Repair),
                    execution_options={"synchronize_session": False},
                )
            ).first()
            if fresh is None:
                # Another process took the repair over after this one's lease ran out: it
                # settles what was recorded, and the caller asks again.
                held.done = True
                raise ChangeInProgress("this change was taken over; ask for the repair again", 2)
            if jobs:
                await add_jobs(session, [_for_repair(job, before.id) for job in jobs])
            # The events and their notify jobs commit with the change (the outbox).
            await _record_change(session, before, fresh, poll_set="next_poll_at" in values)
        return fresh


NOTIFY_JOB = "notify"


def _needs_poll(before: Repair, status: str, window: tuple[Any, Any], label: str | None) -> bool:
    """Whether a change to (``status``, ``window``) sets the repair's next status poll: it
    makes an event, or moves the repair's status or window."""
    old_window = (before.window_start, before.window_end)
    return bool(events_for(before.status, status, old_window, window, label)) or (status, window) != (
        before.status,
        old_window,
    )


async def _record_change(session: AsyncSession, before: Repair, fresh: Repair, poll_set: bool) -> None:
    """Record the events a change from ``before`` to ``fresh`` made (each with its notify
    job), and set the next status poll unless the change's own UPDATE set it already."""
    new_window = (fresh.window_start, fresh.window_end)
    events = events_for(
        before.status, fresh.status, (before.window_start, before.window_end), new_window, fresh.window_label
    )
    if events:
        await record_events(session, fresh, events)
    if not poll_set and _needs_poll(before, fresh.status, new_window, fresh.window_label):
        # Only when the row changed by another path than its holder's: a second statement.
        fresh.next_poll_at = next_poll_at(utcnow(), fresh.status, fresh.window_start)
        await session.execute(
            update(Repair)
            .where(Repair.id == fresh.id)
            .values(next_poll_at=fresh.next_poll_at, updated_at=fresh.updated_at)
            .execution_options(synchronize_session=False)
        )


async def _after_change(session: AsyncSession, before: Repair) -> Repair:
    """The repair as now stored, with the events its change made recorded (each with a job
    that sends what the council sends for it) and its next status poll set."""
    fresh = await session.get(Repair, before.id, populate_existing=True)
    assert fresh is not None
    await _record_change(session, before, fresh, poll_set=False)
    return fresh


async def record_events(
    session: AsyncSession, row: Repair, events: Sequence[tuple[EventKind, dict[str, Any]]]
) -> None:
    """Store ``events`` of the repair, each with its ``notify`` job (the outbox)."""
    for kind, detail in events:
        # The event's id names its job, so it comes back from the INSERT (RETURNING).
        event_id = await session.scalar(
            insert(RepairEvent)
            .values(repair_id=row.id, kind=kind.value, detail=detail, at=utcnow())
            .returning(RepairEvent.id)
        )
        await add_jobs(
            session,
            [
                NewJob(
                    NOTIFY_JOB,
                    f"notify:{row.id}:{event_id}",
                    council_id=row.council_id,
                    repair_id=row.id,
                    payload={"event": event_id},
                )
            ],
        )


def _for_repair(job: NewJob, repair_id: int) -> NewJob:
    """``job`` bound to the repair (its key may name ``{repair}``)."""
    return replace(job, repair_id=repair_id, key=job.key.format(repair=repair_id))
