"""The worker loop: find changes whose process died, claim due jobs, run them.

Each pass it (1) queues a ``settle`` job for every repair whose lease ran out with an intent
recorded, and a ``poll`` job for every booked or in-progress repair whose next status poll
is due (a batch at a time), (2) claims as many due jobs as it has room for
(``concurrency``: the bound on calls it makes to backends at once) and runs them. A job
that succeeds against a backend brings forward the other jobs waiting on that backend, so
a recovered backend is caught up at once rather than at each job's next backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from repairs_gateway import logs
from repairs_gateway.assembly import Parts
from repairs_gateway.persistence.models import utcnow
from repairs_gateway.persistence.queue import DEAD, ClaimedJob
from repairs_gateway.persistence.repair_store import NOTIFY_JOB
from repairs_gateway.runtime import CouncilRuntime
from repairs_gateway.services.changes import BOOK_JOB, SETTLE_JOB, WITHDRAW_JOB, settle_job, withdraw_order
from repairs_gateway.services.messages import REMIND_JOB, SendLater
from repairs_gateway.services.status import POLL_JOB, StatusService, poll_job

log = logging.getLogger("repairs_gateway.worker")
KEEP_DONE_JOBS = timedelta(days=7)
PRUNE_EVERY_SECONDS = 300.0
POLL_BATCH = 200
"""Status polls queued at most per pass; the rest are found at the next pass."""


class Retry(Exception):
    """The job could not be done now (a backend down, the repair held): try again later,
    after ``delay`` seconds when given, else after the queue's backoff."""

    def __init__(self, reason: str, delay: float | None = None) -> None:
        super().__init__(reason)
        self.delay = delay


class GiveUp(Exception):
    """The job cannot be done: a person must look."""


Handler = Callable[[ClaimedJob], Awaitable[None]]


class Worker:
    """Runs jobs from the queue with bounded concurrency until stopped."""

    def __init__(self, parts: Parts, *, name: str = "worker") -> None:
        self._parts = parts
        self._name = name
        settings = parts.settings
        self._concurrency = settings.worker_concurrency
        self._poll = settings.worker_poll_seconds
        # Long enough for a job's slowest path (a look, an undo, a booking); a dead worker's
        # repair is settled through the repair's own, shorter lease meanwhile.
        self._job_lease = timedelta(seconds=max(120.0, 4 * settings.booking_timeout_seconds))
        self._handlers: dict[str, Handler] = {
            SETTLE_JOB: self._settle,
            BOOK_JOB: self._settle,
            WITHDRAW_JOB: self._withdraw,
            NOTIFY_JOB: self._notify,
            REMIND_JOB: self._remind,
            POLL_JOB: self._poll_status,
        }
        self._status = StatusService(parts.store)
        self._running: set[asyncio.Task[None]] = set()
        self._next_prune = 0.0
        self.ran = 0

    # ------------------------------------------------------------------ loop

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; then finish the jobs in hand."""
        log.info("%s started (concurrency %d)", self._name, self._concurrency)
        next_sweep = 0.0
        try:
            while not stop.is_set():
                if time.monotonic() >= next_sweep:
                    await self._guarded(self.sweep())
                    next_sweep = time.monotonic() + self._poll
                claimed = await self._guarded(self._claim()) or 0
                if claimed == 0 or len(self._running) >= self._concurrency:
                    await self._wait(stop)
        finally:
            if self._running:
                await asyncio.gather(*self._running, return_exceptions=True)
            log.info("%s stopped after %d job(s)", self._name, self.ran)

    async def run_until_idle(self, limit_seconds: float = 60.0) -> int:
        """Sweep and run jobs until none is due (for tests and one-shot runs); how many ran."""
        deadline = time.monotonic() + limit_seconds
        before = self.ran
        while time.monotonic() < deadline:
            await self.sweep()
            if await self._claim() == 0 and not self._running:
                # Nothing due: wait for a job due before the deadline (a retry backing off),
                # else stop.
                due = await self._parts.queue.next_due()
                wait = (due - utcnow()).total_seconds() if due is not None else None
                if wait is None or time.monotonic() + wait >= deadline:
                    break
                await asyncio.sleep(max(0.01, min(wait, self._poll)))
                continue
            if self._running:
                await asyncio.wait(self._running, return_when=asyncio.FIRST_COMPLETED)
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        return self.ran - before

    async def _wait(self, stop: asyncio.Event) -> None:
        """Until a job finishes, ``stop`` is set, or a poll interval has passed."""
        stopping = asyncio.ensure_future(stop.wait())
        waiters: set[asyncio.Future[Any]] = {stopping, *self._running}
        try:
            await asyncio.wait(waiters, timeout=self._poll, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await stopping

    @staticmethod
    async def _guarded(step: Awaitable[int | None]) -> int | None:
        # A database blip must not stop the worker: log it and carry on at the next pass.
        try:
            return await step
        except Exception:
            log.exception("worker pass failed; carrying on")
            return None

    async def sweep(self) -> int:
        """Queue a settle job for each repair whose change died, and a poll job for each
        repair whose status poll is due; how many were found. Now and then, finished jobs
        older than a week are deleted."""
        if time.monotonic() >= self._next_prune:
            self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
            await self._parts.queue.prune(KEEP_DONE_JOBS)
        abandoned = await self._parts.store.abandoned()
        if abandoned:
            await self._parts.queue.enqueue(
                *(settle_job(council, rid, attempt) for rid, council, attempt in abandoned)
            )
        due = await self._parts.store.due_polls(utcnow(), POLL_BATCH)
        if due:
            # One job per repair and due time: a poll queued at an earlier pass is not
            # queued again, and the poll sets the next due time once it has run.
            await self._parts.queue.enqueue(*(poll_job(council, rid, at) for rid, council, at in due))
        return len(abandoned) + len(due)

    async def _claim(self) -> int:
        room = self._concurrency - len(self._running)
        jobs = await self._parts.queue.claim(room, self._job_lease)
        for job in jobs:
            task = asyncio.create_task(self._run(job))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return len(jobs)

    async def _run(self, job: ClaimedJob) -> None:
        # Each job runs in a task of its own, so what is bound here is this job's alone.
        with logs.bound(job=job.id, job_kind=job.kind, council=job.council_id, repair_id=job.repair_id):
            await self._run_bound(job)

    async def _run_bound(self, job: ClaimedJob) -> None:
        queue = self._parts.queue
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise GiveUp(f"no handler for jobs of kind {job.kind!r}")
            await handler(job)
        except Retry as exc:
            state = await queue.retry(job, str(exc), exc.delay)
            if state == DEAD:
                log.error("job %s (%s) is dead after %d attempts: %s", job.id, job.key, job.attempts, exc)
        except GiveUp as exc:
            await queue.dead(job, str(exc))
            log.error("job %s (%s) needs a person: %s", job.id, job.key, exc)
        except Exception as exc:  # a bug: keep the job, with the error, for a later try
            log.exception("job %s (%s) failed", job.id, job.key)
            await queue.retry(job, f"{type(exc).__name__}: {exc}")
        else:
            await queue.done(job)
            if job.backend:
                await queue.bring_forward(job.backend)
        finally:
            self.ran += 1

    # ------------------------------------------------------------------ handlers

    def _council(self, job: ClaimedJob) -> CouncilRuntime:
        council = self._parts.councils.get(job.council_id or "")
        if council is None:
            raise GiveUp(f"council {job.council_id!r} is no longer configured")
        return council

    async def _settle(self, job: ClaimedJob) -> None:
        council = self._council(job)
        if job.repair_id is None:
            raise GiveUp("a settle job names no repair")
        retry = await self._parts.repairs.settle(council, job.repair_id)
        if retry is not None:
            raise Retry(retry)

    async def _notify(self, job: ClaimedJob) -> None:
        try:
            await self._parts.messages.on_event(self._council(job), int(job.payload["event"]))
        except SendLater as exc:
            raise Retry(str(exc), exc.seconds) from exc

    async def _remind(self, job: ClaimedJob) -> None:
        if job.repair_id is None:
            raise GiveUp("a reminder names no repair")
        try:
            await self._parts.messages.remind(self._council(job), job.repair_id, str(job.payload["start"]))
        except SendLater as exc:
            raise Retry(str(exc), exc.seconds) from exc

    async def _poll_status(self, job: ClaimedJob) -> None:
        # A scheduler that is down is asked again at the next poll time (never in a loop),
        # so the job itself is done either way.
        if job.repair_id is None:
            raise GiveUp("a poll names no repair")
        due = datetime.fromisoformat(str(job.payload["due"]))
        await self._status.poll(self._council(job), job.repair_id, due)

    async def _withdraw(self, job: ClaimedJob) -> None:
        council = self._council(job)
        outcome = await withdraw_order(council, str(job.payload.get("works_order_ref", "")))
        if outcome == "failed":
            raise Retry("the works order could not be withdrawn yet")
        if outcome == "cannot":
            raise GiveUp("the housing system will not cancel the works order: withdraw it by hand")


async def run_worker(parts: Parts, stop: asyncio.Event, name: str = "worker") -> None:
    """Run one worker on ``parts`` until ``stop`` is set."""
    await Worker(parts, name=name).run(stop)
