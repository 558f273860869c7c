"""Eligible addresses at a postcode."""

from __future__ import annotations

from collections.abc import Sequence

from repairs_gateway.domain.errors import BackendDown, InvalidInput, PropertyNotEligible
from repairs_gateway.domain.postcodes import InvalidPostcode, normalise_postcode
from repairs_gateway.ports import Address, BackendRejected, BackendUnavailable
from repairs_gateway.runtime import CouncilRuntime


async def addresses_at(council: CouncilRuntime, postcode: str) -> tuple[str, Sequence[Address]]:
    """The normalised postcode and the council's eligible properties there."""
    try:
        normal = normalise_postcode(postcode)
    except InvalidPostcode as exc:
        raise InvalidInput(str(exc), "postcode") from None
    try:
        found = await council.addresses.addresses_at(normal)
    except (BackendUnavailable, BackendRejected):
        raise BackendDown() from None
    return normal, found


async def eligible_address(council: CouncilRuntime, uprn: str) -> Address:
    """The property with this UPRN; ``PropertyNotEligible`` naming ``uprn`` otherwise, and
    ``BackendDown`` when the address source is not answering."""
    try:
        address = await council.addresses.address(uprn)
    except (BackendUnavailable, BackendRejected):
        raise BackendDown() from None
    if address is None:
        raise PropertyNotEligible(f"{uprn} is not an eligible property of this council", "uprn")
    return address
