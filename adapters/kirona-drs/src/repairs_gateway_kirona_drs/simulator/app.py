"""The simulator as an ASGI app: HTTP, latency and failure injection around the state."""

from __future__ import annotations

import asyncio
import random
from dataclasses import replace

import httpx
from repairs_gateway.ports import SimulatedBackend, SimulatorOptions, read_simulator_settings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .control import Holds, control_routes, order_number_of
from .operations import answer, refusal
from .pushes import Pushes
from .soap import SoapFault, fault_envelope, parse_request, response_envelope, wsdl_for
from .state import TRANSPORT_FAILURES, Clock, DrsState, SimulatorConfig, system_clock

XML = "text/xml; charset=UTF-8"
MAX_BODY_BYTES = 1024 * 1024
HANG_SECONDS = 60.0


class _CutShortResponse(Response):
    """Declares the whole answer's length, then stops sending: a dropped connection.

    Under a real server the client sees the connection close mid-answer; in-process it
    receives a truncated body. Either way it gets no readable answer."""

    def __init__(self, full: bytes) -> None:
        super().__init__(content=full[: len(full) // 3], media_type=XML)
        self.headers["content-length"] = str(len(full))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


class DrsSimulator:
    """A simulated DRS Web Services Gateway: ``app`` to serve, ``state`` to inspect and
    steer (``state.fail_next``, ``state.set_status``, ``state.clock``), ``holds`` to hold
    calls, ``pushes`` for DRS's ``bookingConfirmation`` pushes (``push_client``, when given,
    sends them: e.g. over ``httpx.ASGITransport`` to an in-process gateway). The app also
    serves test-only JSON controls under ``/_simulator/`` (see ``control``), for tests that
    drive the simulator from another process."""

    def __init__(
        self,
        config: SimulatorConfig | None = None,
        clock: Clock = system_clock,
        *,
        push_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.config = config or SimulatorConfig()
        self.state = DrsState(self.config, clock)
        self.holds = Holds()
        self.pushes = Pushes(self.state, push_client)
        self._random = random.Random(self.config.seed)
        self.app = Starlette(
            routes=[
                Route(self.config.path, self._endpoint, methods=["GET", "POST"]),
                *control_routes(self.state, self.holds, self.pushes),
            ]
        )
        self.app.state.drs = self.state

    def endpoint(self, base_url: str) -> str:
        """The SOAP endpoint URL under ``base_url`` (e.g. ``http://127.0.0.1:8081``)."""
        return base_url.rstrip("/") + self.config.path

    def describe(self, base_url: str) -> str:
        """What a person needs to point an adaptor at this simulator."""
        endpoint = self.endpoint(base_url)
        codes = ", ".join(f"{s.code} ({s.trade})" for s in self.config.catalogue)
        return "\n".join(
            [
                "Kirona DRS Web Services Gateway simulator (SOAP 1.1)",
                f"  SOAP endpoint: {endpoint}",
                f"  WSDL:          {endpoint}?wsdl",
                f"  login:         {self.config.login}",
                f"  password:      {self.config.password}",
                f"  contracts:     {', '.join(sorted(self.config.contracts))}",
                f"  priorities:    {', '.join(sorted(self.config.priorities))}",
                f"  SoR codes:     {codes}",
                f"  latency:       {self.config.latency_ms:g} ms per call,"
                f" fail rate {self.config.fail_rate:g}",
            ]
        )

    async def _endpoint(self, request: Request) -> Response:
        if request.method == "GET":
            if request.url.query.lower() == "wsdl":
                address = str(request.url.replace(query=None))
                return Response(wsdl_for(address), media_type=XML)
            return PlainTextResponse(
                "Use POST for SOAP, or ?wsdl", status_code=405, headers={"Allow": "POST"}
            )
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("text/xml"):
            return PlainTextResponse("SOAP 1.1 requests are text/xml", status_code=415)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return PlainTextResponse("Request too large", status_code=413)
        if self.config.latency_ms > 0:
            await asyncio.sleep(self.config.latency_ms / 1000)
        try:
            operation, command = parse_request(body, request.headers.get("soapaction"))
        except SoapFault as fault:
            return Response(fault_envelope(fault), status_code=500, media_type=XML)
        self.state.calls[operation] += 1
        number = order_number_of(command)
        if not await self.holds.pass_through(operation, "before", number):
            # Released with drop: the call is discarded without being carried out.
            return PlainTextResponse("503 Service Unavailable", status_code=503)
        injected = self.state.take_failure(operation)
        transport = injected.transport if injected else self._random_failure()
        if transport == "http503":
            return PlainTextResponse("503 Service Unavailable", status_code=503)
        if transport == "hang":
            await asyncio.sleep(HANG_SECONDS)
            return PlainTextResponse("504 Gateway Timeout", status_code=504)
        if injected is not None and transport is None:
            result = refusal(command, injected.status, injected.message)
        else:
            result = answer(self.state, operation, command)
        payload = response_envelope(operation, result)
        if not await self.holds.pass_through(operation, "after", number):
            return _CutShortResponse(payload)  # carried out, but its answer is lost
        if transport == "garbled":
            return Response(payload[: len(payload) // 2] + b"\x00<<garbled", media_type=XML)
        if transport == "dropped":
            return _CutShortResponse(payload)
        return Response(payload, media_type=XML)

    def _random_failure(self) -> str | None:
        if self.config.fail_rate and self._random.random() < self.config.fail_rate:
            return self._random.choice(TRANSPORT_FAILURES)
        return None


def simulate(options: SimulatorOptions) -> SimulatedBackend:
    """The plugin's simulator factory: a DRS simulator with the CLI's latency and
    failure options and the default installation (see ``SimulatorConfig``)."""
    read_simulator_settings(options, {})  # no settings of its own yet: refuse any
    config = replace(
        SimulatorConfig(),
        latency_ms=options.latency_ms,
        fail_rate=options.fail_rate,
        seed=options.seed,
    )
    simulator = DrsSimulator(config)
    return SimulatedBackend(app=simulator.app, describe=simulator.describe)
