"""The durable job queue: claimed once, retried with backoff, dead after its attempts, and
queued again by a person; two workers on one PostgreSQL never run a job twice."""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import select

from repairs_gateway.persistence.db import make_engine, make_sessionmaker
from repairs_gateway.persistence.models import Job
from repairs_gateway.persistence.queue import DEAD, DONE, QUEUED, Backoff, JobQueue, NewJob

from gateway_support import empty_tables, on_both_databases

LEASE = timedelta(seconds=60)


@pytest.fixture
async def queue(database_url: str) -> JobQueue:
    await empty_tables(database_url)
    engine = make_engine(database_url)
    yield JobQueue(make_sessionmaker(engine), Backoff(base=0.01, cap=0.02))  # type: ignore[misc]
    await engine.dispose()


async def _states(queue: JobQueue) -> Counter[str]:
    return Counter(job.state for job in await queue.list(limit=1000))


@on_both_databases
async def test_the_same_key_queued_twice_makes_one_job(queue: JobQueue) -> None:
    await queue.enqueue(NewJob("book", "book:1:a"), NewJob("book", "book:1:a"))
    await queue.enqueue(NewJob("book", "book:1:a"))
    assert len(await queue.list()) == 1


@on_both_databases
async def test_a_claimed_job_is_not_claimed_again_until_its_lease_runs_out(queue: JobQueue) -> None:
    await queue.enqueue(NewJob("settle", "settle:1:a"))
    [job] = await queue.claim(10, timedelta(seconds=0.2))
    assert job.attempts == 1
    assert await queue.claim(10, LEASE) == []
    await asyncio.sleep(0.3)  # the worker died: its lease runs out
    [again] = await queue.claim(10, LEASE)
    assert (again.id, again.attempts) == (job.id, 2)
    assert not await queue.done(job), "a worker that lost its lease cannot finish the job"
    assert await queue.done(again)
    assert (await _states(queue))[DONE] == 1


@on_both_databases
async def test_a_failing_job_backs_off_then_is_dead_and_a_person_can_queue_it_again(queue: JobQueue) -> None:
    await queue.enqueue(NewJob("book", "book:7:a", repair_id=7, max_attempts=3))
    for attempt in range(1, 4):
        for _ in range(50):
            claimed = await queue.claim(1, LEASE)
            if claimed:
                break
            await asyncio.sleep(0.01)
        [job] = claimed
        assert job.attempts == attempt
        state = await queue.retry(job, f"backend down ({attempt})")
    assert state == DEAD
    [dead] = await queue.list(state=DEAD)
    assert dead.last_error == "backend down (3)"
    assert await queue.claim(1, LEASE) == []
    assert await queue.requeue_dead(repair_ids=[7]) == 1
    [job] = await queue.claim(1, LEASE)
    assert job.attempts == 1


def test_backoff_doubles_up_to_its_cap_with_jitter() -> None:
    backoff = Backoff(base=2, cap=30)
    rng = random.Random(1)
    for attempts, ceiling in [(1, 2), (2, 4), (3, 8), (4, 16), (5, 30), (9, 30)]:
        delays = [backoff.delay(attempts, rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4, "retries of many jobs must spread out"


@on_both_databases
async def test_a_claim_takes_no_more_jobs_than_asked(queue: JobQueue) -> None:
    await queue.enqueue(*(NewJob("settle", f"settle:{n}:x") for n in range(5)))
    assert len(await queue.claim(1, LEASE)) == 1
    assert len(await queue.claim(3, LEASE)) == 3
    assert len(await queue.claim(3, LEASE)) == 1
    assert await queue.claim(3, LEASE) == []


@on_both_databases
async def test_a_backend_that_answers_again_brings_its_waiting_jobs_forward(queue: JobQueue) -> None:
    await queue.enqueue(
        NewJob("book", "book:1", backend="northfield/calendar", delay_seconds=3600),
        NewJob("book", "book:2", backend="northfield/calendar", delay_seconds=3600),
        NewJob("book", "book:3", backend="southmoor/calendar", delay_seconds=3600),
    )
    assert await queue.claim(10, LEASE) == []
    assert await queue.bring_forward("northfield/calendar") == 2
    assert sorted(job.key for job in await queue.claim(10, LEASE)) == ["book:1", "book:2"]


@pytest.mark.postgres
async def test_two_workers_on_one_postgresql_run_each_of_200_jobs_exactly_once(postgres_url: str) -> None:
    await empty_tables(postgres_url)
    engines = [make_engine(postgres_url), make_engine(postgres_url)]
    queues = [JobQueue(make_sessionmaker(engine)) for engine in engines]
    await queues[0].enqueue(*(NewJob("settle", f"settle:{n}:x", repair_id=n) for n in range(200)))
    runs: Counter[int] = Counter()

    async def worker(queue: JobQueue) -> None:
        idle = 0
        while idle < 3:
            jobs = await queue.claim(7, LEASE)
            if not jobs:
                idle += 1
                await asyncio.sleep(0.02)
                continue
            idle = 0
            for job in jobs:
                runs[job.repair_id or 0] += 1
                await asyncio.sleep(0)  # let the other worker claim meanwhile
                assert await queue.done(job)

    # Two connections pools, as two processes would have; each worker also runs concurrently
    # with itself twice, so claims race inside and across them.
    await asyncio.gather(worker(queues[0]), worker(queues[1]), worker(queues[0]), worker(queues[1]))
    assert len(runs) == 200
    assert set(runs.values()) == {1}
    async with make_sessionmaker(engines[0])() as session:
        states = Counter((await session.scalars(select(Job.state))).all())
    assert states == Counter({DONE: 200})
    assert QUEUED not in states
    for engine in engines:
        await engine.dispose()
