"""Naming and filtering the windows a scheduler offers."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, time
from typing import Protocol

from repairs_gateway.domain.clock import span

NOON = time(12, 0)


class NamedWindow(Protocol):
    """A window a council names (``config.schema.WindowLabel`` is one): only backend slots
    that match one exactly are offered, under its label."""

    @property
    def label(self) -> str: ...
    @property
    def start(self) -> time: ...
    @property
    def end(self) -> time: ...


def default_label(start: datetime, end: datetime) -> str:
    """A plain label for a window the council has not named."""
    if end.time() <= NOON:
        return "Morning"
    if start.time() >= NOON:
        return "Afternoon"
    if (end - start).total_seconds() >= 6 * 3600:
        return "All day"
    return span(start, end)


def label_for(start: datetime, end: datetime, allowed: Sequence[NamedWindow]) -> str | None:
    """The window's label, or None when the council lists windows and this is not one.

    ``start`` and ``end`` must be in the council's local time.
    """
    if not allowed:
        return default_label(start, end)
    for window in allowed:
        if window.start == start.time() and window.end == end.time():
            return window.label
    return None
