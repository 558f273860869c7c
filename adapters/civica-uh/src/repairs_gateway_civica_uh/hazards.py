"""Cautionary alerts and asbestos hazards from UH's property service."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from repairs_gateway.ports import BackendRejected, Hazard, NotFound

from .client import Reply, UhClient
from .errors import is_property_not_found

REFUSED = "The housing system would not give the hazards recorded at this property."
NO_PROPERTY = "The housing system does not know this property."


async def hazards_of(client: UhClient, property_ref: str) -> list[Hazard]:
    """Alerts (``GetPropertyAlerts``) then asbestos (``GetPropertyAsbestosHazards``),
    both asked at once."""
    alerts, asbestos = await asyncio.gather(
        client.call("GetPropertyAlerts", PropertyReference=property_ref),
        client.call("GetPropertyAsbestosHazards", PropertyReference=property_ref),
    )
    found = [
        Hazard(
            kind="alert",
            code=_text(item.get("Category")) or _text(item.get("Reference")) or "ALERT",
            description=_text(item.get("Description")) or "Alert without a description",
        )
        for item in _items(alerts, "KeyObjectAlertMessages", "KeyObjectAlertMessageDto")
    ]
    for item in _items(asbestos, "PropertyHazardList", "PropertyHazardInfo"):
        description = _text(item.get("HazardDescription")) or "Asbestos"
        advice = _text(item.get("HazardAdvise"))
        found.append(
            Hazard(
                kind="asbestos",
                code=_text(item.get("HazardReference")) or "ASB",
                description=f"{description}. Advice: {advice}" if advice else description,
            )
        )
    return found


def _items(reply: Reply, holder: str, item: str) -> Sequence[Mapping[str, Any]]:
    if not reply.success:
        if is_property_not_found(reply):
            raise NotFound(NO_PROPERTY, detail=reply.describe())
        raise BackendRejected(REFUSED, detail=reply.describe())
    listed = reply.body.get(holder) or {}
    items = listed.get(item) if isinstance(listed, Mapping) else None
    return [entry for entry in items or [] if isinstance(entry, Mapping)]


def _text(value: Any) -> str | None:
    text = str(value).strip() if value is not None else ""
    return text or None
