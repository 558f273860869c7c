"""The ``civica-uh`` adaptor: properties (``AddressSource``, ``PropertyLookup``), hazards
(``HazardSource``) and works orders (``WorksOrderSink``, ``WorksOrderCanceller``) over
UH's property and repair services."""

from __future__ import annotations

import time
from collections.abc import Sequence

import httpx
from repairs_gateway.ports import (
    AdapterContext,
    Address,
    Hazard,
    WorksOrderRequest,
)

from .cache import MonotonicClock
from .client import UhClient
from .hazards import hazards_of
from .orders import WorksOrders
from .properties import PropertyDirectory
from .settings import UhHousingSettings

NO_REF_HAZARD = Hazard(
    kind="unread",
    code="NO-UH-REF",
    description="The housing system could not be asked: the address has no UH property reference.",
)


class UhHousing:
    """One council's UH installation: its properties, their hazards and its works orders."""

    def __init__(
        self,
        settings: UhHousingSettings,
        context: AdapterContext | None = None,
        *,
        http_client: httpx.AsyncClient | None = None,
        clock: MonotonicClock = time.monotonic,
    ) -> None:
        self.settings = settings
        self.council_id = context.council_id if context is not None else None
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout_seconds)
        )
        self._property = UhClient(settings, "PropertyService", self._http)
        self._repair = UhClient(settings, "RepairService", self._http)
        self._directory = PropertyDirectory(settings, self._property, clock)
        self._orders = WorksOrders(settings, self._repair)

    async def addresses_at(self, postcode: str) -> Sequence[Address]:
        """Eligible homes and communal areas at ``postcode`` (normalised)."""
        return await self._directory.addresses_at(postcode)

    async def address(self, uprn: str) -> Address | None:
        """A property this process has answered (UH cannot be asked by UPRN), or None."""
        return await self._directory.address(uprn)

    async def address_by_ref(self, property_ref: str) -> Address | None:
        """The property with this UH ``prop_ref``, if it is eligible now."""
        return await self._directory.address_by_ref(property_ref)

    async def hazards_at(self, address: Address) -> Sequence[Hazard]:
        """UH's alerts and asbestos hazards at the property."""
        ref = address.property_ref or self._directory.known_ref(address.uprn)
        if ref is None:
            return [NO_REF_HAZARD]
        return await hazards_of(self._property, ref)

    async def raise_order(self, request: WorksOrderRequest) -> str:
        """Raise the repair in UH with one works order; answers its ``OrderReference``."""
        ref = request.address.property_ref or self._directory.known_ref(request.address.uprn)
        return await self._orders.raise_order(request, ref)

    async def cancel_order(self, works_order_ref: str) -> None:
        """Cancel the works order; cancelling twice is not an error."""
        await self._orders.cancel_order(works_order_ref)

    async def aclose(self) -> None:
        """Close the HTTP connections this adaptor opened."""
        self._property.close()
        self._repair.close()
        if self._owns_http:
            await self._http.aclose()
