"""A repair's life: its statuses, the moves allowed between them, and the intent a change
records before it touches a backend.

The transitions are said once, here; every write of a status goes through ``check_move``.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal


class RepairStatus(StrEnum):
    """Where a repair is in its life. ``booking`` and ``needs_attention`` are the gateway's
    own: a resident reads both as ``received`` (see ``public_status``)."""

    RECEIVED = "received"
    """Stored; no appointment (none asked, or the asked one waits for its backend)."""
    BOOKING = "booking"
    """A first booking is under way: its intent is stored, the backend is being asked."""
    BOOKED = "booked"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NEEDS_ATTENTION = "needs_attention"
    """A person must act: the asked window is gone, or a backend refused the repair, and no
    automatic choice is right (the gateway never picks another time for a resident)."""


S = RepairStatus
TRANSITIONS: dict[RepairStatus, frozenset[RepairStatus]] = {
    S.RECEIVED: frozenset({S.BOOKING, S.BOOKED, S.CANCELLED, S.NEEDS_ATTENTION}),
    S.BOOKING: frozenset({S.BOOKED, S.RECEIVED, S.CANCELLED, S.NEEDS_ATTENTION}),
    # A booked repair may be cancelled by the resident or the scheduler, started, or found
    # gone from the scheduler; a move keeps it booked.
    S.BOOKED: frozenset({S.BOOKED, S.IN_PROGRESS, S.COMPLETED, S.CANCELLED, S.NEEDS_ATTENTION}),
    S.IN_PROGRESS: frozenset({S.BOOKED, S.COMPLETED, S.CANCELLED}),
    S.NEEDS_ATTENTION: frozenset({S.BOOKING, S.BOOKED, S.CANCELLED}),
    S.COMPLETED: frozenset(),
    S.CANCELLED: frozenset(),
}
"""Every allowed move; staying put is allowed only where listed (a booked repair moved)."""

CLOSED = frozenset({S.COMPLETED, S.CANCELLED})
OPEN = frozenset(RepairStatus) - CLOSED


class IllegalTransition(Exception):
    """A status change the life cycle does not allow (a bug, never a caller's error)."""


def can_move(current: RepairStatus | str, to: RepairStatus | str) -> bool:
    """Whether a repair in ``current`` may move to ``to``."""
    return RepairStatus(to) in TRANSITIONS[RepairStatus(current)]


def check_move(current: RepairStatus | str, to: RepairStatus | str) -> RepairStatus:
    """``to``, once checked against the life cycle; raises ``IllegalTransition``."""
    if not can_move(current, to):
        raise IllegalTransition(f"a repair cannot go from {current} to {to}")
    return RepairStatus(to)


def public_status(status: RepairStatus | str) -> str:
    """The status a resident's front-end reads (the spec's five)."""
    status = RepairStatus(status)
    if status in (S.BOOKING, S.NEEDS_ATTENTION):
        return S.RECEIVED.value
    return status.value


Operation = Literal["book", "move", "cancel"]


@dataclass(frozen=True, slots=True)
class Intent:
    """What a change is about to do to a backend, stored before it is done, so that any
    process can finish or undo it after a crash.

    ``attempt`` names this try; ``scheduler`` and the window (``start``, ``end``, ``label``,
    ``ref``: the backend's own handle) say where a book or move goes. ``step`` is the part
    of a booking under way: ``works_order`` while a works order is being raised (which no
    backend can be asked about afterwards), ``booking`` once the scheduler is asked.
    """

    operation: Operation
    attempt: str
    scheduler: str | None = None
    start: datetime | None = None
    end: datetime | None = None
    label: str | None = None
    ref: str = ""
    step: str = ""

    @staticmethod
    def new_attempt() -> str:
        """A fresh attempt id."""
        return secrets.token_hex(8)

    def to_json(self) -> dict[str, Any]:
        """The intent as stored (a JSON column)."""
        raw = asdict(self)
        raw["start"] = self.start.isoformat() if self.start else None
        raw["end"] = self.end.isoformat() if self.end else None
        return raw

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Intent:
        """The intent as stored by ``to_json``."""
        return cls(
            operation=raw["operation"],
            attempt=raw["attempt"],
            scheduler=raw.get("scheduler"),
            start=datetime.fromisoformat(raw["start"]) if raw.get("start") else None,
            end=datetime.fromisoformat(raw["end"]) if raw.get("end") else None,
            label=raw.get("label"),
            ref=raw.get("ref") or "",
            step=raw.get("step") or "",
        )
