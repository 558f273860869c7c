"""The durable work queue, a table in the gateway's own database (no new server).

A job is claimed by a conditional ``UPDATE ... RETURNING``: on PostgreSQL its candidates are
first locked with ``SELECT ... FOR UPDATE SKIP LOCKED``, so workers sharing a database never
claim the same job; on SQLite one statement takes the write lock, which serialises workers.
A claimed job holds a lease: a worker that dies leaves it to be claimed again once the lease
has expired. Failures are retried with exponential backoff and jitter; a job that runs out
of attempts is ``dead``, shown to staff, and can be queued again by a person.
"""

from __future__ import annotations

import random
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.persistence.models import Job, utcnow
from repairs_gateway.persistence.upsert import insert_ignore_on

QUEUED, RUNNING, DONE, DEAD = "queued", "running", "done", "dead"


@dataclass(frozen=True, slots=True)
class NewJob:
    """Work to queue. ``key`` makes it unique: queuing the same key twice makes one job."""

    kind: str
    key: str
    council_id: str | None = None
    repair_id: int | None = None
    backend: str | None = None
    payload: Mapping[str, Any] = field(default_factory=dict)
    delay_seconds: float = 0.0
    max_attempts: int = 100


@dataclass(frozen=True, slots=True)
class ClaimedJob:
    """A job a worker holds until ``done``, ``retry`` or its lease runs out."""

    id: int
    kind: str
    key: str
    council_id: str | None
    repair_id: int | None
    backend: str | None
    payload: dict[str, Any]
    attempts: int
    max_attempts: int
    claim: str


@dataclass(frozen=True, slots=True)
class Backoff:
    """Exponential backoff with jitter: ``base`` doubled per attempt, at most ``cap``, and
    then a random share between half and all of it, so retries of many jobs spread out."""

    base: float = 2.0
    cap: float = 30.0

    def delay(self, attempts: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after the ``attempts``-th failure."""
        ceiling = min(self.cap, self.base * float(2 ** max(0, attempts - 1)))
        share: float = (rng or random).random()
        return ceiling * (0.5 + 0.5 * share)


async def add_jobs(session: AsyncSession, jobs: Iterable[NewJob]) -> None:
    """Queue ``jobs`` in the caller's transaction (the outbox: they commit with the change
    that calls for them, or not at all)."""
    now = utcnow()
    for job in jobs:
        await insert_ignore_on(
            session,
            Job,
            {
                "kind": job.kind,
                "key": job.key,
                "council_id": job.council_id,
                "repair_id": job.repair_id,
                "backend": job.backend,
                "payload": dict(job.payload),
                "state": QUEUED,
                "attempts": 0,
                "max_attempts": job.max_attempts,
                "run_after": now + timedelta(seconds=job.delay_seconds),
                "created_at": now,
                "updated_at": now,
            },
            ["key"],
        )


def _claimable(now: datetime) -> Any:
    return or_(
        and_(Job.state == QUEUED, Job.run_after <= now),
        and_(Job.state == RUNNING, Job.lease_until < now),
    )


class JobQueue:
    """Queue, claim, finish and retry jobs."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], backoff: Backoff | None = None) -> None:
        self._sessions = sessions
        self.backoff = backoff or Backoff()

    async def enqueue(self, *jobs: NewJob) -> None:
        """Queue ``jobs`` in a transaction of their own."""
        async with self._sessions.begin() as session:
            await add_jobs(session, jobs)

    async def claim(self, limit: int, lease: timedelta) -> list[ClaimedJob]:
        """Up to ``limit`` due jobs, oldest due first, now held by this caller for ``lease``."""
        if limit <= 0:
            return []
        now = utcnow()
        token = secrets.token_hex(8)
        async with self._sessions.begin() as session:
            candidates = select(Job.id).where(_claimable(now)).order_by(Job.run_after, Job.id).limit(limit)
            if session.get_bind().dialect.name == "postgresql":
                # Lock the chosen rows first: as a subquery of the UPDATE, PostgreSQL may run
                # the LIMIT more than once and claim more than ``limit`` jobs.
                ids = list(await session.scalars(candidates.with_for_update(skip_locked=True)))
                if not ids:
                    return []
                chosen: Any = Job.id.in_(ids)
            else:
                chosen = Job.id.in_(candidates.scalar_subquery())
            rows = await session.execute(
                update(Job)
                .where(chosen)
                .where(_claimable(now))
                .values(
                    state=RUNNING,
                    claim=token,
                    lease_until=now + lease,
                    attempts=Job.attempts + 1,
                    updated_at=now,
                )
                .returning(
                    Job.id,
                    Job.kind,
                    Job.key,
                    Job.council_id,
                    Job.repair_id,
                    Job.backend,
                    Job.payload,
                    Job.attempts,
                    Job.max_attempts,
                )
                .execution_options(synchronize_session=False)
            )
            claimed = [
                ClaimedJob(
                    id=row.id,
                    kind=row.kind,
                    key=row.key,
                    council_id=row.council_id,
                    repair_id=row.repair_id,
                    backend=row.backend,
                    payload=dict(row.payload or {}),
                    attempts=row.attempts,
                    max_attempts=row.max_attempts,
                    claim=token,
                )
                for row in rows.all()
            ]
        return sorted(claimed, key=lambda job: job.id)

    async def done(self, job: ClaimedJob) -> bool:
        """Mark the job done; False when its lease was lost to another worker meanwhile."""
        return await self._finish(job, state=DONE, last_error=None)

    async def retry(self, job: ClaimedJob, error: str, delay: float | None = None) -> str:
        """Queue the job again after a backoff (or ``delay`` seconds), or make it ``dead``
        when it has used its attempts; answers the state it is left in."""
        if job.attempts >= job.max_attempts:
            await self._finish(job, state=DEAD, last_error=error)
            return DEAD
        wait = self.backoff.delay(job.attempts) if delay is None else delay
        await self._finish(job, state=QUEUED, last_error=error, run_after=utcnow() + timedelta(seconds=wait))
        return QUEUED

    async def dead(self, job: ClaimedJob, error: str) -> None:
        """Give up on the job: a person must look (retrying will not help)."""
        await self._finish(job, state=DEAD, last_error=error)

    async def _finish(self, job: ClaimedJob, **values: Any) -> bool:
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Job)
                .where(Job.id == job.id)
                .where(Job.claim == job.claim)
                .where(Job.state == RUNNING)
                .values(lease_until=None, claim=None, updated_at=utcnow(), **values)
                .execution_options(synchronize_session=False)
            )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def bring_forward(self, backend: str) -> int:
        """Make every job waiting on ``backend`` due now (it has just answered); how many."""
        now = utcnow()
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Job)
                .where(Job.backend == backend)
                .where(Job.state == QUEUED)
                .where(Job.run_after > now)
                .values(run_after=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def next_due(self) -> datetime | None:
        """When the earliest queued job is due, if any is queued."""
        async with self._sessions() as session:
            due = await session.scalar(select(func.min(Job.run_after)).where(Job.state == QUEUED))
        return _aware(due) if due is not None else None

    async def prune(self, older_than: timedelta) -> int:
        """Delete done jobs finished more than ``older_than`` ago (a booking's status polls
        alone make hundreds); dead and waiting jobs are kept. How many went."""
        async with self._sessions.begin() as session:
            result = await session.execute(
                delete(Job)
                .where(Job.state == DONE)
                .where(Job.updated_at < utcnow() - older_than)
                .execution_options(synchronize_session=False)
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def requeue_dead(self, *, repair_ids: Sequence[int] = (), job_ids: Sequence[int] = ()) -> int:
        """Queue dead jobs again with fresh attempts (a person asked); how many."""
        if not repair_ids and not job_ids:
            return 0
        now = utcnow()
        async with self._sessions.begin() as session:
            result = await session.execute(
                update(Job)
                .where(Job.state == DEAD)
                .where(or_(Job.repair_id.in_(repair_ids), Job.id.in_(job_ids)))
                .values(state=QUEUED, attempts=0, run_after=now, updated_at=now)
                .execution_options(synchronize_session=False)
            )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def latest_for(self, repair_ids: Sequence[int]) -> dict[int, Job]:
        """The newest job of each repair, for staff."""
        if not repair_ids:
            return {}
        async with self._sessions() as session:
            rows = await session.scalars(select(Job).where(Job.repair_id.in_(repair_ids)).order_by(Job.id))
            return {job.repair_id: job for job in rows if job.repair_id is not None}

    async def list(self, state: str | None = None, limit: int = 100) -> list[Job]:
        """Jobs, newest first, optionally in one state."""
        query = select(Job).order_by(Job.id.desc()).limit(limit)
        if state is not None:
            query = query.where(Job.state == state)
        async with self._sessions() as session:
            return list(await session.scalars(query))

    async def depth(self) -> dict[tuple[str, str], tuple[int, float]]:
        """For metrics: by (kind, state), how many jobs and the age in seconds of the oldest
        (done jobs are left out)."""
        now = utcnow()
        async with self._sessions() as session:
            rows = await session.execute(
                select(Job.kind, Job.state, func.count(), func.min(Job.created_at))
                .where(Job.state != DONE)
                .group_by(Job.kind, Job.state)
            )
            result: dict[tuple[str, str], tuple[int, float]] = {}
            for kind, state, count, oldest in rows.all():
                age = (now - _aware(oldest)).total_seconds() if oldest is not None else 0.0
                result[(kind, state)] = (int(count), max(0.0, age))
            return result


def _aware(value: datetime) -> datetime:
    # Aggregates bypass the column type on SQLite, which hands back naive UTC (or text).
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=utcnow().tzinfo)
