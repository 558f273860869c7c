"""Eligible addresses at a postcode."""

from __future__ import annotations

from collections.abc import Sequence

from repairs_gateway.domain.postcodes import InvalidPostcode, normalise_postcode
from repairs_gateway.ports import Address, BackendRejected, BackendUnavailable
from repairs_gateway.runtime import CouncilRuntime
from repairs_gateway.services.problems import Location, Problem, invalid, unacceptable, unavailable


async def addresses_at(council: CouncilRuntime, postcode: str) -> tuple[str, Sequence[Address]]:
    """The normalised postcode and the council's eligible properties there."""
    try:
        normal = normalise_postcode(postcode)
    except InvalidPostcode as exc:
        raise invalid("postcode", "query", str(exc)) from None
    try:
        found = await council.addresses.addresses_at(normal)
    except (BackendUnavailable, BackendRejected):
        raise unavailable() from None
    return normal, found


async def eligible_address(council: CouncilRuntime, uprn: str, location: Location) -> Address:
    """The property with this UPRN, or a 422 naming ``uprn``; 503 when the source is down."""
    try:
        address = await council.addresses.address(uprn)
    except (BackendUnavailable, BackendRejected):
        raise unavailable() from None
    if address is None:
        raise unacceptable(
            "property-not-eligible", "uprn", location, f"{uprn} is not an eligible property of this council"
        )
    return address


__all__ = ["Problem", "addresses_at", "eligible_address"]
