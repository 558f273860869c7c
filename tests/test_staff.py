"""Staff see and act on what needs them: listRepairs and retryRepair with a staff key, 403
for a resident key, and the backlog on /metrics."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from repairs_gateway.persistence.models import Repair, utcnow
from repairs_gateway.persistence.queue import JobQueue, NewJob
from repairs_gateway.worker.runner import Worker

from gateway_support import Gateway, make_dead, on_both_databases
from journey import NORTHFIELD, OTHER_UPRN, create, field_names, first_window, repair_body
from test_backend_failures import Switch, flaky_gateway

SOUTHMOOR = "/v1/councils/southmoor"
SOUTHMOOR_REPAIR = {"uprn": "200034560001", "repair": {"triagePath": "heating/radiator"}}


@pytest.fixture
async def flaky(make_gateway: Any) -> tuple[Gateway, Switch]:
    """Northfield on a calendar the test switches off and on."""
    return await flaky_gateway(make_gateway)


async def listing(gateway: Gateway, key: str, council: str = NORTHFIELD, **params: Any) -> Any:
    return await gateway.client.get(f"{council}/repairs", params=params, headers=gateway.auth(key))


async def retry(gateway: Gateway, key: str, reference: str, council: str = NORTHFIELD) -> Any:
    return await gateway.client.post(f"{council}/repairs/{reference}/retry", headers=gateway.auth(key))


async def received(
    gateway: Gateway, count: int, council: str = NORTHFIELD, key: str | None = None
) -> list[str]:
    """References of ``count`` repairs recorded without a window, in order."""
    made = []
    body = repair_body(**(SOUTHMOOR_REPAIR if council == SOUTHMOOR else {}))
    for _ in range(count):
        headers = gateway.auth(key)
        response = await gateway.client.post(f"{council}/repairs", json=body, headers=headers)
        assert response.status_code == 201, response.text
        made.append(response.json()["reference"])
    return made


async def age(gateway: Gateway, reference: str, minutes: int) -> None:
    """Make a repair look ``minutes`` old."""
    async with gateway.sessions.begin() as session:
        await session.execute(
            update(Repair)
            .where(Repair.reference == reference)
            .values(created_at=utcnow() - timedelta(minutes=minutes))
        )


def queue_of(gateway: Gateway) -> JobQueue:
    queue: JobQueue = gateway.app.state.gateway.parts.queue
    return queue


async def test_a_resident_key_may_not_use_the_staff_operations(gateway: Gateway) -> None:
    (reference,) = await received(gateway, 1)
    for response in (await listing(gateway, gateway.key), await retry(gateway, gateway.key, reference)):
        assert response.status_code == 403
        problem = response.json()
        assert problem["type"] == "/problems/forbidden"
        assert "staff API key" in problem["detail"]
        assert field_names(response) == {"Authorization"}
        assert problem["errors"][0]["location"] == "header"
    # A staff key is still held to its councils; and may do what a resident key may.
    staff = await gateway.new_staff_key("southmoor")
    assert (await listing(gateway, staff)).status_code == 403
    assert (await listing(gateway, staff, SOUTHMOOR)).status_code == 200
    (theirs,) = await received(gateway, 1, council=SOUTHMOOR, key=staff)
    read = await gateway.client.get(f"{SOUTHMOOR}/repairs/{theirs}", headers=gateway.auth(staff))
    assert read.status_code == 200
    crossed = await gateway.client.get(f"{SOUTHMOOR}/repairs/{reference}", headers=gateway.auth(staff))
    assert crossed.status_code == 404


@on_both_databases
async def test_staff_list_a_councils_repairs_by_status_and_age_a_page_at_a_time(gateway: Gateway) -> None:
    staff = await gateway.new_staff_key()
    references = await received(gateway, 5)
    await received(gateway, 1, council=SOUTHMOOR)
    for reference, minutes in zip(references, (300, 240, 180, 5, 1), strict=True):
        await age(gateway, reference, minutes)

    first = await listing(gateway, staff, status="received", limit=2)
    assert first.status_code == 200, first.text
    page = first.json()
    assert [r["reference"] for r in page["repairs"]] == references[:2]
    assert page["nextCursor"]
    item = page["repairs"][0]
    assert item["status"] == "received" and item["publicStatus"] == "received"
    assert 299 <= item["ageMinutes"] <= 301
    assert item["job"]["trade"] == "plumbing" and item["job"]["sorCode"]
    assert item["appointment"] is None and item["requestedWindow"] is None
    assert item["lastError"] is None

    # Follow the cursor to the end: every repair once, oldest first, Southmoor's never.
    seen = [r["reference"] for r in page["repairs"]]
    cursor = page["nextCursor"]
    while cursor:
        more = (await listing(gateway, staff, status="received", limit=2, cursor=cursor)).json()
        seen += [r["reference"] for r in more["repairs"]]
        cursor = more["nextCursor"]
    assert seen == references

    # By age: only those recorded more than an hour ago, over two pages, no repeats.
    old = (await listing(gateway, staff, olderThanMinutes=60, limit=2)).json()
    assert [r["reference"] for r in old["repairs"]] == references[:2]
    # A repair recorded after the first page is not on the next: the cut-off stands.
    await received(gateway, 1)
    rest = (await listing(gateway, staff, olderThanMinutes=60, limit=2, cursor=old["nextCursor"])).json()
    assert [r["reference"] for r in rest["repairs"]] == [references[2]]
    assert rest["nextCursor"] is None

    # Statuses repeat or are joined by commas, and take the lifecycle's own.
    both = await listing(gateway, staff, status=["booked", "received,needs_attention"])
    assert len(both.json()["repairs"]) == 6
    assert (await listing(gateway, staff, status="booked")).json() == {"repairs": [], "nextCursor": None}


async def test_a_listing_refuses_unknown_statuses_and_cursors_of_another_listing(gateway: Gateway) -> None:
    staff = await gateway.new_staff_key()
    await received(gateway, 3)
    unknown = await listing(gateway, staff, status="received,lost")
    assert unknown.status_code == 400
    assert field_names(unknown) == {"status"}
    assert "'lost' is not a repair status" in unknown.json()["detail"]
    cursor = (await listing(gateway, staff, limit=1)).json()["nextCursor"]
    other = await listing(gateway, staff, limit=1, cursor=cursor, status="booked")
    assert other.status_code == 400 and field_names(other) == {"cursor"}
    forged = await listing(gateway, staff, cursor=cursor[:-2] + "xx")
    assert forged.status_code == 400 and field_names(forged) == {"cursor"}
    assert (await listing(gateway, staff, limit=0)).status_code == 400
    # The spec allows at most 20 status values.
    many = await gateway.client.get(
        "/v1/councils/northfield/repairs",
        params=[("status", "received")] * 21,
        headers={"Authorization": f"Bearer {staff}"},
    )
    assert many.status_code == 400 and field_names(many) == {"status"}


async def test_staff_see_the_last_backend_error_and_the_queue_state(flaky: tuple[Gateway, Switch]) -> None:
    gateway, switch = flaky
    staff = await gateway.new_staff_key()
    window = await first_window(gateway)
    switch.mode = "down"
    response = await create(gateway, repair_body(window["id"]))
    assert response.json()["status"] == "received"
    reference = response.json()["reference"]

    (item,) = (await listing(gateway, staff, status="received")).json()["repairs"]
    assert item["reference"] == reference
    assert "booking failed" in item["lastError"] and "down" in item["lastError"]
    assert item["requestedWindow"] == {
        "start": window["start"],
        "end": window["end"],
        "label": window["label"],
    }
    queue = item["queue"]
    assert queue["state"] == "queued" and queue["attempts"] == 0
    assert queue["nextAttemptAt"] is not None and queue["lastError"] is None

    # The worker tries while the scheduler is still down: the job keeps its error.
    await asyncio.sleep(2.1)
    await Worker(gateway.app.state.gateway.parts).run_until_idle(limit_seconds=1)
    (item,) = (await listing(gateway, staff)).json()["repairs"]
    assert item["queue"]["kind"] == "book" and item["queue"]["state"] == "queued"
    assert item["queue"]["attempts"] >= 1 and "down" in item["queue"]["lastError"]

    # Retrying makes the waiting job due now; once the scheduler is back, the worker books it.
    switch.mode = "ok"
    retried = await retry(gateway, staff, reference)
    assert retried.status_code == 202, retried.text
    assert retried.json()["queue"]["state"] == "queued"
    await Worker(gateway.app.state.gateway.parts).run_until_idle(limit_seconds=10)
    (item,) = (await listing(gateway, staff)).json()["repairs"]
    assert item["status"] == "booked" and item["lastError"] is None
    assert item["appointment"]["start"] == window["start"] and item["requestedWindow"] is None


@on_both_databases
async def test_retrying_queues_a_dead_job_again(gateway: Gateway) -> None:
    staff = await gateway.new_staff_key()
    (reference,) = await received(gateway, 1)
    row = await gateway.app.state.gateway.parts.store.load("northfield", reference)
    queue = queue_of(gateway)
    await queue.enqueue(
        NewJob("withdraw-works-order", f"test:{row.id}", "northfield", row.id, max_attempts=3)
    )
    job = await make_dead(
        queue, f"test:{row.id}", "the housing system cannot cancel works orders: withdraw it by hand"
    )

    (item,) = (await listing(gateway, staff)).json()["repairs"]
    assert item["queue"]["state"] == "dead" and item["queue"]["attempts"] == 1
    assert item["queue"]["nextAttemptAt"] is None
    assert "withdraw it by hand" in item["queue"]["lastError"]

    retried = await retry(gateway, staff, reference.lower())
    assert retried.status_code == 202, retried.text
    body = retried.json()
    assert body["reference"] == reference
    assert body["queue"]["state"] == "queued" and body["queue"]["attempts"] == 0
    assert body["queue"]["nextAttemptAt"] is not None
    claimed = await queue.claim(50, timedelta(seconds=30))
    assert job.id in {c.id for c in claimed}
    running = await retry(gateway, staff, reference)
    assert running.status_code == 202 and running.json()["queue"]["state"] == "running"

    # Nothing left to retry: the jobs are done, and the repair asked for no window.
    for done in claimed:
        await queue.done(done)
    again = await retry(gateway, staff, reference)
    assert again.status_code == 409
    assert again.json()["type"] == "/problems/repair-state-conflict"
    assert "no failed work to retry" in again.json()["detail"]


async def test_a_repair_left_for_a_person_is_booked_into_its_window_on_retry(gateway: Gateway) -> None:
    staff = await gateway.new_staff_key()
    window = await first_window(gateway)
    booked = await create(gateway, repair_body(window["id"]))
    reference = booked.json()["reference"]
    # The scheduler lost it, say, and it was left for a person: the window is free again.
    cancelled = await gateway.client.post(f"{NORTHFIELD}/repairs/{reference}/cancel", headers=gateway.auth())
    assert cancelled.status_code == 200
    async with gateway.sessions.begin() as session:
        await session.execute(
            update(Repair)
            .where(Repair.reference == reference)
            .values(status="needs_attention", backend_note="the scheduler refused it")
        )
    retried = await retry(gateway, staff, reference)
    assert retried.status_code == 202, retried.text
    body = retried.json()
    assert body["status"] == "booking" and body["publicStatus"] == "received"
    assert body["queue"]["state"] == "queued"
    await Worker(gateway.app.state.gateway.parts).run_until_idle(limit_seconds=10)
    read = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    assert read.json()["status"] == "booked"
    assert read.json()["appointment"]["start"] == window["start"]


async def test_a_window_that_has_passed_is_not_retried(gateway: Gateway) -> None:
    staff = await gateway.new_staff_key()
    (reference,) = await received(gateway, 1)
    async with gateway.sessions.begin() as session:
        await session.execute(
            update(Repair)
            .where(Repair.reference == reference)
            .values(
                status="needs_attention",
                window_start=utcnow() - timedelta(hours=4),
                window_end=utcnow() - timedelta(hours=1),
            )
        )
    response = await retry(gateway, staff, reference)
    assert response.status_code == 409
    assert "has passed" in response.json()["detail"] and "rescheduleRepair" in response.json()["detail"]
    assert (await retry(gateway, staff, "NF-2222222")).status_code in (400, 404)


def _sample(text: str, name: str, **labels: str) -> float:
    wanted = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    pattern = rf"^{re.escape(name)}{re.escape('{' + wanted + '}') if labels else ''} (\S+)$"
    found = re.search(pattern, text, re.MULTILINE)
    assert found, f"{name}{labels} not in /metrics"
    return float(found.group(1))


@on_both_databases
async def test_metrics_show_repairs_by_status_the_queue_and_dead_jobs(make_gateway: Any) -> None:
    # /metrics is the operator's (issue 14).
    gateway: Gateway = await make_gateway(operator_token="operator-token-for-the-staff-tests")
    operator = {"Authorization": "Bearer operator-token-for-the-staff-tests"}
    references = await received(gateway, 3)
    await received(gateway, 1, council=SOUTHMOOR)
    await create(gateway, repair_body((await first_window(gateway, OTHER_UPRN))["id"], uprn=OTHER_UPRN))
    queue = queue_of(gateway)
    rows = [await gateway.app.state.gateway.parts.store.load("northfield", r) for r in references]
    await queue.enqueue(NewJob("book", "t:dead", "northfield", rows[0].id))
    await make_dead(queue, "t:dead", "gave up")
    await queue.enqueue(
        NewJob("book", "t:due", "northfield", rows[1].id),
        NewJob("settle", "t:later", "northfield", rows[2].id, delay_seconds=600),
    )
    await asyncio.sleep(1.1)

    text = (await gateway.client.get("/metrics", headers=operator)).text
    assert _sample(text, "repairs_gateway_repairs", council="northfield", status="received") == 3
    assert _sample(text, "repairs_gateway_repairs", council="northfield", status="booked") == 1
    assert _sample(text, "repairs_gateway_repairs", council="southmoor", status="received") == 1
    assert _sample(text, "repairs_gateway_repairs", council="northfield", status="needs_attention") == 0
    assert _sample(text, "repairs_gateway_jobs", kind="book", state="dead") == 1
    assert _sample(text, "repairs_gateway_jobs", kind="book", state="queued") == 1
    assert _sample(text, "repairs_gateway_jobs", kind="settle", state="queued") == 1
    assert _sample(text, "repairs_gateway_jobs_dead") == 1
    assert 1.0 <= _sample(text, "repairs_gateway_job_oldest_due_seconds") < 60

    # Read afresh at every scrape: the dead job queued again, the figures follow.
    await queue.requeue_dead(repair_ids=[rows[0].id])
    text = (await gateway.client.get("/metrics", headers=operator)).text
    assert _sample(text, "repairs_gateway_jobs_dead") == 0
    assert _sample(text, "repairs_gateway_jobs", kind="book", state="queued") == 2
    assert 'repairs_gateway_jobs{kind="book",state="dead"}' not in text


@on_both_databases
async def test_staff_list_the_repairs_whose_resident_could_not_be_reached(gateway: Gateway) -> None:
    """``contactFailed`` shows the flag a refused or undeliverable message sets (see
    test_messages.py for the messages that set it); ``?contactFailed=`` filters by it, and
    its cursor is bound to the filter."""
    staff = await gateway.new_staff_key()
    references = []
    for uprn in ("100012345001", "100012345002", "100012345003", "100012346014"):
        response = await gateway.client.post(
            f"{NORTHFIELD}/repairs", json=repair_body(uprn=uprn), headers=gateway.auth()
        )
        assert response.status_code == 201, response.text
        references.append(response.json()["reference"])
    async with gateway.sessions.begin() as session:
        await session.execute(
            update(Repair).where(Repair.reference.in_(references[1:])).values(contact_failed=True)
        )
    everything = (await listing(gateway, staff)).json()["repairs"]
    assert [(r["reference"], r["contactFailed"]) for r in everything] == [
        (references[0], False),
        *((reference, True) for reference in references[1:]),
    ]
    first = (await listing(gateway, staff, contactFailed="true", limit=2)).json()
    assert [r["reference"] for r in first["repairs"]] == references[1:3]
    rest = await listing(gateway, staff, contactFailed="true", limit=2, cursor=first["nextCursor"])
    assert [r["reference"] for r in rest.json()["repairs"]] == references[3:]
    assert rest.json()["nextCursor"] is None
    others = (await listing(gateway, staff, contactFailed="false")).json()["repairs"]
    assert [r["reference"] for r in others] == references[:1]
    # A cursor of the filtered listing is not one of the unfiltered listing.
    unfiltered = await listing(gateway, staff, limit=2, cursor=first["nextCursor"])
    assert unfiltered.status_code == 400 and field_names(unfiltered) == {"cursor"}
    bad = await listing(gateway, staff, contactFailed="perhaps")
    assert bad.status_code == 400 and field_names(bad) == {"contactFailed"}
