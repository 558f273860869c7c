"""The bodies of Create Service Request and Create Works Order, from a ``WorksOrderRequest``."""

from __future__ import annotations

from typing import Any

from repairs_gateway.ports import BackendRejected, WorksOrderRequest

from .hazards import hazard_notes, hazards_field
from .settings import NorthgateSettings

MAX_DESCRIPTION = 2000
"""Assumed width of Northgate's description fields; longer text is cut, not refused."""


def external_reference(request_reference: str, settings: NorthgateSettings) -> dict[str, str]:
    """The repair's reference as a HACT ``Reference`` allocated by the gateway: how a service
    request and its works order are found again after a lost answer."""
    return {"ID": request_reference, "AllocatedBy": settings.allocated_by}


def sor_code(request: WorksOrderRequest, settings: NorthgateSettings) -> str:
    """The job's SoR code, or the council's code for its trade; refused when neither is given
    (a works order is raised by SoR code, and guessing one would send the wrong trade)."""
    code = request.job.sor_code or settings.trade_sor_code(request.job.trade)
    if not code:
        raise BackendRejected(
            "The repair has no Schedule of Rates code to raise a works order by.",
            detail=f"trade {request.job.trade!r} has no sor_code and no trade_sor entry",
        )
    return code


def service_request_body(request: WorksOrderRequest, property_ref: str, settings: NorthgateSettings) -> dict[str, Any]:
    """Create Service Request: what the resident reported, at which property, by whom."""
    contact = request.contact
    return {
        "PropertyReference": {"ID": property_ref, "AllocatedBy": "Northgate"},
        "ExternalReference": external_reference(request.reference, settings),
        "Description": request.description[:MAX_DESCRIPTION],
        "Priority": settings.priorities[request.job.priority],
        "Channel": settings.channel,
        "ReportedBy": {"Name": contact.name, "Telephone": contact.phone, "Email": contact.email},
    }


def works_order_body(request: WorksOrderRequest, settings: NorthgateSettings) -> dict[str, Any]:
    """Create Works Order: the job, with the property's hazards for the operative."""
    return {
        "ExternalReference": external_reference(request.reference, settings),
        "SORCode": sor_code(request, settings),
        "Trade": request.job.trade,
        "EstimatedMinutes": request.job.duration_minutes,
        "Priority": settings.priorities[request.job.priority],
        "Description": request.description[:MAX_DESCRIPTION],
        "Hazards": hazards_field(request.hazards),
        "OperativeNotes": hazard_notes(request.hazards),
    }
