"""The worker finishes what a request could not: a backend down then up books every
received repair whose window is still free, with no request; the others wait for a person."""

from __future__ import annotations

import asyncio
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from repairs_gateway.persistence.models import Job, Repair, utcnow
from repairs_gateway.persistence.queue import DONE, NewJob
from repairs_gateway.worker.runner import Worker

from gateway_support import Gateway, empty_tables, on_both_databases
from journey import NORTHFIELD, OTHER_UPRN, create, repair_body, windows
from test_backend_failures import Switch, flaky_gateway


@pytest.fixture
async def flaky(make_gateway: Any) -> tuple[Gateway, Switch]:
    """Northfield on a calendar the test switches off and on, with quick retries."""
    return await flaky_gateway(make_gateway, retry_base_seconds=0.05, retry_cap_seconds=0.1)


def worker_of(gateway: Gateway) -> Worker:
    """A worker on the same parts as the app under test."""
    return Worker(gateway.app.state.gateway.parts)


async def statuses(gateway: Gateway) -> dict[str, str]:
    """Each repair's lifecycle status, by reference."""
    async with gateway.sessions() as session:
        rows = await session.execute(select(Repair.reference, Repair.status))
        return dict(rows.all())


async def read(gateway: Gateway, reference: str) -> dict[str, Any]:
    response = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


@on_both_databases
async def test_after_an_outage_the_worker_books_what_it_can_and_leaves_the_rest_for_a_person(
    flaky: tuple[Gateway, Switch],
) -> None:
    gateway, switch = flaky
    page = await windows(gateway)
    first, second = page["days"][0]["windows"][0], page["days"][1]["windows"][0]
    switch.mode = "down"
    made = [await create(gateway, repair_body(window["id"])) for window in (first, first, second)]
    assert [r.status_code for r in made] == [201, 201, 201]
    assert {r.json()["status"] for r in made} == {"received"}
    references = [r.json()["reference"] for r in made]

    # While it is down, the worker tries, fails and keeps each job with its error.
    await asyncio.sleep(0.1)
    ran = await worker_of(gateway).run_until_idle(limit_seconds=1)
    assert ran >= 3
    async with gateway.sessions() as session:
        jobs = list(await session.scalars(select(Job).where(Job.kind == "book")))
    assert len(jobs) == 3 and {j.state for j in jobs} == {"queued"}
    assert all("down" in (j.last_error or "") for j in jobs)

    # Back up; meanwhile another resident takes one of the two places the morning window
    # has for plumbing, so only one of the two repairs that asked for it can have it.
    switch.mode = "ok"
    theirs = next(
        w
        for day in (await windows(gateway, OTHER_UPRN))["days"]
        for w in day["windows"]
        if w["start"] == first["start"]
    )
    other = await create(gateway, repair_body(theirs["id"], uprn=OTHER_UPRN))
    assert other.json()["status"] == "booked"
    switch.calls.clear()
    await worker_of(gateway).run_until_idle(limit_seconds=30)

    assert switch.calls["book"] >= 3, "the worker, not a request, booked them"
    final = await statuses(gateway)
    assert final[references[2]] == "booked"
    assert sorted([final[references[0]], final[references[1]]]) == ["booked", "needs_attention"]
    for reference in references:
        body = await read(gateway, reference)
        if final[reference] == "booked":
            window = second if reference == references[2] else first
            assert body["status"] == "booked"
            assert (body["appointment"]["start"], body["appointment"]["end"]) == (
                window["start"],
                window["end"],
            )
        else:
            # The resident is told the truth, never moved to another time silently.
            assert body["status"] == "received" and body["appointment"] is None
            assert "could not book the time you chose" in body["nextSteps"]
    waiting = await gateway.app.state.gateway.parts.store.listing(
        "northfield", ["needs_attention"], None, None, 50
    )
    assert [r.reference for r in waiting] == [r for r in references if final[r] == "needs_attention"]
    assert "taken" in (waiting[0].backend_note or "")
    async with gateway.sessions() as session:
        assert set((await session.scalars(select(Job.state).where(Job.kind == "book"))).all()) == {DONE}


async def test_a_window_that_passed_while_the_backend_was_down_is_not_booked(
    flaky: tuple[Gateway, Switch],
) -> None:
    gateway, switch = flaky
    window = (await windows(gateway))["days"][0]["windows"][0]
    switch.mode = "down"
    reference = (await create(gateway, repair_body(window["id"]))).json()["reference"]
    switch.mode = "ok"
    switch.calls.clear()
    async with gateway.sessions.begin() as session:  # time passes: the window has begun
        await session.execute(
            update(Repair).where(Repair.reference == reference).values(window_start=utcnow())
        )
    await asyncio.sleep(0.1)  # the job's first retry is due
    await worker_of(gateway).run_until_idle(limit_seconds=10)
    assert (await statuses(gateway))[reference] == "needs_attention"
    assert switch.calls["book"] == 0


async def test_a_change_whose_process_died_is_settled_by_the_worker(gateway: Gateway) -> None:
    window = (await windows(gateway))["days"][0]["windows"][0]
    booked = (await create(gateway, repair_body(window["id"]))).json()
    # A cancel's process died after storing its intent and before telling the backend: the
    # intent is on the repair and its lease has run out.
    async with gateway.sessions.begin() as session:
        await session.execute(
            update(Repair)
            .where(Repair.reference == booked["reference"])
            .values(
                intent={"operation": "cancel", "attempt": "dead0001"},
                lease_until=utcnow(),
                attempt="dead0001",
            )
        )
    worker = worker_of(gateway)
    assert await worker.sweep() == 1
    await worker.run_until_idle(limit_seconds=10)
    assert (await statuses(gateway))[booked["reference"]] == "cancelled"
    async with gateway.sessions() as session:
        active = await session.execute(
            select(Repair.intent, Repair.lease_until).where(Repair.reference == booked["reference"])
        )
        assert active.one() == (None, None)
    # The calendar's place is free again: the next resident can have it.
    again = await windows(gateway)
    assert window["id"] and again["days"][0]["windows"][0]["start"] == window["start"]


@pytest.mark.postgres
async def test_two_worker_processes_on_one_postgresql_run_each_of_200_jobs_once(
    postgres_url: str, tmp_path: Path
) -> None:
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.persistence.queue import JobQueue

    await empty_tables(postgres_url)
    engine = make_engine(postgres_url)
    sessions = make_sessionmaker(engine)
    # Settle jobs of repairs that no longer exist: each is claimed, run and finished.
    await JobQueue(sessions).enqueue(
        *(
            NewJob("settle", f"settle:{n}:x", council_id="northfield", repair_id=10_000 + n)
            for n in range(200)
        )
    )
    from repairs_gateway.demo.data import demo_config_path

    env = {
        **os.environ,
        "REPAIRS_GATEWAY_DATABASE_URL": postgres_url,
        "REPAIRS_GATEWAY_CONFIG_FILE": str(demo_config_path()),
        "REPAIRS_GATEWAY_TOKEN_SECRET": "x" * 40,
        "REPAIRS_GATEWAY_WORKER_CONCURRENCY": "4",
        "REPAIRS_GATEWAY_WORKER_POLL_SECONDS": "0.05",
    }
    command = [sys.executable, "-m", "repairs_gateway.cli", "worker", "--once"]
    workers = [
        await asyncio.create_subprocess_exec(
            *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
        )
        for _ in range(2)
    ]
    async with asyncio.timeout(120):
        outputs = [(await w.communicate())[0].decode() for w in workers]
    assert [w.returncode for w in workers] == [0, 0], outputs
    async with sessions() as session:
        jobs = list(await session.scalars(select(Job)))
    await engine.dispose()
    assert Counter(j.state for j in jobs) == Counter({DONE: 200})
    assert {j.attempts for j in jobs} == {1}, "a job claimed twice would show two attempts"
    ran = [int(line.split()[1]) for out in outputs for line in out.splitlines() if line.startswith("ran ")]
    assert sum(ran) == 200, outputs


async def test_moving_a_received_repair_into_a_taken_window_is_a_409_and_keeps_the_repair(
    flaky: tuple[Gateway, Switch],
) -> None:
    gateway, switch = flaky
    page = await windows(gateway)
    asked = page["days"][1]["windows"][0]
    switch.mode = "down"
    reference = (await create(gateway, repair_body(asked["id"]))).json()["reference"]
    switch.mode = "ok"
    # Two other residents fill the morning window the resident now asks for.
    target = page["days"][0]["windows"][0]
    for _ in range(2):
        theirs = next(
            w
            for day in (await windows(gateway, OTHER_UPRN))["days"]
            for w in day["windows"]
            if w["start"] == target["start"]
        )
        assert (await create(gateway, repair_body(theirs["id"], uprn=OTHER_UPRN))).json()[
            "status"
        ] == "booked"
    moved = await gateway.client.post(
        f"{NORTHFIELD}/repairs/{reference}/reschedule",
        json={"windowId": target["id"]},
        headers=gateway.auth(),
    )
    assert moved.status_code == 409
    assert (await statuses(gateway))[reference] == "received"
    # The window it first asked for is still the one the worker books.
    await asyncio.sleep(0.1)
    await worker_of(gateway).run_until_idle(limit_seconds=10)
    body = await read(gateway, reference)
    assert body["status"] == "booked"
    assert body["appointment"]["start"] == asked["start"]


async def test_a_cancel_waits_for_an_unfinished_change_it_cannot_settle_and_changes_nothing(
    flaky: tuple[Gateway, Switch],
) -> None:
    gateway, switch = flaky
    window = (await windows(gateway))["days"][0]["windows"][0]
    booked = (await create(gateway, repair_body(window["id"]))).json()
    async with gateway.sessions.begin() as session:  # a move died midway, its backend now down
        await session.execute(
            update(Repair)
            .where(Repair.reference == booked["reference"])
            .values(
                intent={"operation": "cancel", "attempt": "dead0002"},
                lease_until=utcnow(),
                attempt="dead0002",
            )
        )
    switch.mode = "down"
    response = await gateway.client.post(
        f"{NORTHFIELD}/repairs/{booked['reference']}/cancel", headers=gateway.auth()
    )
    assert response.status_code == 503 and "Retry-After" in response.headers
    switch.mode = "ok"
    response = await gateway.client.post(
        f"{NORTHFIELD}/repairs/{booked['reference']}/cancel", headers=gateway.auth()
    )
    assert response.status_code == 200 and response.json()["status"] == "cancelled"


async def test_what_the_scheduler_reports_is_written_even_after_a_holder_died_without_an_intent(
    gateway: Gateway,
) -> None:
    from sqlalchemy import text

    from repairs_gateway.ports import Booking

    window = (await windows(gateway))["days"][0]["windows"][0]
    reference = (await create(gateway, repair_body(window["id"]))).json()["reference"]
    async with gateway.sessions.begin() as session:  # took the repair, then died at once
        await session.execute(
            update(Repair)
            .where(Repair.reference == reference)
            .values(attempt="dead0003", lease_until=utcnow())
        )
    calendar = gateway.app.state.gateway.councils["northfield"].schedulers["calendar"]
    await calendar.cancel(Booking(reference))
    async with gateway.sessions.begin() as session:  # a scheduler that deletes what it cancels
        await session.execute(text("DELETE FROM calendar_bookings WHERE reference = :r"), {"r": reference})
    assert (await read(gateway, reference))["status"] == "cancelled"


async def test_finished_jobs_are_pruned_after_a_week_and_dead_ones_kept(gateway: Gateway) -> None:
    from datetime import timedelta

    queue = gateway.app.state.gateway.parts.queue
    await queue.enqueue(NewJob("settle", "settle:1:old"), NewJob("settle", "settle:2:dead"))
    jobs = await queue.claim(2, timedelta(minutes=1))
    await queue.done(jobs[0])
    await queue.dead(jobs[1], "a person must look")
    async with gateway.sessions.begin() as session:
        await session.execute(update(Job).values(updated_at=utcnow() - timedelta(days=8)))
    assert await queue.prune(timedelta(days=7)) == 1
    assert [j.state for j in await queue.list()] == ["dead"]
