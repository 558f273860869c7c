"""What UH's property record says about online repairs: a property's facts and the
council's rules for which properties residents may report repairs at."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from repairs_gateway.ports import PropertyKind

from .settings import UhHousingSettings

MAX_UPRN_DIGITS = 12


@dataclass(frozen=True, slots=True)
class PropertyFacts:
    """What the adaptor keeps of one ``GetPropertyByRef`` answer: the eligible kind of
    property (None when it is not eligible, with ``reason``), its UPRN and postcode."""

    reference: str
    kind: PropertyKind | None
    reason: str
    uprn: str | None
    postcode: str | None
    short_address: str | None

    @property
    def eligible(self) -> bool:
        """Whether residents may report repairs at this property online."""
        return self.kind is not None and self.uprn is not None


def judge(reference: str, dto: Mapping[str, Any], settings: UhHousingSettings) -> PropertyFacts:
    """The facts of a ``PropertyDto`` under the council's rules."""
    uprn = _uprn(dto, settings.uprn_user_fields)
    kind, reason = _kind(dto, settings)
    if kind is not None and uprn is None:
        kind, reason = None, "no UPRN in its user fields"
    return PropertyFacts(
        reference=reference,
        kind=kind,
        reason=reason,
        uprn=uprn,
        postcode=_text(dto.get("PostCodeValue")),
        short_address=_text(dto.get("ShortAddress")),
    )


def _kind(dto: Mapping[str, Any], settings: UhHousingSettings) -> tuple[PropertyKind | None, str]:
    for flag in settings.ineligible_when:
        if dto.get(flag) is True:
            return None, f"{flag} is set"
    for flag in settings.eligible_only_when:
        # UH leaves a flag out (nil) when nobody set it: not set is not true.
        if dto.get(flag) is not True:
            return None, f"{flag} is not set"
    level = _text(dto.get("LevelReference")) or ""
    kind_code = _text(dto.get("PropertyTypeReference")) or ""
    if level in settings.dwelling_levels and _type_allowed(kind_code, settings.dwelling_types):
        return "dwelling", "a home"
    if level in settings.communal_levels and _type_allowed(kind_code, settings.communal_types):
        return "communal", "a communal area"
    return None, f"level {level!r} type {kind_code!r} is neither a home nor a communal area"


def _type_allowed(code: str, allowed: list[str]) -> bool:
    return not allowed or code in allowed


def _uprn(dto: Mapping[str, Any], keys: list[str]) -> str | None:
    holder = dto.get("UserFieldList") or {}
    fields = holder.get("UserField") if isinstance(holder, Mapping) else None
    values: dict[str, str] = {}
    for field in fields or []:
        if isinstance(field, Mapping) and field.get("Key") is not None:
            values[str(field["Key"]).strip().lower()] = str(field.get("Value") or "").strip()
    for key in keys:
        value = values.get(key.lower(), "")
        if value.isdigit() and len(value) <= MAX_UPRN_DIGITS:
            # UPRNs are numbers; UH's text fields sometimes carry leading zeros.
            return value.lstrip("0") or None
    return None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
