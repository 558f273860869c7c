"""The simulator's answers as JSON, in the assumed HACT-flavoured shapes."""

from __future__ import annotations

import uuid
from typing import Any

from .data import SeedAlert, SeedProperty
from .state import ServiceRequestRecord, SimError, WorksOrderRecord

NORTHGATE = "Northgate"


def reference(ref: str, description: str | None = None, by: str = NORTHGATE) -> dict[str, Any]:
    """A HACT ``Reference``."""
    return {"ID": ref, "Description": description, "AllocatedBy": by}


def property_json(p: SeedProperty) -> dict[str, Any]:
    """A property, its address a HACT ``PropertyAddress`` whose ``Reference`` is the UPRN."""
    return {
        "Reference": reference(p.ref, "Property reference"),
        "PropertyType": reference(p.type_code, p.type_name),
        "Address": {
            "BuildingNumber": p.number,
            "BuildingName": p.building,
            "StreetName": p.street,
            "CityName": p.city,
            "AddressLine": list(p.lines),
            "PostalCode": p.postcode,
            "Reference": reference(p.uprn, "Unique Property Reference Number", "UPRN"),
        },
    }


def alert_json(alert: SeedAlert) -> dict[str, Any]:
    """One cautionary alert or asbestos record."""
    return {
        "AlertType": reference(alert.code, alert.description),
        "Category": alert.category,
        "Location": alert.location,
        "Comment": alert.comment,
        "StartDate": alert.start.isoformat() if alert.start else None,
        "EndDate": alert.end.isoformat() if alert.end else None,
    }


def service_request_json(sr: ServiceRequestRecord) -> dict[str, Any]:
    """A service request and the references of its works orders."""
    return {
        "Reference": reference(sr.ref, "Service request"),
        "PropertyReference": reference(sr.property_ref),
        "ExternalReference": sr.external,
        "Status": sr.status,
        "Description": sr.body.get("Description"),
        "Priority": sr.body.get("Priority"),
        "WorksOrders": [reference(o, "Works order") for o in sr.orders],
    }


def works_order_json(order: WorksOrderRecord) -> dict[str, Any]:
    """A works order as raised, with its current status."""
    body = order.body
    return {
        "Reference": reference(order.ref, "Works order"),
        "ServiceRequestReference": reference(order.sr_ref, "Service request"),
        "ExternalReference": order.external,
        "Status": order.status,
        "SORCode": body.get("SORCode"),
        "Priority": body.get("Priority"),
        "Description": body.get("Description"),
        "Hazards": body.get("Hazards", []),
        "OperativeNotes": body.get("OperativeNotes"),
    }


def error_json(error: SimError) -> dict[str, Any]:
    """The backend's error shape: ``{"Error": {Code, Message, Reference, CorrelationID}}``."""
    return {
        "Error": {
            "Code": error.code,
            "Message": error.message,
            "Reference": reference(error.reference) if error.reference else None,
            "CorrelationID": str(uuid.uuid4()),
        }
    }
