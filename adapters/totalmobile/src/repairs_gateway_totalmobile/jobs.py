"""Totalmobile jobs: the JSON the adaptor sends for a repair or an availability quote,
and what it reads back (the job's state and its appointment)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from repairs_gateway.ports import Address, BookingRequest, BookingStatus, Contact, Hazard, Job

from .settings import TotalmobileSettings

QUOTE_PREFIX = "QUOTE-"
"""References of the unallocated jobs the adaptor asks offers for (see ``quote_reference``)."""

MAX_DESCRIPTION = 2000

STATES: Mapping[str, BookingStatus] = {
    "unallocated": BookingStatus.BOOKED,  # promised a band, no operative chosen yet
    "allocated": BookingStatus.BOOKED,
    "dispatched": BookingStatus.BOOKED,
    "accepted": BookingStatus.BOOKED,
    "travelling": BookingStatus.IN_PROGRESS,
    "onsite": BookingStatus.IN_PROGRESS,
    "suspended": BookingStatus.IN_PROGRESS,  # paused on site, e.g. waiting for parts
    "completed": BookingStatus.COMPLETED,
    "cancelled": BookingStatus.CANCELLED,
}
"""Each Totalmobile job state (compared without case) and what it means to a resident."""


@dataclass(frozen=True, slots=True)
class Appointment:
    """The offer a job holds: its handle, its day and its time band's name."""

    offer: str
    day: date
    band: str


@dataclass(frozen=True, slots=True)
class JobView:
    """What the adaptor reads of a job Totalmobile answers."""

    reference: str
    state: str
    location: str
    appointment: Appointment | None


class BadJobError(ValueError):
    """A job answer of the wrong shape."""


def quote_reference(
    council_id: str, address: Address, job: Job, settings: TotalmobileSettings
) -> str:
    """The reference of the quote job for this property and kind of job: the same for
    every resident and every gateway process that asks, so one job serves them all."""
    key = "|".join(
        [
            council_id,
            settings.world_id,
            _location_ref(address),
            settings.work_type(job.trade),
            ",".join(sorted(settings.skills_for(job.trade))),
            str(job.duration_minutes),
        ]
    )
    return QUOTE_PREFIX + hashlib.sha256(key.encode()).hexdigest()[:20].upper()


def quote_job(
    reference: str, address: Address, job: Job, settings: TotalmobileSettings, until: date
) -> dict[str, Any]:
    """An unallocated job asked offers for, never booked: it shows planners it is a quote."""
    return _job(
        reference=reference,
        description="Availability quote for online repair booking; never visited.",
        address=address,
        job=job,
        settings=settings,
        due=datetime.combine(until, time(23, 59), UTC),
        contact=Contact("Availability quote"),
        extra={"Purpose": "AvailabilityQuote"},
    )


def repair_job(
    request: BookingRequest, settings: TotalmobileSettings, due: datetime
) -> dict[str, Any]:
    """The job of a repair: our reference as its identity, the housing system's works order
    and the hazards for the operative among its properties."""
    extra = {
        "RepairReference": request.reference,
        "Priority": str(int(request.job.priority)),
        "Uprn": request.address.uprn,
    }
    if request.works_order_ref:
        extra["WorksOrderReference"] = request.works_order_ref
    if request.job.sor_code:
        extra["SorCode"] = request.job.sor_code
    if request.contact.phone:
        extra["ContactPhone"] = request.contact.phone
    if request.hazards:
        extra["Hazards"] = hazard_text(request.hazards)
    description = request.description.strip() or f"Repair {request.reference} reported online"
    if request.hazards:
        # First on the operative's screen, before the resident's words.
        description = f"HAZARDS: {hazard_text(request.hazards)}\n\n{description}"
    return _job(
        reference=request.reference,
        description=description[:MAX_DESCRIPTION],
        address=request.address,
        job=request.job,
        settings=settings,
        due=due,
        contact=request.contact,
        extra=extra,
    )


def hazard_text(hazards: tuple[Hazard, ...]) -> str:
    """The hazards in one line each, for operatives."""
    lines = []
    for hazard in hazards:
        where = f" ({hazard.location})" if hazard.location else ""
        lines.append(f"[{hazard.kind} {hazard.code}] {hazard.description}{where}")
    return "; ".join(lines)


def _job(
    *,
    reference: str,
    description: str,
    address: Address,
    job: Job,
    settings: TotalmobileSettings,
    due: datetime,
    contact: Contact,
    extra: Mapping[str, str],
) -> dict[str, Any]:
    lines = [line.strip() for line in address.lines if line.strip()] or [address.postcode]
    # Four address lines are known; the rest are kept, joined, in the fourth.
    detail: dict[str, Any] = {
        "addressLine1": lines[0],
        "addressLine2": lines[1] if len(lines) > 1 else "",
        "addressLine3": lines[2] if len(lines) > 2 else "",
        "addressLine4": ", ".join(lines[3:]),
        "postCode": address.postcode,
    }
    return {
        "identity": {"reference": reference},
        "description": description,
        "origin": settings.origin,
        "duration": job.duration_minutes,
        "workType": settings.work_type(job.trade),
        "skills": [{"identity": {"reference": s}} for s in settings.skills_for(job.trade)],
        "dueDate": {"end": due.astimezone(UTC).isoformat().replace("+00:00", "Z")},
        "location": {
            "reference": _location_ref(address),
            "address": ", ".join([*lines, address.postcode]),
            "addressDetail": detail,
        },
        "contact": {"name": contact.name.strip() or "Resident"},
        "attributes": [],
        "additionalProperties": [{"name": k, "value": v} for k, v in extra.items()],
    }


def _location_ref(address: Address) -> str:
    return address.property_ref or address.uprn


def location_ref(address: Address) -> str:
    """The job's location reference: the housing system's property reference, or the UPRN."""
    return _location_ref(address)


def read_job(body: Any) -> JobView:
    """The reference, state, location and appointment of a job answer; ``BadJobError`` if any
    is missing or not of its type."""
    if not isinstance(body, dict):
        raise BadJobError("the job is not a JSON object")
    identity = body.get("identity")
    reference = identity.get("reference") if isinstance(identity, dict) else None
    state = body.get("status")
    location = body.get("location")
    location_reference = location.get("reference") if isinstance(location, dict) else None
    if not isinstance(reference, str) or not reference:
        raise BadJobError("identity.reference is missing")
    if not isinstance(state, str) or not state:
        raise BadJobError(f"job {reference}: status is missing")
    if not isinstance(location_reference, str):
        raise BadJobError(f"job {reference}: location.reference is missing")
    return JobView(
        reference, state, location_reference, _appointment(reference, body.get("appointment"))
    )


def _appointment(reference: str, value: Any) -> Appointment | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadJobError(f"job {reference}: appointment is not an object")
    offer, day, band = value.get("offerReference"), value.get("date"), value.get("timeBand")
    band_name = band.get("name") if isinstance(band, dict) else None
    if not isinstance(offer, str) or not isinstance(day, str) or not isinstance(band_name, str):
        raise BadJobError(f"job {reference}: appointment without offerReference, date, band")
    try:
        when = date.fromisoformat(day)
    except ValueError:
        raise BadJobError(f"job {reference}: appointment date {day!r}") from None
    return Appointment(offer, when, band_name)


def status_of(view: JobView) -> BookingStatus | None:
    """The booking status of a job state, or None for a state this adaptor does not know."""
    return STATES.get(view.state.strip().lower())
