"""A repair's history: which events a change of status or appointment makes, and the words a
resident reads for each. Nothing internal (backend errors, staff notes) is ever in them."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from repairs_gateway.domain.clock import between
from repairs_gateway.domain.repair import RepairStatus


class EventKind(StrEnum):
    """What happened."""

    REPORTED = "reported"
    BOOKED = "booked"
    MOVED = "moved"
    REMINDER_SENT = "reminder_sent"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    MESSAGE_FAILED = "message_failed"
    JOINED = "joined"
    NEEDS_ATTENTION = "needs_attention"
    """Staff only: the resident reads nothing new (they were told "we will contact you")."""


RESIDENT_EVENTS = frozenset(EventKind) - {EventKind.NEEDS_ATTENTION}

S = RepairStatus
_ON_ARRIVAL = {
    S.BOOKED: EventKind.BOOKED,
    S.IN_PROGRESS: EventKind.IN_PROGRESS,
    S.COMPLETED: EventKind.COMPLETED,
    S.CANCELLED: EventKind.CANCELLED,
    S.NEEDS_ATTENTION: EventKind.NEEDS_ATTENTION,
}
Window = tuple[datetime | None, datetime | None]


def window_detail(window: Window, label: str | None) -> dict[str, Any]:
    """An event's detail naming an appointment window."""
    start, end = window
    if start is None or end is None:
        return {}
    return {"start": start.isoformat(), "end": end.isoformat(), "label": label or ""}


def events_for(
    before: str, after: str, old_window: Window, new_window: Window, label: str | None
) -> list[tuple[EventKind, dict[str, Any]]]:
    """The events a change from (``before``, ``old_window``) to (``after``, ``new_window``)
    makes. A booking moved to another window is ``moved``; an in-progress repair going back
    to booked (the scheduler's own correction) makes none."""
    old, new = RepairStatus(before), RepairStatus(after)
    detail = window_detail(new_window, label)
    if old == new:
        if new == S.BOOKED and new_window != old_window and None not in new_window:
            return [(EventKind.MOVED, detail)]
        return []
    if new == S.BOOKED and old == S.IN_PROGRESS:
        return [(EventKind.MOVED, detail)] if new_window != old_window else []
    kind = _ON_ARRIVAL.get(new)
    if kind is None:
        return []
    return [(kind, detail if kind in (EventKind.BOOKED, EventKind.IN_PROGRESS) else {})]


def describe(kind: str, detail: dict[str, Any], zone: ZoneInfo) -> str:
    """The words a resident reads for an event."""
    when = _when(detail, zone)
    words = {
        EventKind.REPORTED: "You reported the repair.",
        EventKind.BOOKED: f"An appointment was booked for {when}." if when else "An appointment was booked.",
        EventKind.MOVED: f"The appointment moved to {when}." if when else "The appointment moved.",
        EventKind.REMINDER_SENT: "We sent you a reminder of the appointment.",
        EventKind.IN_PROGRESS: "The operative has started work.",
        EventKind.COMPLETED: "The repair was completed.",
        EventKind.CANCELLED: "The repair was cancelled.",
        EventKind.MESSAGE_FAILED: "We could not send you a message: please check your contact details.",
        EventKind.JOINED: "Another resident reported the same problem; they will be kept informed too.",
        EventKind.NEEDS_ATTENTION: "We will contact you to arrange a time.",
    }
    return words.get(EventKind(kind), "")


def _when(detail: dict[str, Any], zone: ZoneInfo) -> str:
    if not detail.get("start") or not detail.get("end"):
        return ""
    start = datetime.fromisoformat(detail["start"]).astimezone(zone)
    end = datetime.fromisoformat(detail["end"]).astimezone(zone)
    return between(start, end)
