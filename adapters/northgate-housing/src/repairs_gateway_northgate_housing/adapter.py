"""The adaptor: Northgate/NEC Housing as the gateway's address source and works-order sink.

One object plays every role the plugin declares (``AddressSource``, ``WorksOrderSink``) and
the optional capabilities (``WorksOrderCanceller``, ``HazardSource``, ``PropertyLookup``,
``Closable``). Paths and shapes are assumed (see ``wire`` and the README).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
from pydantic import BaseModel
from repairs_gateway.ports import (
    Address,
    BackendRejected,
    BackendUnavailable,
    Hazard,
    NotFound,
    WorksOrderRequest,
)

from .client import (
    REFUSED,
    UNAVAILABLE,
    UNREADABLE,
    NorthgateClient,
    NorthgateNotFound,
    NorthgateRefused,
    UnreadableAnswer,
)
from .hazards import hazards_from
from .orders import service_request_body, works_order_body
from .properties import to_address, uprn_of
from .settings import NorthgateSettings
from .wire import (
    PROPERTIES,
    SERVICE_REQUESTS,
    WORKS_ORDERS,
    CautionaryAlerts,
    Property,
    PropertySearch,
    ServiceRequest,
    ServiceRequestList,
    WorksOrder,
    alerts_path,
    works_orders_of,
)

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
M = TypeVar("M", bound=BaseModel)

CLOSED = frozenset({"CANCELLED", "CLOSED"})
"""Statuses of a service request or works order that is no longer live."""
ALREADY_CANCELLED = "WO_ALREADY_CANCELLED"


def _segment(value: str) -> str:
    """A reference as one path segment, whatever characters it holds."""
    return quote(value, safe="")


class NorthgateHousing:
    """One council's Northgate/NEC Housing.

    ``transport`` is for tests (the simulator's ASGI app, or a fault-injecting wrapper);
    ``clock`` decides when the cached token is renewed and which alerts are in force.
    """

    def __init__(
        self,
        settings: NorthgateSettings,
        *,
        timezone: str = "Europe/London",
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._settings = settings
        self._tz = ZoneInfo(timezone)
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self.client = NorthgateClient(settings, transport=transport, clock=self._clock)

    # ------------------------------------------------------------------ addresses

    async def addresses_at(self, postcode: str) -> Sequence[Address]:
        """Eligible properties at a normalised postcode (Property Search)."""
        answer = await self.client.call("GET", PROPERTIES, PropertySearch, params={"postcode": postcode})
        found = (to_address(record, self._settings) for record in answer.Properties)
        # The search may match loosely (a prefix, another spelling): keep only what is here.
        return [a for a in found if a is not None and a.postcode == postcode]

    async def address(self, uprn: str) -> Address | None:
        """The eligible property with this UPRN, or None."""
        record = await self._property_by_uprn(uprn)
        return to_address(record, self._settings) if record is not None else None

    async def address_by_ref(self, property_ref: str) -> Address | None:
        """The eligible property with this Northgate property reference, or None."""
        if not property_ref.strip():
            return None
        try:
            record = await self.client.call("GET", f"{PROPERTIES}/{_segment(property_ref)}", Property)
        except NotFound:
            return None
        return to_address(record, self._settings)

    async def _property_by_uprn(self, uprn: str) -> Property | None:
        if not (uprn.isdigit() and len(uprn) <= 12):
            return None
        answer = await self.client.call("GET", PROPERTIES, PropertySearch, params={"uprn": uprn})
        matching = [record for record in answer.Properties if uprn_of(record) == uprn]
        return matching[0] if matching else None

    async def _property_ref(self, address: Address) -> str:
        if address.property_ref:
            return address.property_ref
        record = await self._property_by_uprn(address.uprn)
        if record is None:
            raise NotFound("The housing management system does not know the property.", detail=f"UPRN {address.uprn}")
        return record.Reference.ID

    # ------------------------------------------------------------------ hazards

    async def hazards_at(self, address: Address) -> Sequence[Hazard]:
        """The cautionary alerts and asbestos records in force at the property."""
        property_ref = await self._property_ref(address)
        answer = await self.client.call("GET", alerts_path(_segment(property_ref)), CautionaryAlerts)
        return hazards_from(answer.CautionaryAlerts, self._clock().astimezone(self._tz).date())

    # ------------------------------------------------------------------ works orders

    async def raise_order(self, request: WorksOrderRequest) -> str:
        """A service request and a works order for the job, both carrying the repair's
        reference; answers the works order's reference.

        Asked again for the same repair (after a lost answer or an outage between the two
        calls), it finds what was made by that reference and finishes it rather than
        making a second one."""
        try:
            return await self._raise(request)
        except NotFound as exc:
            # An unknown property, or an order the backend listed and then did not know:
            # asking again will not help, so it is a refusal, not a missing booking.
            raise BackendRejected(str(exc), detail=exc.detail) from exc

    async def _raise(self, request: WorksOrderRequest) -> str:
        order_body = works_order_body(request, self._settings)  # refused before anything is made
        property_ref = await self._property_ref(request.address)
        service_request = await self._live_service_request(request.reference)
        if service_request is not None:
            existing = await self._live_works_order(service_request)
            if existing is not None:
                log.info("repair %s: adopting works order %s", request.reference, existing)
                return existing
        else:
            body = service_request_body(request, property_ref, self._settings)
            service_request = await self._create(SERVICE_REQUESTS, ServiceRequest, body)
        sr_ref = service_request.Reference.ID
        try:
            order = await self._create(works_orders_of(_segment(sr_ref)), WorksOrder, order_body)
        except NorthgateRefused:
            # Refused for good: withdraw the service request rather than leave it open.
            await self._withdraw_service_request(sr_ref)
            raise
        if sr_ref != order.ServiceRequestReference.ID:
            raise BackendRejected(UNREADABLE, detail=f"works order {order.Reference.ID} is not under {sr_ref}")
        return order.Reference.ID

    async def _create(self, path: str, model: type[M], body: dict[str, Any]) -> M:
        """A POST whose outcome is unknown when it fails without a refusal (no answer, or
        one that cannot be read): ``BackendUnavailable``, so that the gateway asks again
        and the next attempt finds what this one made, by the repair's reference."""
        try:
            return await self.client.call("POST", path, model, body=body)
        except UnreadableAnswer as exc:
            raise BackendUnavailable(UNAVAILABLE, detail=f"outcome unknown: {exc.detail}") from exc

    async def _live_service_request(self, reference: str) -> ServiceRequest | None:
        answer = await self.client.call(
            "GET",
            SERVICE_REQUESTS,
            ServiceRequestList,
            params={"externalReference": reference, "allocatedBy": self._settings.allocated_by},
        )
        for found in answer.ServiceRequests:
            mine = found.ExternalReference
            if mine is None or reference != mine.ID:
                continue  # a search that matched loosely
            if found.Status.strip().upper() not in CLOSED:
                return found
        return None

    async def _live_works_order(self, service_request: ServiceRequest) -> str | None:
        for reference in service_request.WorksOrders:
            order = await self.client.call("GET", f"{WORKS_ORDERS}/{_segment(reference.ID)}", WorksOrder)
            if order.Status.strip().upper() not in CLOSED:
                return order.Reference.ID
        return None

    async def _withdraw_service_request(self, sr_ref: str) -> None:
        """Best effort: a request left open is found and reused by the next attempt anyway."""
        with contextlib.suppress(BackendRejected, BackendUnavailable, NotFound):
            await self.client.call(
                "POST",
                f"{SERVICE_REQUESTS}/{_segment(sr_ref)}/cancel",
                ServiceRequest,
                body={"Reason": "The works order was refused"},
            )

    async def cancel_order(self, works_order_ref: str) -> None:
        """Cancel the works order (its service request closes with it); cancelling twice is
        not an error. A completed order cannot be cancelled: ``BackendRejected``."""
        path = f"{WORKS_ORDERS}/{_segment(works_order_ref)}/cancel"
        body = {"Reason": "Cancelled through the online repairs service", "CancelledBy": self._settings.allocated_by}
        try:
            order = await self.client.call("POST", path, WorksOrder, body=body)
        except NorthgateRefused as exc:
            if exc.code == ALREADY_CANCELLED:
                return
            raise
        except NorthgateNotFound as exc:
            raise NotFound("The housing management system does not know the works order.", detail=exc.detail) from exc
        if order.Status.strip().upper() != "CANCELLED":
            raise BackendRejected(REFUSED, detail=f"works order {works_order_ref} is {order.Status} after cancel")

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self.client.aclose()
