"""Cautionary alerts and asbestos records, both ways: read from Northgate as the ports'
``Hazard``, and written into a works order for the operative."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from repairs_gateway.ports import Hazard, HazardKind

from .wire import CautionaryAlert

ASBESTOS_CATEGORY = "ASBESTOS"
"""The alert category that is an asbestos record; every other category is a cautionary alert."""

WIRE_TYPES: dict[HazardKind, str] = {"alert": "CAUTIONARY", "asbestos": "ASBESTOS", "unread": "UNCHECKED"}
"""How each kind of hazard is typed in a works order's ``Hazards`` (assumed codes)."""


def hazards_from(alerts: Iterable[CautionaryAlert], today: date) -> tuple[Hazard, ...]:
    """The alerts in force today (started, not ended), as hazards in the backend's order."""
    hazards: list[Hazard] = []
    for alert in alerts:
        if alert.StartDate is not None and alert.StartDate > today:
            continue
        if alert.EndDate is not None and alert.EndDate < today:
            continue
        kind: HazardKind = "asbestos" if alert.Category.strip().upper() == ASBESTOS_CATEGORY else "alert"
        description = (alert.AlertType.Description or alert.AlertType.ID).strip()
        if alert.Comment and alert.Comment.strip():
            description = f"{description}: {alert.Comment.strip()}"
        location = alert.Location.strip() if alert.Location and alert.Location.strip() else None
        hazards.append(Hazard(kind, alert.AlertType.ID.strip(), description, location))
    return tuple(hazards)


def hazards_field(hazards: Sequence[Hazard]) -> list[dict[str, Any]]:
    """The works order's structured ``Hazards`` list."""
    return [
        {"Type": WIRE_TYPES[h.kind], "Code": h.code, "Description": h.description, "Location": h.location}
        for h in hazards
    ]


def hazard_notes(hazards: Sequence[Hazard]) -> str | None:
    """The same hazards as text for ``OperativeNotes``, which every installation shows on the
    operative's job sheet even where it has no structured hazards field."""
    if not hazards:
        return None
    lines = ["HAZARDS - check before visiting:"]
    for h in hazards:
        where = f" ({h.location})" if h.location else ""
        lines.append(f"- {WIRE_TYPES[h.kind]} {h.code}: {h.description}{where}")
    return "\n".join(lines)
