"""Appointment offers: Totalmobile's named time-of-day bands, read as the gateway's windows.

An offer names a day and a band (``AM``, ``PM``, ``AD``...); the installation's band
table (the ``time_bands`` setting) gives its local times, so an offer becomes a ``Slot``
with timezone-aware start and end and the offer's handle as ``ref``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from repairs_gateway.ports import Slot

from .settings import Band

log = logging.getLogger(__name__)

MAX_REF = 200


class BadOffersError(ValueError):
    """An offers answer of the wrong shape."""


@dataclass(frozen=True, slots=True)
class Offer:
    """One appointment offer: its handle, its day and its band's name."""

    reference: str
    day: date
    band: str


def read_offers(body: Any) -> list[Offer]:
    """The offers of an answer; ``BadOffersError`` if it is not of their shape."""
    if not isinstance(body, dict) or not isinstance(body.get("offers"), list):
        raise BadOffersError("no offers list")
    offers: list[Offer] = []
    for item in body["offers"]:
        if not isinstance(item, dict):
            raise BadOffersError(f"an offer is not an object: {item!r}"[:200])
        identity, day, band = item.get("identity"), item.get("date"), item.get("timeBand")
        reference = identity.get("reference") if isinstance(identity, dict) else None
        name = band.get("name") if isinstance(band, dict) else None
        if not isinstance(reference, str) or not reference or len(reference) > MAX_REF:
            raise BadOffersError(f"an offer without a usable identity.reference: {item!r}"[:200])
        if not isinstance(day, str) or not isinstance(name, str):
            raise BadOffersError(f"offer {reference}: no date or timeBand.name")
        try:
            when = date.fromisoformat(day)
        except ValueError:
            raise BadOffersError(f"offer {reference}: date {day!r}") from None
        offers.append(Offer(reference, when, name))
    return offers


def window(
    day: date, band_name: str, bands: Mapping[str, Band], zone: ZoneInfo
) -> tuple[datetime, datetime] | None:
    """The local window of a band on a day, or None for a band the settings do not name."""
    band = bands.get(band_name.strip().upper())
    if band is None:
        return None
    return datetime.combine(day, band.start, zone), datetime.combine(day, band.end, zone)


def to_slots(
    offers: list[Offer],
    bands: Mapping[str, Band],
    zone: ZoneInfo,
    first: date,
    last: date,
    now: datetime,
) -> list[Slot]:
    """The offers on the asked days whose window has not begun, as windows."""
    slots: list[Slot] = []
    for offer in offers:
        if not first <= offer.day <= last:
            continue
        times = window(offer.day, offer.band, bands, zone)
        if times is None:
            # A band the council's settings do not name cannot be shown with its times;
            # leaving it out costs one window, guessing its times would mislead a resident.
            log.warning(
                "Totalmobile offered time band %r, which time_bands does not name", offer.band
            )
            continue
        start, end = times
        if start <= now:
            continue
        slots.append(Slot(start, end, ref=offer.reference))
    return slots
