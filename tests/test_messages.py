"""Messages through GOV.UK Notify (its simulator, on 127.0.0.1, through the official client):
each kind goes with its template filled, what a council turns off is not sent, texts wait
for the end of quiet hours, reminders go for the appointment as it stands, Notify's 429 is
retried and its 400 is not, and staff see the repairs whose resident could not be reached."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from message_support import (
    RECEIPT_TOKEN,
    RECEIPTS,
    STAFF_EMAIL,
    GatewayBuilder,
    Notify,
    make_due,
    make_notify_gateway_fixture,  # noqa: F401  (the fixture make_notify_gateway)
    notify_sim_fixture,  # noqa: F401  (the fixture notify_sim)
    recorded,
    repair_row,
    run_until_settled,
    run_worker,
)
from sqlalchemy import select, update

from repairs_gateway.domain.history import EventKind
from repairs_gateway.persistence.models import Job, Repair, RepairEvent
from repairs_gateway.persistence.repair_store import record_events

from gateway_support import Gateway, on_both_databases
from journey import NORTHFIELD, OTHER_UPRN, create, repair_body, windows

LONDON = ZoneInfo("Europe/London")
EMAIL_CONTACT = {"name": "Eve Email", "email": "eve@example.org", "preferredChannel": "email"}
SMS_CONTACT = {"name": "Sam Resident", "phone": "07700 900123", "preferredChannel": "sms"}


async def later_windows(gateway: Gateway, uprn: str = OTHER_UPRN) -> list[dict[str, Any]]:
    """Windows from the third bookable day on: their reminder (the day before, 18:00) is
    always ahead, whatever the time of day the test runs."""
    page = await windows(gateway, uprn)
    return [w for day in page["days"][2:] for w in day["windows"]]


async def window_at(gateway: Gateway, uprn: str, start: str) -> dict[str, Any]:
    """The window starting at ``start`` as offered for ``uprn`` (ids are bound to a property)."""
    page = await windows(gateway, uprn)
    return next(w for day in page["days"] for w in day["windows"] if w["start"] == start)


async def book(gateway: Gateway, window: dict[str, Any], uprn: str = OTHER_UPRN, **contact: Any) -> str:
    """Book ``window`` (offered for any property) for ``uprn``; the reference."""
    window = await window_at(gateway, uprn, window["start"])
    body = repair_body(window["id"], uprn=uprn, contact=contact or SMS_CONTACT)
    answer = await create(gateway, body)
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "booked"
    reference: str = answer.json()["reference"]
    return reference


async def change(gateway: Gateway, reference: str, action: str, **body: Any) -> dict[str, Any]:
    if "window" in body:
        uprn = (await repair_row(gateway, reference)).uprn
        body = {"windowId": (await window_at(gateway, uprn, body.pop("window")["start"]))["id"]}
    answer = await gateway.client.post(
        f"{NORTHFIELD}/repairs/{reference}/{action}", json=body or None, headers=gateway.auth()
    )
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def by_template(notify: Notify, reference: str | None = None) -> dict[str, list[dict[str, Any]]]:
    """The simulator's messages by template name (``booking confirmed (text)``), of one repair
    when ``reference`` is given."""
    found: dict[str, list[dict[str, Any]]] = {}
    for message in notify.messages():
        if reference is None or reference in message["body"]:
            found.setdefault(message["templateName"], []).append(message)
    return found


def spoken(start: str, end: str) -> str:
    """An appointment as the gateway writes it for a resident (local time)."""
    s = datetime.fromisoformat(start).astimezone(LONDON)
    e = datetime.fromisoformat(end).astimezone(LONDON)
    return f"{s:%A %-d %B} between {_said(s)} and {_said(e)}"


def _said(moment: datetime) -> str:
    """8am, 4:30pm, midday: GOV.UK's style, worked out apart from the gateway's own code."""
    if (moment.hour, moment.minute) == (12, 0):
        return "midday"
    return (f"{moment:%-I%p}" if moment.minute == 0 else f"{moment:%-I:%M%p}").lower()


async def add_event(gateway: Gateway, reference: str, kind: EventKind, status: str | None = None) -> None:
    """Record an event as a status change from the scheduler would (with its notify job)."""
    async with gateway.sessions.begin() as session:
        row = await session.scalar(select(Repair).where(Repair.reference == reference))
        assert row is not None
        if status is not None:
            row.status = status
        await session.flush()
        await record_events(session, row, [(kind, {})])


# ---------------------------------------------------------------------- every kind


@on_both_databases
async def test_every_kind_goes_with_its_template_filled(
    make_notify_gateway: GatewayBuilder, notify_sim: Notify
) -> None:
    gateway = await make_notify_gateway()
    first, second = (await later_windows(gateway))[:2]
    by_text = await book(gateway, first)
    by_email = await book(gateway, first, uprn="100012345001", **EMAIL_CONTACT)
    await run_worker(gateway)

    sent = by_template(notify_sim, by_text)
    (confirmed,) = sent["booking confirmed (text)"]
    assert confirmed["to"] == "07700 900123" and confirmed["type"] == "sms"
    assert confirmed["body"] == (
        f"Dear Sam Resident, your repair {by_text} is booked for {spoken(first['start'], first['end'])}."
    )
    (staff,) = sent["staff new repair (email)"]
    assert staff["to"] == STAFF_EMAIL
    assert staff["subject"] == f"New repair {by_text}"
    assert "UPRN: 100012345002" in staff["body"] and "SoR code: 20060020" in staff["body"]
    assert "Contact number: 07700 900123" in staff["body"]
    assert "Description: The kitchen sink is blocked" in staff["body"]
    (emailed,) = by_template(notify_sim, by_email)["booking confirmed (email)"]
    assert emailed["to"] == "eve@example.org"
    assert emailed["subject"] == f"Repair {by_email} booked for {spoken(first['start'], first['end'])}"
    assert "Dear Eve Email" in emailed["body"] and "What we will do: The kitchen sink" in emailed["body"]

    await change(gateway, by_text, "reschedule", window=second)
    await run_worker(gateway)
    await make_due(gateway, "remind")
    await run_worker(gateway)
    await add_event(gateway, by_text, EventKind.IN_PROGRESS, "in_progress")
    await add_event(gateway, by_email, EventKind.NEEDS_ATTENTION)
    await run_worker(gateway)
    async with gateway.sessions.begin() as session:  # the scheduler's own correction: no event
        await session.execute(update(Repair).where(Repair.reference == by_text).values(status="booked"))
    await change(gateway, by_text, "cancel")
    await run_worker(gateway)

    sent = by_template(notify_sim, by_text)
    when = spoken(second["start"], second["end"])
    (moved,) = sent["appointment moved (text)"]
    assert moved["body"] == f"Dear Sam Resident, your repair {by_text} is now booked for {when}."
    (reminded,) = sent["reminder (text)"]
    assert reminded["body"] == f"Reminder: your repair {by_text} is booked for {when}."
    (started,) = sent["status changed (text)"]
    assert started["body"] == f"Your repair {by_text}: in progress."
    (cancelled,) = sent["repair cancelled (text)"]
    assert cancelled["body"] == f"Dear Sam Resident, your repair {by_text} has been cancelled."
    (attention,) = by_template(notify_sim, by_email)["staff needs attention (email)"]
    assert attention["to"] == STAFF_EMAIL and "needs a person" in attention["body"]

    # Every message went with every placeholder of its template filled, by the council's
    # template for that kind and channel, and the gateway recorded each as sent once.
    everything = notify_sim.messages()
    assert all("((" not in m["body"] and "((" not in (m["subject"] or "") for m in everything)
    assert {m["templateName"] for m in everything} >= {
        "booking confirmed (text)",
        "booking confirmed (email)",
        "appointment moved (text)",
        "reminder (text)",
        "status changed (text)",
        "repair cancelled (text)",
        "staff new repair (email)",
        "staff needs attention (email)",
    }
    mine = await recorded(gateway)
    assert len(mine) == len(everything)
    assert {m.sender_id for m in mine.values()} == {m["id"] for m in everything}


async def test_each_kind_as_an_email_fills_its_template(
    make_notify_gateway: GatewayBuilder, notify_sim: Notify
) -> None:
    gateway = await make_notify_gateway()
    first, second = (await later_windows(gateway))[:2]
    reference = await book(gateway, first, **EMAIL_CONTACT)
    await change(gateway, reference, "reschedule", window=second)
    await run_worker(gateway)
    await make_due(gateway, "remind")
    await run_worker(gateway)
    await add_event(gateway, reference, EventKind.COMPLETED, "completed")
    await run_worker(gateway)
    sent = by_template(notify_sim, reference)
    when = spoken(second["start"], second["end"])
    assert [m["subject"] for m in sent["appointment moved (email)"]] == [
        f"Repair {reference}: new appointment {when}"
    ]
    assert [m["subject"] for m in sent["reminder (email)"]] == [f"Reminder: repair {reference} on {when}"]
    assert [m["subject"] for m in sent["status changed (email)"]] == [f"Repair {reference}: completed"]
    assert all(m["to"] == "eve@example.org" for name, ms in sent.items() if "staff" not in name for m in ms)


# ---------------------------------------------------------------------- what a council turns on


async def test_a_council_with_confirmations_off_sends_none_and_the_rest_still(
    make_notify_gateway: GatewayBuilder, notify_sim: Notify
) -> None:
    # A council whose scheduler texts its own confirmations.
    on = ["appointment_moved", "repair_cancelled", "reminder", "status_changed", "staff_new_repair"]
    gateway = await make_notify_gateway(send=on)
    first, second = (await later_windows(gateway))[:2]
    reference = await book(gateway, first)
    await change(gateway, reference, "reschedule", window=second)
    await run_worker(gateway)
    names = {m["templateName"] for m in notify_sim.messages()}
    assert names == {"staff new repair (email)", "appointment moved (text)"}
    assert not any("booking confirmed" in m.key for m in (await recorded(gateway)).values())


# ---------------------------------------------------------------------- quiet hours


async def test_a_text_in_quiet_hours_waits_until_they_end_and_an_email_does_not(
    make_notify_gateway: GatewayBuilder, notify_sim: Notify, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Quiet hours from a minute ago to two hours ahead: wide enough that no machine is too
    # slow for them; their end is then reached by moving the sender's clock, not by waiting.
    now = datetime.now(LONDON)
    start, end = now - timedelta(minutes=1), (now + timedelta(hours=2)).replace(microsecond=0)
    gateway = await make_notify_gateway(quiet_hours={"start": f"{start:%H:%M:%S}", "end": f"{end:%H:%M:%S}"})
    first = (await later_windows(gateway))[0]
    texted = await book(gateway, first)
    emailed = await book(gateway, first, uprn="100012345001", **EMAIL_CONTACT)
    await run_worker(gateway, seconds=2)
    assert "booking confirmed (text)" not in by_template(notify_sim, texted)
    assert "booking confirmed (email)" in by_template(notify_sim, emailed)
    assert "staff new repair (email)" in by_template(notify_sim, texted)
    async with gateway.sessions() as session:
        waiting = (await session.scalars(select(Job).where(Job.state == "queued"))).all()
    (job,) = [j for j in waiting if j.kind == "notify"]
    assert "quiet hours" in (job.last_error or "")
    assert abs((job.run_after - end).total_seconds()) < 1.5, "it waits for the end, no longer"

    # Due again a second before the end: still quiet, so it waits again and sends nothing.
    from repairs_gateway.services import messages

    real_utcnow = messages.utcnow
    monkeypatch.setattr(messages, "utcnow", lambda: end.astimezone(UTC) - timedelta(seconds=1))
    assert await make_due(gateway, "notify") == 1
    await run_worker(gateway, seconds=2)
    assert "booking confirmed (text)" not in by_template(notify_sim, texted)

    # Once the hours have ended, it goes.
    monkeypatch.setattr(messages, "utcnow", lambda: end.astimezone(UTC) + timedelta(seconds=1))
    assert await make_due(gateway, "notify") == 1
    await run_worker(gateway)
    assert len(by_template(notify_sim, texted)["booking confirmed (text)"]) == 1
    assert real_utcnow() < end, "the clock was moved for the sender only"


# ---------------------------------------------------------------------- reminders


@on_both_databases
async def test_a_reminder_after_a_reschedule_goes_for_the_new_time_only(
    make_notify_gateway: GatewayBuilder, notify_sim: Notify
) -> None:
    gateway = await make_notify_gateway()
    first, second = (await later_windows(gateway))[:2]
    assert first["start"] != second["start"]
    reference = await book(gateway, first)
    await run_worker(gateway)  # the confirmation, and the reminder of the first time queued
    await change(gateway, reference, "reschedule", window=second)
    await run_worker(gateway)
    async with gateway.sessions() as session:
        reminders = list(await session.scalars(select(Job).where(Job.kind == "remind")))
    assert len(reminders) == 2, "one queued for each appointment the repair had"
    for job in reminders:
        start = datetime.fromisoformat(job.payload["start"]).astimezone(LONDON)
        due = datetime.combine(start.date() - timedelta(days=1), datetime.min.time().replace(hour=18))
        # The day before, at 18:00 local time.
        assert abs((job.run_after - due.replace(tzinfo=LONDON)).total_seconds()) < 1

    assert await make_due(gateway, "remind") == 2
    await run_worker(gateway)
    (reminder,) = by_template(notify_sim, reference)["reminder (text)"]
    assert spoken(second["start"], second["end"]) in reminder["body"]
    assert spoken(first["start"], first["end"]) not in reminder["body"]
    async with gateway.sessions() as session:
        states = set((await session.scalars(select(Job.state).where(Job.kind == "remind"))).all())
        events = list(await session.scalars(select(RepairEvent.kind)))
    assert states == {"done"}
    assert events.count("reminder_sent") == 1


async def test_a_cancelled_repair_gets_no_reminder(
    make_notify_gateway: GatewayBuilder, notify_sim: Notify
) -> None:
    gateway = await make_notify_gateway()
    reference = await book(gateway, (await later_windows(gateway))[0])
    await run_worker(gateway)  # the reminder is queued
    await change(gateway, reference, "cancel")
    assert await make_due(gateway, "remind") == 1
    await run_worker(gateway)
    sent = by_template(notify_sim, reference)
    assert "reminder (text)" not in sent
    assert "repair cancelled (text)" in sent


async def test_no_reminder_when_the_booking_is_made_after_its_moment(
    make_notify_gateway: GatewayBuilder, notify_sim: Notify
) -> None:
    # Reminders a week before: every window on the first pages is closer than that.
    gateway = await make_notify_gateway(reminder={"days_before": 7, "at": "18:00"})
    first = (await windows(gateway, OTHER_UPRN))["days"][0]["windows"][0]
    await book(gateway, first)
    await run_worker(gateway)
    async with gateway.sessions() as session:
        assert not (await session.scalars(select(Job).where(Job.kind == "remind"))).all()


# ---------------------------------------------------------------------- Notify's errors


@on_both_databases
async def test_a_429_from_notify_is_retried_and_the_message_sent_once(
    make_notify_gateway: GatewayBuilder, notify_sim: Notify
) -> None:
    gateway = await make_notify_gateway(send=["booking_confirmed"])
    await notify_sim.control("POST", "fail-next", status=429, count=2)
    reference = await book(gateway, (await later_windows(gateway))[0])
    await run_until_settled(gateway)
    assert len(by_template(notify_sim, reference)["booking confirmed (text)"]) == 1
    (message,) = (await recorded(gateway)).values()
    assert message.state == "sent"
    async with gateway.sessions() as session:
        job = await session.scalar(select(Job).where(Job.kind == "notify").order_by(Job.id.desc()))
    # Tried again after the 429 (the look for the message lost meanwhile is retried at once).
    assert job is not None and job.state == "done" and job.attempts >= 2
    assert not notify_sim.sim.fail_next, "both 429s were answered"


async def test_a_500_then_a_lost_answer_are_retried_without_a_second_message(
    make_notify_gateway: GatewayBuilder, notify_sim: Notify
) -> None:
    gateway = await make_notify_gateway(send=["booking_confirmed"])
    await notify_sim.control("POST", "fail-next", status=500, count=1)
    await notify_sim.control("POST", "hold", phase="after", count=1)
    reference = await book(gateway, (await later_windows(gateway))[0])
    worker = asyncio.create_task(run_until_settled(gateway))
    await notify_sim.wait_held()
    await notify_sim.control("POST", "release", drop=True)  # Notify kept it; we never heard
    await worker
    await run_until_settled(gateway)
    assert len(by_template(notify_sim, reference)["booking confirmed (text)"]) == 1
    (message,) = (await recorded(gateway)).values()
    assert message.state in ("sent", "delivered")
    assert message.sender_id == notify_sim.messages()[0]["id"]


@on_both_databases
async def test_a_400_is_not_retried_marks_the_message_failed_and_puts_the_repair_on_staffs_list(
    make_notify_gateway: GatewayBuilder, notify_sim: Notify
) -> None:
    gateway = await make_notify_gateway()
    landline = {"name": "Lee Landline", "phone": "01632 960001", "preferredChannel": "sms"}
    reference = await book(gateway, (await later_windows(gateway))[0], **landline)
    reached = await book(gateway, (await later_windows(gateway))[0], uprn="100012345001")
    await run_until_settled(gateway)

    sent = by_template(notify_sim, reference)
    assert "booking confirmed (text)" not in sent, "Notify refused it"
    (alert,) = sent["staff needs attention (email)"]
    assert "could not reach the resident" in alert["body"]
    failed = [m for m in (await recorded(gateway)).values() if m.recipient == "01632 960001"]
    assert [(m.kind, m.state) for m in failed] == [("booking_confirmed", "failed")]
    assert "Not a UK mobile number" in (failed[0].error or "")
    assert (await repair_row(gateway, reference)).contact_failed
    assert not (await repair_row(gateway, reached)).contact_failed
    async with gateway.sessions() as session:
        notify_jobs = list(await session.scalars(select(Job).where(Job.kind == "notify")))
    assert {j.state for j in notify_jobs} == {"done"}
    assert all(j.attempts == 1 for j in notify_jobs), "a 400 is not retried"

    staff_key = await gateway.new_staff_key()
    listed = await staff_list(gateway, staff_key)
    flags = {r["reference"]: r["contactFailed"] for r in listed}
    assert flags == {reference: True, reached: False}
    assert [r["reference"] for r in await staff_list(gateway, staff_key, contactFailed="true")] == [reference]
    assert [r["reference"] for r in await staff_list(gateway, staff_key, contactFailed="false")] == [reached]


async def staff_list(gateway: Gateway, key: str, **params: str) -> list[dict[str, Any]]:
    answer = await gateway.client.get(f"{NORTHFIELD}/repairs", params=params, headers=gateway.auth(key))
    assert answer.status_code == 200, answer.text
    listed: list[dict[str, Any]] = answer.json()["repairs"]
    return listed


# ---------------------------------------------------------------------- delivery receipts


async def relay(gateway: Gateway, receipts: list[tuple[str | None, bytes]]) -> list[Any]:
    """POST each receipt the simulator sent to the gateway's callback, as Notify would."""
    answers = []
    for authorization, body in receipts:
        headers = {"Content-Type": "application/json"}
        if authorization:
            headers["Authorization"] = authorization
        answers.append(await gateway.client.post(RECEIPTS, content=body, headers=headers))
    return answers


@on_both_databases
async def test_a_permanent_failure_receipt_puts_the_repair_on_the_staff_list(
    make_notify_gateway: GatewayBuilder, notify_sim: Notify
) -> None:
    gateway = await make_notify_gateway(send=["booking_confirmed", "staff_needs_attention"])
    gone = {"name": "Old Number", "phone": "07700 900002", "preferredChannel": "sms"}
    reference = await book(gateway, (await later_windows(gateway))[0], **gone)
    await run_worker(gateway)
    (message,) = (await recorded(gateway)).values()
    assert message.state == "sent"

    (receipt,) = await notify_sim.wait_receipts(1)
    assert receipt[0] == f"Bearer {RECEIPT_TOKEN}"
    (answer,) = await relay(gateway, [receipt])
    assert answer.status_code == 200 and answer.json() == {"recorded": True}
    (message,) = (await recorded(gateway)).values()
    assert (message.state, message.error) == ("failed", "permanent-failure")
    row = await repair_row(gateway, reference)
    assert row.contact_failed

    staff_key = await gateway.new_staff_key()
    (listed,) = await staff_list(gateway, staff_key, contactFailed="true")
    assert (listed["reference"], listed["contactFailed"]) == (reference, True)
    await run_worker(gateway)
    (alert,) = by_template(notify_sim, reference)["staff needs attention (email)"]
    assert alert["to"] == STAFF_EMAIL

    # Notify retries a receipt it is not sure arrived: repeats change nothing.
    again = await relay(gateway, [receipt, receipt])
    assert [a.json() for a in again] == [{"recorded": True}] * 2
    await run_worker(gateway)
    async with gateway.sessions() as session:
        kinds = list(await session.scalars(select(RepairEvent.kind).where(RepairEvent.repair_id == row.id)))
    assert kinds.count("message_failed") == 1
    assert len(by_template(notify_sim, reference)["staff needs attention (email)"]) == 1


async def test_a_delivered_receipt_is_recorded_and_repeats_are_harmless(
    make_notify_gateway: GatewayBuilder, notify_sim: Notify
) -> None:
    gateway = await make_notify_gateway(send=["booking_confirmed"])
    reference = await book(gateway, (await later_windows(gateway))[0])
    await run_worker(gateway)
    receipts = await notify_sim.wait_receipts(1)
    assert [a.json() for a in await relay(gateway, receipts * 3)] == [{"recorded": True}] * 3
    (message,) = (await recorded(gateway)).values()
    assert message.state == "delivered"
    assert not (await repair_row(gateway, reference)).contact_failed


async def test_a_receipt_with_a_wrong_token_is_401_and_an_unknown_id_is_ignored(
    make_notify_gateway: GatewayBuilder, notify_sim: Notify
) -> None:
    gateway = await make_notify_gateway(send=["booking_confirmed"])
    await book(
        gateway, (await later_windows(gateway))[0], phone="07700 900002", name="X", preferredChannel="sms"
    )
    await run_worker(gateway)
    ((_, body),) = await notify_sim.wait_receipts(1)
    for authorization in ("Bearer not-the-token", None, RECEIPT_TOKEN):
        (answer,) = await relay(gateway, [(authorization, body)])
        assert answer.status_code == 401, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
    (message,) = (await recorded(gateway)).values()
    assert message.state == "sent", "a refused receipt changes nothing"

    unknown = json.dumps(
        json.loads(body) | {"id": "00000000-0000-4000-8000-000000000000", "reference": "not-ours"}
    ).encode()
    (answer,) = await relay(gateway, [(f"Bearer {RECEIPT_TOKEN}", unknown)])
    assert answer.status_code == 200 and answer.json() == {"recorded": False}
    (message,) = (await recorded(gateway)).values()
    assert message.state == "sent"
    async with gateway.sessions() as session:
        assert not any((await session.scalars(select(Repair.contact_failed))).all())


async def test_a_receipt_that_comes_before_the_send_is_recorded_is_not_overwritten(
    make_notify_gateway: GatewayBuilder, notify_sim: Notify
) -> None:
    """Notify may post a receipt before its answer to the send reaches the worker: the
    worker's "sent" must not overwrite the failure the receipt reported."""
    gateway = await make_notify_gateway(send=["booking_confirmed"])
    await notify_sim.control("POST", "hold", phase="after", count=1)
    gone = {"name": "Old Number", "phone": "07700 900002", "preferredChannel": "sms"}
    reference = await book(gateway, (await later_windows(gateway))[0], **gone)
    worker = asyncio.create_task(run_worker(gateway))
    await notify_sim.wait_held()
    receipts = await notify_sim.wait_receipts(1)  # the message failed while its answer was held
    assert [a.json() for a in await relay(gateway, receipts)] == [{"recorded": True}]
    await notify_sim.control("POST", "release")
    await worker
    (message,) = (await recorded(gateway)).values()
    assert message.state == "failed" and message.sender_id == notify_sim.messages()[0]["id"]
    assert (await repair_row(gateway, reference)).contact_failed
