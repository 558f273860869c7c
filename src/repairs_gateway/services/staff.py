"""What a council's staff see and do: its repairs by status and age, each with the last
backend error and the state of its newest job; retrying the work that failed for a repair;
and the backlog figures the metrics publish. The API (``listRepairs``, ``retryRepair``,
``/metrics``) and the command line (``repairs list``, ``repairs retry``, ``jobs list``) both
come here, so they show the same things.

The rules this module keeps:
* Listing is oldest first, by the repair's id, a page at a time (``contact_failed`` keeps
  the repairs whose resident a message could not reach: staff contact them another way);
  the cursor is signed and bound to the listing's council and filters, and it freezes the
  ``olderThanMinutes`` cut-off, so later pages neither repeat nor skip a repair however long
  the reader takes.
* Retrying queues a repair's dead jobs again and makes its jobs that wait for a later try
  due now; a repair still waiting for the window its resident asked for (``received``, or
  ``needs_attention``) that no job is booking gets a booking job: into that window only; the
  gateway never picks another time for a resident. A window that has passed cannot be
  retried: a person books another (``rescheduleRepair``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.domain.errors import InvalidInput, RepairStateConflict
from repairs_gateway.domain.repair import Intent, RepairStatus
from repairs_gateway.domain.tokens import InvalidToken, TokenSigner
from repairs_gateway.persistence.models import Job, Repair, utcnow
from repairs_gateway.persistence.queue import DEAD, QUEUED, RUNNING, JobQueue
from repairs_gateway.persistence.repair_store import RepairStore
from repairs_gateway.services.changes import BOOK_JOB, SETTLE_JOB, book_later

S = RepairStatus
DEFAULT_LIMIT = 50
MAX_LIMIT = 200
STATUS_NAMES = ", ".join(s.value for s in RepairStatus)
# Repairs that may wait for a booking into the window their resident asked for.
AWAITING_BOOKING = frozenset({S.RECEIVED, S.NEEDS_ATTENTION})
# Jobs that book a repair, or finish a change to it ("settle", the worker's kind).
BOOKING_KINDS = frozenset({BOOK_JOB, SETTLE_JOB})


@dataclass(frozen=True, slots=True)
class StaffRepair:
    """A repair as staff see it: the stored row, the job of it that most needs looking at
    (``pressing``; None when it never had one) and its age."""

    row: Repair
    job: Job | None
    age_seconds: float

    @property
    def age_minutes(self) -> int:
        """Whole minutes since the repair was recorded."""
        return int(self.age_seconds // 60)


@dataclass(frozen=True, slots=True)
class RepairPage:
    """A page of a listing, and the cursor of the next (None on the last page)."""

    repairs: list[StaffRepair]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Retried:
    """A retry: the repair as it stands now, and what was done, in words."""

    repair: StaffRepair
    action: str


@dataclass(frozen=True, slots=True)
class Backlog:
    """What needs the worker or a person, read from the database for the metrics.

    ``repairs``: by (council, status); ``jobs``: jobs not done, by (kind, state);
    ``oldest_due_seconds``: how long the queued job that has been due longest has waited
    for a worker (0 when none is due); ``dead``: jobs that gave up, by kind.
    """

    repairs: dict[tuple[str, str], int] = field(default_factory=dict)
    jobs: dict[tuple[str, str], int] = field(default_factory=dict)
    oldest_due_seconds: float = 0.0
    dead: dict[str, int] = field(default_factory=dict)


def parse_statuses(values: Sequence[str]) -> list[RepairStatus]:
    """The statuses asked for, each value a status or several joined by commas;
    ``InvalidInput`` naming ``status`` for anything else. Empty: every status."""
    found: list[RepairStatus] = []
    for value in values:
        for part in value.split(","):
            name = part.strip().lower()
            try:
                status = RepairStatus(name)
            except ValueError:
                raise InvalidInput(
                    f"{part.strip()!r} is not a repair status; use {STATUS_NAMES}", "status"
                ) from None
            if status not in found:
                found.append(status)
    return found


_RANKS = {DEAD: 0, RUNNING: 2, QUEUED: 3}


def pressing(job: Job) -> tuple[int, int]:
    """How much a job needs looking at, most first: one that gave up (``dead``), one that
    failed and will be tried again, one running, one waiting; then the rest (done). The
    newest first among equals. A repair has several jobs (a booking, a settle, messages);
    staff see the one that matters."""
    rank = _RANKS.get(job.state, 4)
    if rank in (2, 3) and job.last_error:
        rank = 1
    return rank, -job.id


def _digest(
    council_id: str,
    statuses: Sequence[RepairStatus],
    older_than_minutes: int | None,
    contact_failed: bool | None = None,
) -> str:
    """What a cursor is bound to: the next page of the same listing, nothing else."""
    raw = f"{council_id}|{','.join(sorted(s.value for s in statuses))}|{older_than_minutes}"
    if contact_failed is not None:
        raw += f"|contact_failed={contact_failed}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def _aware(value: datetime | str) -> datetime:
    # Aggregates bypass the column type on SQLite, which hands back naive UTC (or text).
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class StaffService:
    """The staff use cases for every council."""

    def __init__(
        self,
        store: RepairStore,
        queue: JobQueue,
        sessions: async_sessionmaker[AsyncSession],
        signer: TokenSigner,
    ) -> None:
        self._store = store
        self._queue = queue
        self._sessions = sessions
        self._signer = signer

    # ------------------------------------------------------------------ list

    async def list_repairs(
        self,
        council_id: str,
        statuses: Sequence[str] = (),
        older_than_minutes: int | None = None,
        cursor: str | None = None,
        limit: int = DEFAULT_LIMIT,
        contact_failed: bool | None = None,
    ) -> RepairPage:
        """A page of the council's repairs in ``statuses`` (every status when none), recorded
        more than ``older_than_minutes`` ago, oldest first; with ``contact_failed``, only
        those whose resident a message failed to reach (True) or the others (False)."""
        if not 1 <= limit <= MAX_LIMIT:
            raise InvalidInput(f"must be from 1 to {MAX_LIMIT}", "limit")
        if older_than_minutes is not None and older_than_minutes < 0:
            raise InvalidInput("must be 0 or more", "olderThanMinutes")
        wanted = parse_statuses(statuses)
        digest = _digest(council_id, wanted, older_than_minutes, contact_failed)
        after_id: int | None = None
        before: int | None = None
        if cursor is not None:
            after_id, before = self._open(cursor, digest)
        elif older_than_minutes is not None:
            before = int((utcnow() - timedelta(minutes=older_than_minutes)).timestamp())
        cut_off = datetime.fromtimestamp(before, UTC) if before is not None else None
        if contact_failed is None:
            rows = await self._store.listing(
                council_id, [s.value for s in wanted], cut_off, after_id, limit + 1
            )
        else:
            rows = await self._listing_by_contact(
                council_id, wanted, cut_off, after_id, limit + 1, contact_failed
            )
        more, rows = len(rows) > limit, rows[:limit]
        repairs = await self._with_jobs(rows)
        next_cursor = None
        if more:
            next_cursor = self._signer.sign({"r": {"a": rows[-1].id, "b": before, "q": digest}})
        return RepairPage(repairs, next_cursor)

    async def _listing_by_contact(
        self,
        council_id: str,
        statuses: Sequence[RepairStatus],
        older_than: datetime | None,
        after_id: int | None,
        limit: int,
        contact_failed: bool,
    ) -> list[Repair]:
        """As ``RepairStore.listing``, only the repairs whose ``contact_failed`` is as asked
        (a message to the resident was refused, or reported undeliverable)."""
        query = (
            select(Repair)
            .where(Repair.council_id == council_id)
            .where(Repair.contact_failed.is_(contact_failed))
        )
        if statuses:
            query = query.where(Repair.status.in_([s.value for s in statuses]))
        if older_than is not None:
            query = query.where(Repair.created_at < older_than)
        if after_id is not None:
            query = query.where(Repair.id > after_id)
        async with self._sessions() as session:
            return list(await session.scalars(query.order_by(Repair.id).limit(limit)))

    def _open(self, cursor: str, digest: str) -> tuple[int, int | None]:
        try:
            claims = self._signer.open(cursor)["r"]
            after, before, bound = claims["a"], claims["b"], claims["q"]
            # Exactly what this gateway signs: a row id, and a cut-off as seconds or null.
            # Anything else (text, a fraction, true, a number past the database's integers)
            # would reach the query and fail there.
            if not _row_number(after) or not (
                before is None or (_row_number(before) and before < _YEAR_10000)
            ):
                raise ValueError("not a cursor")
        except (InvalidToken, KeyError, TypeError, ValueError):
            raise InvalidInput("is not a cursor this gateway issued", "cursor") from None
        if bound != digest:
            raise InvalidInput(
                "was issued for another listing: pass the same status and olderThanMinutes", "cursor"
            )
        return after, before

    async def _with_jobs(self, rows: Sequence[Repair]) -> list[StaffRepair]:
        jobs = await self._pressing([row.id for row in rows])
        now = utcnow()
        return [
            StaffRepair(row, jobs.get(row.id), max(0.0, (now - row.created_at).total_seconds()))
            for row in rows
        ]

    async def _pressing(self, repair_ids: Sequence[int]) -> dict[int, Job]:
        """For each repair, the job that most needs looking at (see ``pressing``)."""
        if not repair_ids:
            return {}
        found: dict[int, Job] = {}
        async with self._sessions() as session:
            for job in await session.scalars(select(Job).where(Job.repair_id.in_(repair_ids))):
                assert job.repair_id is not None
                held = found.get(job.repair_id)
                if held is None or pressing(job) < pressing(held):
                    found[job.repair_id] = job
        return found

    async def repair(self, council_id: str, reference: str) -> StaffRepair:
        """One repair as the listing shows it; ``RepairNotFound`` when the council has none
        with this reference."""
        row = await self._store.load(council_id, reference)
        return (await self._with_jobs([row]))[0]

    # ------------------------------------------------------------------ retry

    async def retry(self, council_id: str, reference: str) -> Retried:
        """Queue the repair's dead jobs again, make its jobs waiting for a later try due now,
        and book a repair still waiting for the window its resident asked for when no job is
        booking it. ``RepairStateConflict`` when there is nothing to retry,
        ``ChangeInProgress`` while another change holds the repair."""
        row = await self._store.load(council_id, reference)
        done: list[str] = []
        requeued = await self._queue.requeue_dead(repair_ids=[row.id])
        if requeued:
            done.append(f"queued {requeued} failed job(s) again")
        forward = await self._bring_forward(row.id)
        if forward:
            done.append(f"made {forward} waiting job(s) due now")
        status = S(row.status)
        awaiting = status in AWAITING_BOOKING and row.window_start is not None
        if awaiting and not await self._pending(row.id, BOOKING_KINDS):
            assert row.window_start is not None
            if row.window_start > utcnow():
                done.append(await self._book_again(council_id, row))
            elif not done:
                raise RepairStateConflict(
                    f"the window repair {row.reference} asked for has passed: "
                    "book another with rescheduleRepair"
                )
        if not done:
            if await self._pending(row.id, kinds=None, states=(RUNNING,)):
                done.append("a job is running for it now")
            else:
                said = status.value.replace("_", " ")
                reason = "no window was asked for" if status in AWAITING_BOOKING else f"it is {said}"
                raise RepairStateConflict(f"repair {row.reference} has no failed work to retry: {reason}")
        return Retried(await self.repair(council_id, reference), "; ".join(done))

    async def _book_again(self, council_id: str, row: Repair) -> str:
        if row.status == S.RECEIVED:
            # The worker books a received repair into the window it asked for.
            await self._queue.enqueue(book_later(row, council_id, 0))
            return "queued a booking into the window asked for"
        # A repair left for a person is booked by recording the intent to book its window;
        # the job carries it out, asking the scheduler first what it holds.
        async with self._store.changing(row) as held:
            fresh = held.row
            if fresh.status != S.NEEDS_ATTENTION or fresh.window_start is None:
                raise RepairStateConflict(f"repair {row.reference} changed meanwhile: list it again")
            intent = Intent(
                "book",
                held.attempt,
                fresh.scheduler,
                fresh.window_start,
                fresh.window_end,
                fresh.window_label,
                fresh.window_ref or "",
            )
            await held.save(jobs=[book_later(fresh, council_id, 0)], status=S.BOOKING, intent=intent)
        return "queued a booking into the window asked for"

    async def _bring_forward(self, repair_id: int) -> int:
        """Make the repair's jobs that wait for a later try due now; how many."""
        now = utcnow()
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Job)
                .where(Job.repair_id == repair_id)
                .where(Job.state == QUEUED)
                .where(Job.run_after > now)
                .values(run_after=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def _pending(
        self, repair_id: int, kinds: frozenset[str] | None, states: Sequence[str] = (QUEUED, RUNNING)
    ) -> bool:
        """Whether the repair has a job of ``kinds`` (any, when None) in ``states``."""
        query = select(func.count()).where(Job.repair_id == repair_id).where(Job.state.in_(states))
        if kinds is not None:
            query = query.where(Job.kind.in_(kinds))
        async with self._sessions() as session:
            return bool(await session.scalar(query))

    # ------------------------------------------------------------------ jobs and metrics

    async def jobs(self, state: str | None = None, limit: int = 100) -> list[Job]:
        """Jobs, newest first, optionally in one state."""
        return await self._queue.list(state, limit)

    async def backlog(self) -> Backlog:
        """The figures the metrics publish: a few GROUP BY queries, cheap enough per scrape."""
        repairs = await self._store.counts()
        depth = await self._queue.depth()
        now = utcnow()
        async with self._sessions() as session:
            oldest = await session.scalar(
                select(func.min(Job.run_after)).where(Job.state == QUEUED).where(Job.run_after <= now)
            )
        waited = max(0.0, (now - _aware(oldest)).total_seconds()) if oldest is not None else 0.0
        return Backlog(
            repairs=repairs,
            jobs={key: count for key, (count, _age) in depth.items()},
            oldest_due_seconds=waited,
            dead={kind: count for (kind, state), (count, _age) in depth.items() if state == DEAD},
        )


_YEAR_10000 = 253_402_300_800
"""Seconds since 1970 where Python's datetimes end: a cut-off must be before it."""


def _row_number(value: object) -> bool:
    """Whether ``value`` is a whole number a database integer column holds."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**63
