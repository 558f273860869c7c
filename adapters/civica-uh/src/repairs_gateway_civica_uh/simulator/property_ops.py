"""The property service's four operations: a ``dto`` in, the result's fields out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from .data import BLOCK, COMMUNAL, COMPANY_NAME, SimProperty
from .state import UhState

Handler = Callable[[UhState, Mapping[str, Any]], dict[str, Any]]

_LEVELS = {BLOCK: "Block", COMMUNAL: "Communal area"}


def _summary(x: SimProperty) -> dict[str, Any]:
    lines = list(x.lines) + [None] * (4 - len(x.lines))
    return {
        "AddressLine1": lines[0],
        "AddressLine2": lines[1],
        "AddressLine3": lines[2],
        "AddressLine4": lines[3],
        "CompanyCode": "001",
        "CompanyName": COMPANY_NAME,
        "LevelDescription": _LEVELS.get(x.level, "Dwelling"),
        "OccupationStatusDescription": "Occupied" if x.level not in _LEVELS else None,
        "ParentPropertyReference": x.parent,
        "PostCodeValue": x.postcode,
        "PostDesignation": x.lines[0],
        "PropertyReference": x.reference,
        "PropertyTypeDescription": x.type.title(),
        "ShortAddress": ", ".join(x.lines[:2]),
        "TenureDescription": "Leasehold" if x.leasehold else "Secure",
    }


def _dto(state: UhState, x: SimProperty) -> dict[str, Any]:
    user_fields = (
        {"UserField": [{"Key": state.config.uprn_user_field, "Value": x.uprn}]} if x.uprn else None
    )
    return {
        "UserFieldList": user_fields,
        "Asbestos": bool(x.asbestos),
        "CompanyCode": state.config.company_code,
        "Leasehold": x.leasehold,
        "Letable": x.level not in _LEVELS,
        "LevelReference": x.level,
        "NoMaintenanceAllowed": x.no_maintenance,
        "OnlineRepairs": x.online_repairs,
        "ParentPropertyReference": x.parent,
        "PostCodeValue": x.postcode,
        "PostDesignation": x.lines[0],
        "PropertyTypeReference": x.type,
        "Reference": x.reference,
        "Repairable": x.repairable,
        "ShortAddress": ", ".join(x.lines[:2]),
    }


def _list_by_postcode(state: UhState, dto: Mapping[str, Any]) -> dict[str, Any]:
    found = state.at_postcode(dto.get("PostCode"))
    limit = dto.get("MaxRecords")
    if limit and str(limit).isdigit() and int(limit) > 0:
        found = found[: int(limit)]
    return {"PropertyList": {"PropertySummary": [_summary(x) for x in found]}}


def _by_ref(state: UhState, dto: Mapping[str, Any]) -> dict[str, Any]:
    return {"Property": _dto(state, state.property(dto.get("PropertyReference")))}


def _alerts(state: UhState, dto: Mapping[str, Any]) -> dict[str, Any]:
    x = state.property(dto.get("PropertyReference"))
    return {
        "KeyObjectAlertMessages": {
            "KeyObjectAlertMessageDto": [
                {"Category": a.category, "Description": a.description, "Reference": a.reference}
                for a in x.alerts
            ]
        }
    }


def _asbestos(state: UhState, dto: Mapping[str, Any]) -> dict[str, Any]:
    x = state.property(dto.get("PropertyReference"))
    return {
        "PropertyHazardList": {
            "PropertyHazardInfo": [
                {
                    "HazardAdvise": h.advice,
                    "HazardDescription": h.description,
                    "HazardReference": h.reference,
                    "PropertyReference": x.reference,
                }
                for h in x.asbestos
            ]
        }
    }


HANDLERS: dict[str, Handler] = {
    "GetPropertyListByPostCode": _list_by_postcode,
    "GetPropertyByRef": _by_ref,
    "GetPropertyAlerts": _alerts,
    "GetPropertyAsbestosHazards": _asbestos,
}
