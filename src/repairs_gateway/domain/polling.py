"""How often the worker asks a scheduler for a booking's status: often near the appointment,
rarely weeks ahead or long after it, never once the repair is closed.

A booking is asked about every ``FAR`` (a day) while its appointment is more than a week
ahead, every ``SOON`` (3 hours) within the week, and every ``NEAR`` (15 minutes) from the
day before the appointment until the day after it, and while work is under way (however
early it started). An appointment, or work, that began more than a day ago without the
scheduler closing it is asked about every ``SOON`` again, and after a week every ``FAR``:
someone has forgotten it, and asking every quarter of an hour will not make them remember.
A poll that could not reach the scheduler tries again at the next poll time, but never later
than ``SOON``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from repairs_gateway.domain.repair import RepairStatus

NEAR = timedelta(minutes=15)
"""From a day before the appointment to a day after it, and while work is under way."""
SOON = timedelta(hours=3)
"""Within a week either side of the appointment."""
FAR = timedelta(hours=24)
"""Further ahead, or long past."""
HELD = timedelta(minutes=1)
"""Another change held the repair when the poll came: ask again shortly after."""

_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)


def next_poll_at(now: datetime, status: str, start: datetime | None) -> datetime | None:
    """When to ask next about a repair in ``status`` whose appointment starts at ``start``;
    None when there is nothing to ask (not booked, or closed)."""
    status = RepairStatus(status)
    if status not in (RepairStatus.BOOKED, RepairStatus.IN_PROGRESS):
        return None
    working = status == RepairStatus.IN_PROGRESS
    if start is None:
        return now + (NEAR if working else SOON)
    ahead = start - now
    if not working and ahead > _WEEK:
        return now + FAR
    if not working and ahead > _DAY:
        return now + SOON
    past = -ahead  # work under way, or the appointment is within a day
    if past <= _DAY:
        return now + NEAR
    return now + (SOON if past <= _WEEK else FAR)


def retry_poll_at(now: datetime, status: str, start: datetime | None) -> datetime | None:
    """When to ask again after a poll that could not reach the scheduler: at the usual
    time, but no later than ``SOON`` from now (never at once: a backend that is down is not
    asked in a loop)."""
    usual = next_poll_at(now, status, start)
    return None if usual is None else min(usual, now + SOON)
