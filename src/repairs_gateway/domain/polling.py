"""How often the worker asks a scheduler for a booking's status: often near the appointment,
rarely weeks ahead, never once the repair is closed."""

from __future__ import annotations

from datetime import datetime, timedelta

from repairs_gateway.domain.repair import RepairStatus

NEAR = timedelta(minutes=15)
"""Within a day of the appointment, and while work is under way."""
SOON = timedelta(hours=3)
"""Within a week."""
FAR = timedelta(hours=24)
"""Further ahead."""


def next_poll_at(now: datetime, status: str, start: datetime | None) -> datetime | None:
    """When to ask next about a repair in ``status`` whose appointment starts at ``start``;
    None when there is nothing to ask (not booked, or closed)."""
    status = RepairStatus(status)
    if status == RepairStatus.IN_PROGRESS:
        return now + NEAR
    if status != RepairStatus.BOOKED:
        return None
    if start is None:
        return now + SOON
    ahead = start - now
    if ahead <= timedelta(days=1):
        return now + NEAR
    if ahead <= timedelta(days=7):
        return now + SOON
    return now + FAR
