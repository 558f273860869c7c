"""A simulator of Example HMS's REST API, served by ``repairs-gateway simulate example-hms``
and used in-process by the tests.

It keeps postcodes as a housing officer might have typed them (``nf1 1aa``, ``NF11AB``),
searches them without spaces in any case as the real system does, and checks the API key.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from typing import Any

from repairs_gateway.ports import (
    SimulatedBackend,
    SimulatorOptions,
    normalise_postcode,
    read_simulator_settings,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

API_KEY = "example-hms-key"

PROPERTIES: tuple[Mapping[str, Any], ...] = (
    {"uprn": "100021000001", "address": ["1 Mill Lane", "Northfield"], "postcode": "NF1 1AA",
     "type": "house", "tenure": "secure", "ref": "ML0001"},
    {"uprn": "100021000002", "address": ["2 Mill Lane", "Northfield"], "postcode": "nf1 1aa",
     "type": "house", "tenure": "leasehold", "ref": "ML0002"},
    {"uprn": "100021000003", "address": ["3 Mill Lane", "Northfield"], "postcode": "NF1 1AA",
     "type": "bungalow", "tenure": "introductory", "ref": None},
    {"uprn": "100021000011", "address": ["Flat 1, Weir House", "Mill Lane", "Northfield"],
     "postcode": "NF11AB", "type": "flat", "tenure": "secure", "ref": "WH0001"},
    {"uprn": "100021000012", "address": ["Flat 2, Weir House", "Mill Lane", "Northfield"],
     "postcode": "nf1  1ab", "type": "flat", "tenure": "secure", "ref": "WH0002"},
    {"uprn": "100021000010", "address": ["Weir House", "Mill Lane", "Northfield"],
     "postcode": "NF1 1AB", "type": "block", "tenure": "none", "ref": "WH"},
)  # fmt: skip
"""Fictional properties: the NF postcode area does not exist."""


def _compact(postcode: str) -> str:
    return "".join(postcode.split()).upper()


class HmsSimulator:
    """The simulated system: ``app`` to serve, ``properties`` to change in tests."""

    def __init__(
        self, options: SimulatorOptions | None = None, properties: Sequence[Mapping[str, Any]] = PROPERTIES
    ) -> None:
        self.options = options or SimulatorOptions()
        self.properties = list(properties)
        self._random = random.Random(self.options.seed)
        self.app = Starlette(
            routes=[
                Route("/api/v2/properties", self._search),
                Route("/api/v2/properties/{uprn}", self._one),
            ]
        )

    def describe(self, base_url: str) -> str:
        """What a person needs to point the adaptor at this simulator."""
        postcodes = sorted({normalise_postcode(p["postcode"]) for p in self.properties})
        return "\n".join(
            [
                "Example HMS simulator (REST, JSON)",
                f"  base_url: {base_url}",
                f"  api_key:  {API_KEY}  (sent as 'Authorization: Bearer ...')",
                f"  postcodes with properties: {', '.join(postcodes)}",
            ]
        )

    async def _refusal(self, request: Request) -> Response | None:
        """Latency, injected failures and the API key check, before any answer."""
        if self.options.latency_ms:
            await asyncio.sleep(self.options.latency_ms / 1000)
        if self.options.fail_rate and self._random.random() < self.options.fail_rate:
            return JSONResponse({"error": "service unavailable"}, status_code=503)
        if request.headers.get("authorization") != f"Bearer {API_KEY}":
            return JSONResponse({"error": "invalid API key"}, status_code=401)
        return None

    async def _search(self, request: Request) -> Response:
        refusal = await self._refusal(request)
        if refusal is not None:
            return refusal
        asked = request.query_params.get("postcode")
        if not asked:
            return JSONResponse({"error": "postcode is required"}, status_code=400)
        found = [p for p in self.properties if _compact(p["postcode"]) == _compact(asked)]
        return JSONResponse({"properties": found})

    async def _one(self, request: Request) -> Response:
        refusal = await self._refusal(request)
        if refusal is not None:
            return refusal
        uprn = request.path_params["uprn"]
        found = next((p for p in self.properties if p["uprn"] == uprn), None)
        if found is None:
            return JSONResponse({"error": "no such property"}, status_code=404)
        return JSONResponse(found)


def simulate(options: SimulatorOptions) -> SimulatedBackend:
    """The plugin's simulator factory (``repairs-gateway simulate example-hms``)."""
    # It takes no `--set` settings; declare yours here, e.g. {"page_size": positive_int}.
    read_simulator_settings(options, {})
    simulator = HmsSimulator(options)
    return SimulatedBackend(app=simulator.app, describe=simulator.describe)
