"""The ``AddressSource`` over Example HMS's REST API.

Example HMS answers ``GET /api/v2/properties?postcode=NF11AA`` (postcode without spaces,
any case) and ``GET /api/v2/properties/{uprn}``, with a bearer API key. It keeps
postcodes as its staff typed them, so answers are normalised here. Leaseholders repair
the inside of their own homes, so leasehold dwellings are not eligible; a block's
communal areas always are.

Everything that stops an answer from being used becomes one of the ports' typed errors
here, so no bare exception leaves the adaptor.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Literal, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from repairs_gateway.ports import (
    Address,
    BackendRejected,
    BackendUnavailable,
    InvalidPostcode,
    normalise_postcode,
)

from .settings import ExampleHmsSettings

log = logging.getLogger(__name__)

PROPERTIES = "/api/v2/properties"
UNAVAILABLE = "The housing management system is not available at the moment."
UNREADABLE = "The housing management system gave an answer that could not be used."

M = TypeVar("M", bound=BaseModel)


class PropertyRecord(BaseModel):
    """A property as Example HMS describes it."""

    model_config = ConfigDict(extra="ignore")

    uprn: str = Field(pattern=r"^[0-9]{1,12}$")
    address: list[str] = Field(min_length=1)
    postcode: str
    type: Literal["house", "flat", "bungalow", "block"]
    tenure: Literal["secure", "introductory", "leasehold", "none"]
    ref: str | None = None


class SearchAnswer(BaseModel):
    """The answer to a postcode search."""

    model_config = ConfigDict(extra="ignore")

    properties: list[PropertyRecord]


def _address(record: PropertyRecord) -> Address | None:
    """The eligible property, or None when it is not eligible or its postcode is not one."""
    if record.type != "block" and record.tenure == "leasehold":
        return None
    try:
        postcode = normalise_postcode(record.postcode)
    except InvalidPostcode:
        log.warning("Example HMS property %s has no valid postcode: %r", record.uprn, record.postcode)
        return None
    lines = tuple(line.strip() for line in record.address if line.strip())
    if not lines:
        return None
    kind: Literal["dwelling", "communal"] = "communal" if record.type == "block" else "dwelling"
    return Address(record.uprn, lines, postcode, kind, record.ref or None)


class ExampleHmsAddresses:
    """Eligible properties in one council's Example HMS (``AddressSource``, ``Closable``).

    ``transport`` is for tests: the simulator's ASGI app, or a fault-injecting wrapper.
    """

    def __init__(
        self, settings: ExampleHmsSettings, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self._timeout = settings.timeout_seconds
        self._http = httpx.AsyncClient(
            base_url=str(settings.base_url).rstrip("/"),
            headers={"Authorization": f"Bearer {settings.api_key.get_secret_value()}"},
            timeout=settings.timeout_seconds,
            transport=transport,
        )

    async def addresses_at(self, postcode: str) -> Sequence[Address]:
        """Eligible properties at a normalised postcode."""
        response = await self._get(PROPERTIES, params={"postcode": postcode.replace(" ", "")})
        answer = _parse(SearchAnswer, response)
        found = (_address(record) for record in answer.properties)
        # The HMS matches loosely; keep only what is truly at this postcode.
        return [a for a in found if a is not None and a.postcode == postcode]

    async def address(self, uprn: str) -> Address | None:
        """The eligible property with this UPRN, or None."""
        if not uprn.isdigit():
            return None
        response = await self._get(f"{PROPERTIES}/{uprn}")
        if response.status_code == 404:
            return None
        record = _parse(PropertyRecord, response)
        if record.uprn != uprn:
            raise BackendRejected(UNREADABLE, detail=f"asked for UPRN {uprn}, answered {record.uprn}")
        return _address(record)

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    async def _get(self, path: str, params: dict[str, str] | None = None) -> httpx.Response:
        """One call, bounded as a whole: httpx's own timeout applies to each read only."""
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._http.get(path, params=params)
        except TimeoutError:
            raise BackendUnavailable(
                UNAVAILABLE, detail=f"GET {path}: no answer within {self._timeout:g} s"
            ) from None
        except httpx.HTTPError as exc:
            raise BackendUnavailable(UNAVAILABLE, detail=f"GET {path}: {exc!r}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise BackendUnavailable(UNAVAILABLE, detail=f"GET {path}: HTTP {response.status_code}")
        if response.status_code in (401, 403):
            raise BackendRejected(
                "The housing management system refused the gateway's API key.",
                detail=f"GET {path}: HTTP {response.status_code}",
            )
        if response.status_code >= 400 and response.status_code != 404:
            raise BackendRejected(UNREADABLE, detail=f"GET {path}: HTTP {response.status_code}")
        return response


def _parse(model: type[M], response: httpx.Response) -> M:
    """The answer as ``model``; BackendRejected when it is not JSON of that shape."""
    if response.status_code != 200:
        raise BackendRejected(UNREADABLE, detail=f"{response.request.url.path}: HTTP {response.status_code}")
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise BackendRejected(UNREADABLE, detail=f"{response.request.url.path}: {exc}") from exc
