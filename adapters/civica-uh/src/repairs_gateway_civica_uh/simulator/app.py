"""The simulator as an ASGI app: UHWeb's two services over HTTP, with latency and
failure injection around the state."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace
from typing import Any

from repairs_gateway.ports import SimulatedBackend, SimulatorOptions, read_simulator_settings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ..protocol import Service
from . import property_ops, repair_ops
from .data import SimulatorConfig
from .soap import SoapFault, fault_envelope, parse_request, response_envelope, wsdl_for
from .state import Clock, UhError, UhState, system_clock

XML = "text/xml; charset=utf-8"
MAX_BODY_BYTES = 1024 * 1024
SERVICES: tuple[Service, ...] = ("PropertyService", "RepairService")
_HANDLERS: dict[Service, dict[str, Any]] = {
    "PropertyService": property_ops.HANDLERS,
    "RepairService": repair_ops.HANDLERS,
}
INTERNAL_FAULT = "The server was unable to process the request due to an internal error."


class UhSimulator:
    """A simulated UHWeb installation: ``app`` to serve, ``state`` to inspect and steer
    (``state.calls`` counts calls per operation, ``state.max_in_flight`` the most at once;
    ``state.issue``/``state.complete`` move works orders on as a contractor would)."""

    def __init__(self, config: SimulatorConfig | None = None, clock: Clock = system_clock) -> None:
        self.config = config or SimulatorConfig()
        self.state = UhState(self.config, clock)
        self._random = random.Random(self.config.seed)
        routes = [
            Route(
                f"{self.config.path}/{service}.svc",
                self._endpoint(service),
                methods=["GET", "POST"],
            )
            for service in SERVICES
        ]
        self.app = Starlette(routes=routes)

    def endpoint(self, base_url: str, service: Service) -> str:
        """A service's URL under ``base_url`` (e.g. ``http://127.0.0.1:8100``)."""
        return f"{self.base(base_url)}/{service}.svc"

    def base(self, base_url: str) -> str:
        """What a council writes as ``base_url`` to reach this simulator."""
        return base_url.rstrip("/") + self.config.path

    def describe(self, base_url: str) -> str:
        """What a person needs to point an adaptor at this simulator."""
        at: dict[str, list[str]] = {}
        for x in self.config.properties:
            at.setdefault(x.postcode.upper().replace(" ", ""), []).append(x.reference)
        c = self.config
        return "\n".join(
            [
                "Civica Universal Housing UHWeb simulator (SOAP 1.1, WCF basicHttpBinding)",
                f"  base_url:         {self.base(base_url)}",
                f"  PropertyService:  {self.endpoint(base_url, 'PropertyService')}  (?wsdl)",
                f"  RepairService:    {self.endpoint(base_url, 'RepairService')}  (?wsdl)",
                "                    (the repair service's shapes are ASSUMED)",
                f"  username:         {c.username}",
                f"  password:         {c.password}",
                f"  company code:     {c.company_code}  (SourceSystem: any non-empty name)",
                "  postcodes:",
                "    UH1 1AA  Larch Court: 2 flats and a communal area (asbestos) offered;",
                "             not offered: a leasehold flat (NoMaintenanceAllowed), one not",
                "             OnlineRepairs, the block itself",
                "    UH1 1AB  Willow Road: 2 houses; 3 Willow Road has alerts and asbestos",
                "    UH1 2BH  Birch House: 16 flats and a communal area",
                "    UH2 3CD  Chapel Lane: 1 house offered; 1 with no UPRN",
                "    UH3 4EF  Field View: nothing offered (not Repairable)",
                "  UPRNs:            4000780xxxxx (400078000101: Flat 1 Larch Court, ref 00041001)",
                f"  SoR codes:        {', '.join(i.code for i in c.catalogue)}",
                f"  suppliers:        {', '.join(c.suppliers)}",
                f"  priorities:       {', '.join(c.priorities)}",
                f"  diary:            {', '.join(w.code for w in c.windows)} windows Mon-Fri,"
                f" {c.capacity} places each",
                f"  latency:          {c.latency_ms:g} ms per call, fail rate {c.fail_rate:g}",
            ]
        )

    def _endpoint(self, service: Service) -> Any:
        async def endpoint(request: Request) -> Response:
            return await self._serve(service, request)

        return endpoint

    async def _serve(self, service: Service, request: Request) -> Response:
        if request.method == "GET":
            if request.url.query.lower() == "wsdl":
                return Response(
                    wsdl_for(service, str(request.url.replace(query=None))), media_type=XML
                )
            return PlainTextResponse("Use POST for SOAP, or ?wsdl", status_code=405)
        if not request.headers.get("content-type", "").lower().startswith("text/xml"):
            # WCF's basicHttpBinding answers 415 to anything but SOAP 1.1's text/xml.
            return PlainTextResponse("Cannot process the message: content type", status_code=415)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return PlainTextResponse("Request Entity Too Large", status_code=413)
        state = self.state
        state.in_flight += 1
        state.max_in_flight = max(state.max_in_flight, state.in_flight)
        try:
            if self.config.latency_ms > 0:
                await asyncio.sleep(self.config.latency_ms / 1000)
            return self._answer(service, body, request.headers.get("soapaction"))
        finally:
            state.in_flight -= 1

    def _answer(self, service: Service, body: bytes, action: str | None) -> Response:
        try:
            operation, dto = parse_request(service, body, action)
        except SoapFault as fault:
            return Response(fault_envelope(fault), status_code=500, media_type=XML)
        self.state.calls[operation] += 1
        failure = self._random_failure()
        if failure == "http503":
            return PlainTextResponse("503 Service Unavailable", status_code=503)
        if failure == "fault":
            internal = SoapFault(INTERNAL_FAULT, code="Server")
            return Response(fault_envelope(internal), status_code=500, media_type=XML)
        try:
            self.state.authenticate(dto)
            values = {
                "ErrorCode": 0,
                "Success": True,
                **_HANDLERS[service][operation](self.state, dto),
            }
        except UhError as error:
            values = {"ErrorCode": error.code, "ErrorMessage": error.message, "Success": False}
        return Response(response_envelope(service, operation, values), media_type=XML)

    def _random_failure(self) -> str | None:
        if self.config.fail_rate and self._random.random() < self.config.fail_rate:
            return self._random.choice(("http503", "fault"))
        return None


def simulate(options: SimulatorOptions) -> SimulatedBackend:
    """The plugins' simulator factory: the seeded installation with the CLI's latency and
    failure options."""
    read_simulator_settings(options, {})  # no settings of its own yet: refuse any
    config = replace(
        SimulatorConfig(),
        latency_ms=options.latency_ms,
        fail_rate=options.fail_rate,
        seed=options.seed,
    )
    simulator = UhSimulator(config)
    return SimulatedBackend(app=simulator.app, describe=simulator.describe)
