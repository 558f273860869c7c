"""The assumed wire format of the Northgate/NEC Housing API: paths and the answers' shapes.

Northgate publishes no API description. Everything here is an assumption shaped on the
HACT UK Housing Data Standard (``Reference{ID, Description, AllocatedBy}``,
``PropertyAddress{BuildingNumber, BuildingName, StreetName, CityName, AddressLine[],
PostalCode, Reference}``, priorities 1 to 5) and on Northgate's documented integration
calls; the README's table lists each one and what a real installation would change.
Answers are validated here before anything is read, so a malformed one is refused.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field

TOKEN = "/oauth/token"
PROPERTIES = "/properties"
SERVICE_REQUESTS = "/service-requests"
WORKS_ORDERS = "/works-orders"
UPRN_ALLOCATOR = "UPRN"
"""The ``AllocatedBy`` of a ``PropertyAddress.Reference`` that holds the UPRN."""


def alerts_path(property_ref: str) -> str:
    """The cautionary alerts of one property."""
    return f"{PROPERTIES}/{property_ref}/cautionary-alerts"


def works_orders_of(service_request_ref: str) -> str:
    """Where works orders are raised under a service request."""
    return f"{SERVICE_REQUESTS}/{service_request_ref}/works-orders"


class _Wire(BaseModel):
    # Unknown fields are ignored: an installation may send more than we read.
    model_config = ConfigDict(extra="ignore", frozen=True)


class HactReference(_Wire):
    """HACT ``Reference``: an identifier and who allocated it."""

    ID: str = Field(min_length=1)
    Description: str | None = None
    AllocatedBy: str | None = None


class PropertyAddress(_Wire):
    """HACT ``PropertyAddress``; ``Reference`` holds the UPRN (``AllocatedBy: UPRN``)."""

    BuildingNumber: str | None = None
    BuildingName: str | None = None
    StreetName: str | None = None
    CityName: str | None = None
    AddressLine: list[str] = Field(default_factory=list)
    PostalCode: str
    Reference: HactReference


class Property(_Wire):
    """A property as Property Search answers it."""

    Reference: HactReference
    PropertyType: HactReference
    Address: PropertyAddress


class PropertySearch(_Wire):
    """The answer to Property Search."""

    Properties: list[Property]


class Token(_Wire):
    """An OAuth 2 access token answer (RFC 6749, section 5.1)."""

    access_token: str = Field(min_length=1)
    token_type: str
    expires_in: int = Field(gt=0)


class ServiceRequest(_Wire):
    """A service request: what was reported, and the works orders raised under it."""

    Reference: HactReference
    ExternalReference: HactReference | None = None
    Status: str
    WorksOrders: list[HactReference] = Field(default_factory=list)


class ServiceRequestList(_Wire):
    """Service requests found by external reference."""

    ServiceRequests: list[ServiceRequest]


class WorksOrder(_Wire):
    """A works order, as created, read or cancelled."""

    Reference: HactReference
    ServiceRequestReference: HactReference
    ExternalReference: HactReference | None = None
    Status: str


class CautionaryAlert(_Wire):
    """One cautionary alert or asbestos record at a property."""

    AlertType: HactReference
    Category: str
    Location: str | None = None
    Comment: str | None = None
    StartDate: date | None = None
    EndDate: date | None = None


class CautionaryAlerts(_Wire):
    """The answer to the cautionary alerts call."""

    CautionaryAlerts: list[CautionaryAlert]


class ErrorDetail(_Wire):
    """The backend's own error shape (assumed): ``{"Error": {"Code", "Message", ...}}``."""

    Code: str
    Message: str | None = None
    Reference: HactReference | None = None
    CorrelationID: str | None = None


class ErrorAnswer(_Wire):
    """The envelope of an error answer."""

    Error: ErrorDetail
