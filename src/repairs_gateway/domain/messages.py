"""Which messages a repair's events call for, to whom, and when: pure rules, no sending.

Residents are told when a repair is booked, moved or cancelled, when work starts or ends
(where the council turns that on), and reminded before the appointment; staff get an email
for every new repair and for every repair that needs a person.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from repairs_gateway.domain.history import EventKind


class MessageKind(StrEnum):
    """What a message says."""

    BOOKING_CONFIRMED = "booking_confirmed"
    APPOINTMENT_MOVED = "appointment_moved"
    REPAIR_CANCELLED = "repair_cancelled"
    REMINDER = "reminder"
    STATUS_CHANGED = "status_changed"
    STAFF_NEW_REPAIR = "staff_new_repair"
    STAFF_NEEDS_ATTENTION = "staff_needs_attention"


STAFF_KINDS = frozenset({MessageKind.STAFF_NEW_REPAIR, MessageKind.STAFF_NEEDS_ATTENTION})
RESIDENT_KINDS = frozenset(MessageKind) - STAFF_KINDS

FOR_RESIDENTS: dict[EventKind, MessageKind] = {
    EventKind.BOOKED: MessageKind.BOOKING_CONFIRMED,
    EventKind.MOVED: MessageKind.APPOINTMENT_MOVED,
    EventKind.CANCELLED: MessageKind.REPAIR_CANCELLED,
    EventKind.IN_PROGRESS: MessageKind.STATUS_CHANGED,
    EventKind.COMPLETED: MessageKind.STATUS_CHANGED,
}
"""The message residents get for an event."""

FOR_STAFF: dict[EventKind, MessageKind] = {
    EventKind.REPORTED: MessageKind.STAFF_NEW_REPAIR,
    EventKind.NEEDS_ATTENTION: MessageKind.STAFF_NEEDS_ATTENTION,
    EventKind.MESSAGE_FAILED: MessageKind.STAFF_NEEDS_ATTENTION,
}
"""The email staff get for an event."""


def channel_for(preferred: str) -> str:
    """The channel a resident's messages go by: email for email, texts otherwise (a resident
    who prefers a call still gets the text of their booking)."""
    return "email" if preferred == "email" else "sms"


def reminder_at(start: datetime, zone: ZoneInfo, days_before: int, at: time) -> datetime:
    """When the reminder of an appointment starting at ``start`` goes: ``days_before`` days
    before it, at ``at`` local time."""
    day: date = start.astimezone(zone).date() - timedelta(days=days_before)
    return datetime.combine(day, at, tzinfo=zone)


def quiet_until(now: datetime, zone: ZoneInfo, start: time, end: time) -> datetime | None:
    """When quiet hours (``start`` to ``end`` local time, possibly over midnight) end, if
    ``now`` is inside them; None otherwise."""
    local = now.astimezone(zone)
    clock = local.time()
    inside = start <= clock < end if start < end else (clock >= start or clock < end)
    if not inside:
        return None
    day = local.date() if clock < end else local.date() + timedelta(days=1)
    return datetime.combine(day, end, tzinfo=zone)
