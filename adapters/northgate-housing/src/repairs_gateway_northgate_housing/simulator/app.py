"""The simulator as an ASGI app: routes, authentication, capacity, latency and failure
injection around the state (``NorthgateState``)."""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any, Literal
from urllib.parse import parse_qs

from repairs_gateway.ports import SimulatedBackend, SimulatorOptions, positive_int, read_simulator_settings
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .data import ELIGIBLE_BY_POSTCODE, SimulatorConfig
from .state import Clock, NorthgateState, SimError, system_clock
from .views import (
    alert_json,
    error_json,
    property_json,
    service_request_json,
    works_order_json,
)

HANG_SECONDS = 60.0
Failure = Literal["unavailable", "lost", "hang"]
"""An injected failure: ``unavailable`` answers 503 without carrying the call out; ``lost``
carries it out and answers 503 (the answer is lost); ``hang`` never answers."""
Action = Callable[[Request], Awaitable[tuple[int, Any]]]


def _error(error: SimError) -> JSONResponse:
    headers = {"WWW-Authenticate": f'Bearer error="{error.code}"'} if error.status == 401 else {}
    if error.status == 429:
        headers["Retry-After"] = "1"
    return JSONResponse(error_json(error), status_code=error.status, headers=headers)


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body())
    except ValueError:
        raise SimError(400, "INVALID_JSON", "The body is not JSON") from None
    if not isinstance(body, dict):
        raise SimError(400, "INVALID_JSON", "The body must be a JSON object")
    return body


class NorthgateSimulator:
    """A simulated Northgate/NEC Housing API: ``app`` to serve, ``state`` to inspect and
    steer (``state.expire_tokens``, ``state.complete_works_order``), ``fail_next`` to make
    the next call of a route fail."""

    def __init__(self, config: SimulatorConfig | None = None, clock: Clock = system_clock) -> None:
        self.config = config or SimulatorConfig()
        self.state = NorthgateState(self.config, clock)
        self._random = random.Random(self.config.seed)
        self._failures: dict[str, list[Failure]] = {}
        self._recent: deque[float] = deque()
        route = self._route
        self.app = Starlette(
            routes=[
                Route("/oauth/token", self._token, methods=["POST"]),
                Route("/properties", route("search", self._search), methods=["GET"]),
                Route("/properties/{ref}", route("property", self._property), methods=["GET"]),
                Route("/properties/{ref}/cautionary-alerts", route("alerts", self._alerts), methods=["GET"]),
                Route("/service-requests", route("find_service_requests", self._find), methods=["GET"]),
                Route("/service-requests", route("create_service_request", self._create_sr), methods=["POST"]),
                Route(
                    "/service-requests/{ref}/cancel",
                    route("cancel_service_request", self._cancel_sr),
                    methods=["POST"],
                ),
                Route(
                    "/service-requests/{ref}/works-orders",
                    route("create_works_order", self._create_wo),
                    methods=["POST"],
                ),
                Route("/works-orders/{ref}", route("get_works_order", self._get_wo), methods=["GET"]),
                Route("/works-orders/{ref}/cancel", route("cancel_works_order", self._cancel_wo), methods=["POST"]),
            ]
        )

    def fail_next(self, operation: str, failure: Failure = "unavailable", times: int = 1) -> None:
        """Make the next ``times`` calls of ``operation`` (a route name: ``token``,
        ``search``, ``create_works_order``, ...) fail this way."""
        self._failures.setdefault(operation, []).extend([failure] * times)

    def describe(self, base_url: str) -> str:
        """What a person needs to point the adaptor at this simulator."""
        base = base_url.rstrip("/")
        postcodes = "\n".join(
            f"                 {postcode}: UPRNs {', '.join(uprns)}" for postcode, uprns in ELIGIBLE_BY_POSTCODE.items()
        )
        return "\n".join(
            [
                "Northgate/NEC Housing simulator (assumed REST/JSON API, HACT-shaped)",
                f"  base URL:      {base}",
                f"  token URL:     {base}/oauth/token (OAuth 2 client credentials)",
                f"  client id:     {self.config.client_id}",
                f"  client secret: {self.config.client_secret}",
                f"  scope:         {self.config.scope}",
                f"  token life:    {self.config.token_lifetime_seconds} s",
                "  postcodes:     NH1 1AA, NH1 1AB, NH2 4WR (eligible properties below)",
                postcodes,
                "  alerts at:     700050000003 (dog, asbestos), 700050000201 (lone working)",
                "  not eligible:  700050000090 (garage), 700050000005 (shop)",
                f"  capacity:      {self.config.requests_per_second} calls a second, then 429",
                f"  latency:       {self.config.latency_ms:g} ms per call, fail rate {self.config.fail_rate:g}",
            ]
        )

    # ------------------------------------------------------------------ plumbing

    def _route(self, name: str, action: Action) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            return await self._handle(name, request, action, authenticated=True)

        return endpoint

    async def _handle(self, name: str, request: Request, action: Action, *, authenticated: bool) -> Response:
        if self.config.latency_ms > 0:
            await asyncio.sleep(self.config.latency_ms / 1000)
        self.state.calls[name] += 1
        failure = self._take_failure(name)
        if failure == "hang":
            await asyncio.sleep(HANG_SECONDS)
        if failure == "unavailable":
            return _error(SimError(503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable"))
        try:
            if not self._within_capacity():
                raise SimError(429, "RATE_LIMITED", "Too many requests: slow down")
            if authenticated:
                self.state.check_token(request.headers.get("authorization"))
            status, body = await action(request)
        except SimError as error:
            return _error(error)
        if failure == "lost":
            return _error(SimError(503, "SERVICE_UNAVAILABLE", "The service is temporarily unavailable"))
        return JSONResponse(body, status_code=status)

    def _take_failure(self, name: str) -> Failure | None:
        queued = self._failures.get(name)
        if queued:
            return queued.pop(0)
        if self.config.fail_rate and self._random.random() < self.config.fail_rate:
            return "unavailable"
        return None

    def _within_capacity(self) -> bool:
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.config.requests_per_second:
            return False
        self._recent.append(now)
        return True

    # ------------------------------------------------------------------ routes

    async def _token(self, request: Request) -> Response:
        async def issue(request: Request) -> tuple[int, Any]:
            if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
                raise SimError(400, "invalid_request", "Send the token request form-encoded")
            form = {k: v[0] for k, v in parse_qs((await request.body()).decode(errors="replace")).items()}
            if form.get("grant_type") != "client_credentials":
                raise SimError(400, "unsupported_grant_type", "Only client_credentials is supported")
            return 200, self.state.issue_token(
                form.get("client_id", ""), form.get("client_secret", ""), form.get("scope")
            )

        response = await self._handle("token", request, issue, authenticated=False)
        if 400 <= response.status_code < 500:
            # The token endpoint answers in OAuth 2's error shape (RFC 6749, 5.2).
            error = json.loads(bytes(response.body))["Error"]
            return JSONResponse(
                {"error": error["Code"], "error_description": error["Message"]}, status_code=response.status_code
            )
        return response

    async def _search(self, request: Request) -> tuple[int, Any]:
        found = self.state.search(request.query_params.get("postcode"), request.query_params.get("uprn"))
        return 200, {"Properties": [property_json(p) for p in found]}

    async def _property(self, request: Request) -> tuple[int, Any]:
        return 200, property_json(self.state.property(request.path_params["ref"]))

    async def _alerts(self, request: Request) -> tuple[int, Any]:
        ref = request.path_params["ref"]
        alerts = self.state.alerts(ref)
        return 200, {"PropertyReference": {"ID": ref}, "CautionaryAlerts": [alert_json(a) for a in alerts]}

    async def _find(self, request: Request) -> tuple[int, Any]:
        external = request.query_params.get("externalReference")
        if not external:
            raise SimError(400, "INVALID_SEARCH", "Give externalReference")
        found = self.state.find_service_requests(external, request.query_params.get("allocatedBy"))
        return 200, {"ServiceRequests": [service_request_json(sr) for sr in found]}

    async def _create_sr(self, request: Request) -> tuple[int, Any]:
        return 201, service_request_json(self.state.create_service_request(await _json_body(request)))

    async def _cancel_sr(self, request: Request) -> tuple[int, Any]:
        return 200, service_request_json(self.state.cancel_service_request(request.path_params["ref"]))

    async def _create_wo(self, request: Request) -> tuple[int, Any]:
        order = self.state.create_works_order(request.path_params["ref"], await _json_body(request))
        return 201, works_order_json(order)

    async def _get_wo(self, request: Request) -> tuple[int, Any]:
        return 200, works_order_json(self.state.works_order(request.path_params["ref"]))

    async def _cancel_wo(self, request: Request) -> tuple[int, Any]:
        await _json_body(request)
        return 200, works_order_json(self.state.cancel_works_order(request.path_params["ref"]))


SETTINGS = {"requests_per_second": positive_int}
"""What ``repairs-gateway simulate northgate-housing --set KEY=VALUE`` takes."""


def simulate(options: SimulatorOptions) -> SimulatedBackend:
    """The plugin's simulator factory: the seeded installation with the CLI's latency and
    failure options and its ``SETTINGS`` (``requests_per_second``)."""
    config = replace(
        SimulatorConfig(),
        latency_ms=options.latency_ms,
        fail_rate=options.fail_rate,
        seed=options.seed,
        **read_simulator_settings(options, SETTINGS),
    )
    simulator = NorthgateSimulator(config)
    return SimulatedBackend(app=simulator.app, describe=simulator.describe)
