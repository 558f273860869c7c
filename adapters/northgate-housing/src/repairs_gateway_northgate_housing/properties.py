"""From a Northgate property to the gateway's ``Address``: eligibility, kind and lines."""

from __future__ import annotations

import logging

from repairs_gateway.ports import Address, InvalidPostcode, PropertyKind, normalise_postcode

from .settings import NorthgateSettings
from .wire import UPRN_ALLOCATOR, Property, PropertyAddress

log = logging.getLogger(__name__)


def kind_of(record: Property, settings: NorthgateSettings) -> PropertyKind | None:
    """``dwelling`` or ``communal`` from the property's type code, or None when the
    council does not take repairs online for that type (garages, shops, leasehold)."""
    code = record.PropertyType.ID.strip().upper()
    if code in settings.dwelling_types:
        return "dwelling"
    if code in settings.communal_types:
        return "communal"
    return None


def uprn_of(record: Property) -> str | None:
    """The UPRN from the address's reference, when it is one (1 to 12 digits)."""
    reference = record.Address.Reference
    if (reference.AllocatedBy or "").upper() != UPRN_ALLOCATOR:
        return None
    uprn = reference.ID.strip()
    return uprn if uprn.isdigit() and len(uprn) <= 12 else None


def lines_of(address: PropertyAddress) -> tuple[str, ...]:
    """BS7666 order: the sub-building lines, the building's name, number and street, town."""
    street = " ".join(part.strip() for part in (address.BuildingNumber, address.StreetName) if part)
    candidates = [*address.AddressLine, address.BuildingName, street, address.CityName]
    return tuple(line.strip() for line in candidates if line and line.strip())


def to_address(record: Property, settings: NorthgateSettings) -> Address | None:
    """The eligible property as an ``Address``, or None when it is not eligible or cannot be
    named (no UPRN, no valid postcode, no address lines)."""
    kind = kind_of(record, settings)
    if kind is None:
        return None
    uprn = uprn_of(record)
    if uprn is None:
        log.warning("Northgate property %s has no UPRN", record.Reference.ID)
        return None
    try:
        postcode = normalise_postcode(record.Address.PostalCode)
    except InvalidPostcode:
        log.warning("Northgate property %s has no valid postcode: %r", record.Reference.ID, record.Address.PostalCode)
        return None
    lines = lines_of(record.Address)
    if not lines:
        return None
    return Address(uprn, lines, postcode, kind, record.Reference.ID.strip())
