"""Sending what a repair's events call for: confirmations, reminders and staff emails, from
the work queue and never from a request.

Each message has a key unique per repair, kind and event (or appointment, for reminders),
and is recorded as ``sending`` before the sender is called: a worker that dies between the
two leaves that record, and whoever tries again asks the sender whether the message went
(``SentMessageFinder``) before sending. So a message goes at most once, survives a restart,
and is retried on a sender's 429 or 5xx; a refusal (400) is not retried and is shown to staff.
"""

from __future__ import annotations

import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.domain import clock
from repairs_gateway.domain.history import EventKind
from repairs_gateway.domain.messages import (
    FOR_RESIDENTS,
    FOR_STAFF,
    STAFF_KINDS,
    MessageKind,
    channel_for,
    quiet_until,
    reminder_at,
)
from repairs_gateway.persistence.models import Message, Repair, RepairContact, RepairEvent, utcnow
from repairs_gateway.persistence.queue import NewJob, add_jobs
from repairs_gateway.persistence.repair_store import record_events
from repairs_gateway.ports import AdapterError, BackendRejected, DeliveryReceipt, OutgoingMessage
from repairs_gateway.runtime import CouncilRuntime

log = logging.getLogger("repairs_gateway.messages")
REMIND_JOB = "remind"
SENT, DELIVERED, FAILED, SENDING = "sent", "delivered", "failed", "sending"
STATUS_WORDS = {"in_progress": "in progress", "completed": "completed"}


class SendLater(Exception):
    """The message cannot go now; try again in ``seconds`` (quiet hours, a sender down)."""

    def __init__(self, reason: str, seconds: float | None = None) -> None:
        super().__init__(reason)
        self.seconds = seconds


@dataclass(frozen=True, slots=True)
class Recipient:
    """Who a message goes to: ``who`` names them in the message key."""

    who: str
    name: str
    channel: str
    address: str | None


@dataclass(frozen=True, slots=True)
class Planned:
    """A message to send."""

    key: str
    kind: MessageKind
    recipient: Recipient
    personalisation: dict[str, str]


PAUSE_BASE_SECONDS = 1.0
PAUSE_CAP_SECONDS = 10.0
PAUSE_JITTER_SECONDS = 1.0


class SenderPauses:
    """When a council's sender answers "not now" (a 429, a 5xx, no answer), every message of
    that council waits a while, in this process, instead of each job trying on its own
    backoff. Without it a sender's rate limit is never left: Notify counts the refused
    requests too, so hundreds of jobs retrying each on its own keep its window full and
    nothing more is sent (``bench/notify_throughput.py`` showed this). The pause doubles
    while the sender keeps refusing (to ``PAUSE_CAP_SECONDS``) and ends at its first success;
    at most the sends already under way when it starts meet the refusal."""

    def __init__(self) -> None:
        self._until: dict[str, float] = {}
        self._strikes: dict[str, int] = {}

    def remaining(self, council_id: str) -> float:
        """Seconds the council's sender is still paused for (0: not paused)."""
        return max(0.0, self._until.get(council_id, 0.0) - time.monotonic())

    def refused(self, council_id: str) -> None:
        """The sender refused for now: pause, longer if it refused after the last pause."""
        if self.remaining(council_id) > 0:
            return  # sends under way when the pause began: the same refusal
        strikes = self._strikes.get(council_id, 0) + 1
        self._strikes[council_id] = strikes
        pause = min(PAUSE_CAP_SECONDS, PAUSE_BASE_SECONDS * 2 ** (strikes - 1))
        self._until[council_id] = time.monotonic() + pause

    def succeeded(self, council_id: str) -> None:
        self._strikes.pop(council_id, None)
        self._until.pop(council_id, None)


class MessageService:
    """Plans, sends and follows up messages."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._pauses = SenderPauses()

    # ------------------------------------------------------------------ events

    async def on_event(self, council: CouncilRuntime, event_id: int) -> None:
        """Send what the event calls for, and queue the reminder of a new appointment.
        Raises ``SendLater`` when some of it must wait; what went is not sent again."""
        async with self._sessions() as session:
            event = await session.get(RepairEvent, event_id)
            repair = await session.get(Repair, event.repair_id) if event else None
            if event is None or repair is None:
                return
            contacts = await _contacts(session, repair)
        kind = EventKind(event.kind)
        spec = council.spec.notifications
        planned: list[Planned] = []
        resident_kind = FOR_RESIDENTS.get(kind)
        if resident_kind in spec.send and resident_kind is not None:
            details = _personalisation(council, repair, event.detail)
            planned += [
                Planned(
                    f"{resident_kind}:{repair.id}:{event.id}:{r.who}",
                    resident_kind,
                    r,
                    details | {"name": r.name},
                )
                for r in contacts
            ]
        staff_kind = FOR_STAFF.get(kind)
        if staff_kind is not None and staff_kind in spec.send and spec.staff_email:
            staff = Recipient("staff", "Repairs team", "email", spec.staff_email)
            details = _personalisation(council, repair, event.detail) | {"reason": _reason(kind, repair)}
            planned.append(Planned(f"{staff_kind}:{repair.id}:{event.id}:staff", staff_kind, staff, details))
        for message in planned:
            await self._send_once(council, repair, message)
        if kind in (EventKind.BOOKED, EventKind.MOVED):
            await self._queue_reminder(council, repair)

    async def _queue_reminder(self, council: CouncilRuntime, repair: Repair) -> None:
        spec = council.spec.notifications
        if MessageKind.REMINDER not in spec.send or repair.window_start is None:
            return
        due = reminder_at(repair.window_start, council.zone, spec.reminder.days_before, spec.reminder.at)
        wait = (due - utcnow()).total_seconds()
        if wait <= 0 or due >= repair.window_start:
            return  # booked after the reminder's moment: the confirmation says it all
        start = repair.window_start.isoformat()
        async with self._sessions.begin() as session:
            await add_jobs(
                session,
                [
                    NewJob(
                        REMIND_JOB,
                        f"remind:{repair.id}:{start}",
                        council_id=council.spec.id,
                        repair_id=repair.id,
                        payload={"start": start},
                        delay_seconds=wait,
                    )
                ],
            )

    async def remind(self, council: CouncilRuntime, repair_id: int, start: str) -> None:
        """Send the reminder of the appointment starting at ``start``, if the repair is still
        booked then (a moved or cancelled repair's old reminder does nothing)."""
        async with self._sessions() as session:
            repair = await session.get(Repair, repair_id)
            if repair is None or repair.status != "booked" or repair.window_start is None:
                return
            if repair.window_start != datetime.fromisoformat(start):
                return
            contacts = await _contacts(session, repair)
        details = _personalisation(council, repair, {})
        sent = False
        for r in contacts:
            message = Planned(
                f"reminder:{repair.id}:{start}:{r.who}", MessageKind.REMINDER, r, details | {"name": r.name}
            )
            sent = await self._send_once(council, repair, message) or sent
        if sent:
            async with self._sessions.begin() as session:
                session.add(
                    RepairEvent(
                        repair_id=repair.id, kind=EventKind.REMINDER_SENT.value, detail={}, at=utcnow()
                    )
                )

    # ------------------------------------------------------------------ sending

    async def _send_once(self, council: CouncilRuntime, repair: Repair, message: Planned) -> bool:
        """Send ``message`` unless it went already; whether it was sent now."""
        notifier = council.notifier
        recipient = message.recipient
        if notifier is None or not recipient.address:
            return False
        spec = council.spec.notifications
        if recipient.channel == "sms" and spec.quiet_hours is not None:
            until = quiet_until(utcnow(), council.zone, spec.quiet_hours.start, spec.quiet_hours.end)
            if until is not None:
                raise SendLater("quiet hours for texts", (until - utcnow()).total_seconds())
        paused = self._pauses.remaining(council.spec.id)
        if paused > 0:
            # Spread the waiting messages over a second, so they do not all try at once.
            raise SendLater(
                "the sender asked us to wait (rate limit or outage)",
                paused + random.uniform(0, PAUSE_JITTER_SECONDS),
            )
        async with self._sessions.begin() as session:
            row = await session.scalar(select(Message).where(Message.key == message.key))
            if row is None:
                session.add(
                    Message(
                        key=message.key,
                        repair_id=repair.id,
                        council_id=council.spec.id,
                        kind=message.kind.value,
                        channel=recipient.channel,
                        recipient=recipient.address,
                        state=SENDING,
                    )
                )
                earlier_try = False
            elif row.state != SENDING:
                return False  # it went (or was refused) already
            else:
                earlier_try = True
        if earlier_try and notifier.can_find:
            # A try died between sending and recording: ask before sending again.
            try:
                found = await notifier.find_sent(message.key)
            except AdapterError as exc:
                raise SendLater(f"could not ask the sender: {exc}") from exc
            if found is not None:
                await self._mark_sent(message.key, found.id)
                return False
        template = spec.templates.get(message.kind.value, {}).get(recipient.channel) or message.kind.value  # type: ignore[call-overload]
        outgoing = OutgoingMessage(
            council.spec.id,
            message.kind.value,
            "email" if recipient.channel == "email" else "sms",
            recipient.address,
            template,
            message.personalisation,
            message.key,
        )
        try:
            sent = await notifier.send(outgoing)
        except BackendRejected as exc:
            await self._mark(message.key, state=FAILED, error=f"{exc} ({exc.detail})")
            log.warning("message %s refused: %s (%s)", message.key, exc, exc.detail)
            if message.kind not in STAFF_KINDS:
                await self.contact_failed(repair.id)
            return False
        except AdapterError as exc:
            self._pauses.refused(council.spec.id)
            raise SendLater(f"{message.kind} not sent: {exc} ({exc.detail})") from exc
        self._pauses.succeeded(council.spec.id)
        await self._mark_sent(message.key, sent.id)
        return True

    async def _mark(self, key: str, **values: Any) -> None:
        async with self._sessions.begin() as session:
            await session.execute(
                update(Message).where(Message.key == key).values(updated_at=utcnow(), **values)
            )

    async def _mark_sent(self, key: str, sender_id: str) -> None:
        """Record the sender's id, and ``sent`` unless a delivery receipt came first (the
        sender may report the outcome before its answer to the send reaches us)."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Message).where(Message.key == key).values(updated_at=utcnow(), sender_id=sender_id)
            )
            await session.execute(
                update(Message).where(Message.key == key).where(Message.state == SENDING).values(state=SENT)
            )

    async def contact_failed(self, repair_id: int) -> None:
        """A resident could not be reached: flag the repair for staff, once, with an event
        (which emails staff where the council has that on)."""
        async with self._sessions.begin() as session:
            flagged = await session.execute(
                update(Repair)
                .where(Repair.id == repair_id)
                .where(Repair.contact_failed.is_(False))
                .values(contact_failed=True)
            )
            if flagged.rowcount == 1:  # type: ignore[attr-defined]
                repair = await session.get(Repair, repair_id)
                assert repair is not None
                await record_events(session, repair, [(EventKind.MESSAGE_FAILED, {})])

    # ------------------------------------------------------------------ receipts

    async def receipt(self, receipt: DeliveryReceipt) -> bool:
        """Record a delivery receipt; whether it named a message of ours. Repeating one is
        harmless; a permanent failure puts the repair in front of staff."""
        async with self._sessions() as session:
            row = await session.scalar(select(Message).where(Message.sender_id == receipt.sender_id))
            if row is None and receipt.reference:
                row = await session.scalar(select(Message).where(Message.key == receipt.reference))
        if row is None:
            return False
        if receipt.status == "delivered":
            if row.state != FAILED:
                await self._mark(row.key, state=DELIVERED)
            return True
        if row.state != FAILED:
            await self._mark(row.key, state=FAILED, error=receipt.status)
        if receipt.status == "permanent-failure" and row.repair_id and row.kind not in STAFF_KINDS:
            await self.contact_failed(row.repair_id)
        return True


async def _contacts(session: AsyncSession, repair: Repair) -> list[Recipient]:
    """The resident who reported the repair, then those who joined it."""
    first = Recipient(
        "resident",
        repair.contact_name,
        channel_for(repair.preferred_channel),
        repair.contact_email if channel_for(repair.preferred_channel) == "email" else repair.contact_phone,
    )
    joined = await session.scalars(select(RepairContact).where(RepairContact.repair_id == repair.id))
    others = [
        Recipient(
            f"contact{c.id}",
            c.name,
            channel_for(c.preferred_channel),
            c.email if channel_for(c.preferred_channel) == "email" else c.phone,
        )
        for c in joined
    ]
    return [first, *others]


def _personalisation(council: CouncilRuntime, repair: Repair, detail: dict[str, Any]) -> dict[str, str]:
    """What a template may name, as text."""
    zone = council.zone
    start = datetime.fromisoformat(detail["start"]) if detail.get("start") else repair.window_start
    end = datetime.fromisoformat(detail["end"]) if detail.get("end") else repair.window_end
    date_text = time_text = when = ""
    if start is not None and end is not None:
        start, end = start.astimezone(zone), end.astimezone(zone)
        date_text, time_text, when = clock.day(start), clock.span(start, end), clock.between(start, end)
    return {
        "reference": repair.reference,
        "name": repair.contact_name,
        "council": council.spec.name,
        "appointment": when,
        "date": date_text,
        "time": time_text,
        "window": repair.window_label or "",
        "status": STATUS_WORDS.get(repair.status, repair.status.replace("_", " ")),
        "description": repair.description,
        "repair": repair.description,
        "uprn": repair.uprn,
        "address": ", ".join(repair.address_lines or []),
        "phone": repair.contact_phone or "",
        "contact_number": repair.contact_phone or "",
        "email": repair.contact_email or "",
        "sor_code": repair.sor_code or "",
        "trade": repair.trade,
    }


def _reason(kind: EventKind, repair: Repair) -> str:
    if kind == EventKind.MESSAGE_FAILED:
        return "We could not reach the resident by their preferred channel."
    if kind == EventKind.NEEDS_ATTENTION:
        return repair.backend_note or "The repair needs a person."
    return "A new repair was reported."
