"""The simulator as an ASGI app: OAuth, bearer checks, problem documents, latency and
failure injection around the ``World``."""

from __future__ import annotations

import asyncio
import base64
import json
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import date
from typing import Any
from urllib.parse import parse_qsl

from repairs_gateway.ports import (
    SimulatedBackend,
    SimulatorOptions,
    positive_int,
    read_simulator_settings,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from .config import SimulatorConfig
from .world import RANDOM_FAILURES, ApiError, Clock, Failure, World, system_clock

PROBLEM = "application/problem+json"
HANG_SECONDS = 60.0
MAX_BODY_BYTES = 64 * 1024

Handler = Callable[[Request], Awaitable[Response]]


class _CutShortResponse(Response):
    """Declares the whole answer's length, then stops sending: a dropped connection."""

    def __init__(self, full: bytes, status: int) -> None:
        super().__init__(
            content=full[: len(full) // 3], status_code=status, media_type="application/json"
        )
        self.headers["content-length"] = str(len(full) + 10)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {"type": "http.response.start", "status": self.status_code, "headers": self.raw_headers}
        )
        await send({"type": "http.response.body", "body": self.body, "more_body": False})


def problem(error: ApiError) -> Response:
    """Totalmobile's error document (assumed shape: an ASP.NET problem document with an
    ``errorCode``; ``errors`` names the fields at fault of a 400)."""
    body: dict[str, Any] = {
        "type": f"https://errors.totalmobile.sim/{error.code}",
        "title": error.code,
        "status": error.status,
        "detail": error.detail,
        "errorCode": error.code,
        "traceId": secrets.token_hex(8),
    }
    if error.errors:
        body["errors"] = error.errors
    return JSONResponse(body, status_code=error.status, media_type=PROBLEM)


class TotalmobileSimulator:
    """A simulated Totalmobile instance: ``app`` to serve, ``world`` to inspect and steer
    (``world.fail_next``, ``world.after``, ``world.expire_tokens``, ``world.set_status``,
    ``world.fill``, ``world.clock``)."""

    def __init__(self, config: SimulatorConfig | None = None, clock: Clock = system_clock) -> None:
        self.config = config or SimulatorConfig()
        self.world = World(self.config, clock)
        self._random = random.Random(self.config.seed)
        jobs = self.config.jobs_path
        self.app = Starlette(
            routes=[
                Route(self.config.token_path, self._wrap("token", self._token), methods=["POST"]),
                Route(jobs, self._wrap("jobs", self._jobs), methods=["GET", "POST"]),
                Route(
                    jobs + "/{reference}", self._wrap("job", self._job), methods=["GET", "DELETE"]
                ),
                Route(
                    jobs + "/{reference}/appointment-offers",
                    self._wrap("offers", self._offers),
                    methods=["GET"],
                ),
                Route(
                    jobs + "/{reference}/appointment-offers/{offer}/accept",
                    self._wrap("accept", self._accept),
                    methods=["POST"],
                ),
            ]
        )

    def describe(self, base_url: str) -> str:
        """What a person needs to point an adaptor at this simulator."""
        base = base_url.rstrip("/")
        c = self.config
        bands = ", ".join(f"{name} {text}" for name, text in c.time_bands.items())
        return "\n".join(
            [
                "Totalmobile simulator (Optimise jobs API; appointment offers are ASSUMED)",
                f"  base URL:       {base}",
                f"  instance:       {c.instance}",
                f"  world id:       {c.world_id}",
                f"  token URL:      {base}{c.token_path}",
                f"  jobs URL:       {base}{c.jobs_path}",
                f"  client id:      {c.client_id}",
                f"  client secret:  {c.client_secret}",
                f"  scope:          {c.scope}",
                f"  token lifetime: {c.token_lifetime_seconds} s",
                f"  time bands:     {bands}",
                f"  skills:         {', '.join(sorted(c.skills))}",
                f"  latency:        {c.latency_ms:g} ms per call, fail rate {c.fail_rate:g}",
            ]
        )

    # ------------------------------------------------------------------ plumbing

    def _wrap(self, route: str, handler: Handler) -> Handler:
        async def endpoint(request: Request) -> Response:
            operation = _operation(route, request.method)
            self.world.calls[operation] += 1
            if self.config.latency_ms > 0:
                await asyncio.sleep(self.config.latency_ms / 1000)
            failure = self.world.take_failure(operation) or self._random_failure()
            if failure == "hang":
                await asyncio.sleep(HANG_SECONDS)
                return Response("504 Gateway Timeout", status_code=504, media_type="text/plain")
            if failure in ("http503", "http500"):
                status = 503 if failure == "http503" else 500
                return Response(
                    f"{status} Server Error", status_code=status, media_type="text/html"
                )
            if operation != "token":
                refused = self.world.check_token(_bearer(request))
                if refused is not None:
                    error = ApiError(401, "Unauthorized", refused)
                    answer = problem(error)
                    answer.headers["WWW-Authenticate"] = (
                        f'Bearer error="invalid_token", error_description="{refused}"'
                    )
                    return answer
            try:
                answer = await handler(request)
            except ApiError as error:
                answer = problem(error) if operation != "token" else _oauth_error(error)
            if answer.status_code < 400:
                self.world.carried_out(operation)
            return _spoil(answer, failure)

        return endpoint

    def _random_failure(self) -> Failure | None:
        if self.config.fail_rate and self._random.random() < self.config.fail_rate:
            return self._random.choice(RANDOM_FAILURES)
        return None

    # ------------------------------------------------------------------ endpoints

    async def _token(self, request: Request) -> Response:
        if not request.headers.get("content-type", "").startswith(
            "application/x-www-form-urlencoded"
        ):
            raise ApiError(400, "invalid_request", "the token request must be form-encoded")
        form = dict(parse_qsl((await request.body()).decode("utf-8", "replace")))
        answer = self.world.issue_token(form, _basic(request))
        return JSONResponse(answer, headers={"Cache-Control": "no-store"})

    async def _jobs(self, request: Request) -> Response:
        if request.method == "GET":
            size, page = _int_param(request, "pageSize", 50), _int_param(request, "page", 1)
            if not 1 <= size <= 500 or page < 1:
                raise ApiError(400, "ValidationFailed", "pageSize 1..500, page from 1")
            return JSONResponse(self.world.list(size, page))
        created = self.world.create(await _json(request))
        location = f"{request.url.path}/{created['identity']['reference']}"
        return JSONResponse(created, status_code=201, headers={"Location": location})

    async def _job(self, request: Request) -> Response:
        reference = request.path_params["reference"]
        if request.method == "DELETE":
            self.world.delete(reference)
            return Response(status_code=204)
        return JSONResponse(self.world.get(reference))

    async def _offers(self, request: Request) -> Response:
        first, last = _date_param(request, "from"), _date_param(request, "to")
        return JSONResponse(self.world.offers(request.path_params["reference"], first, last))

    async def _accept(self, request: Request) -> Response:
        await _json(request)  # a JSON body (empty object) is expected, as on every POST
        return JSONResponse(
            self.world.accept(request.path_params["reference"], request.path_params["offer"])
        )


def _operation(route: str, method: str) -> str:
    if route == "jobs":
        return "create_job" if method == "POST" else "list_jobs"
    if route == "job":
        return "delete_job" if method == "DELETE" else "get_job"
    return route


def _spoil(answer: Response, failure: Failure | None) -> Response:
    """After the call was carried out: lose its answer if so injected."""
    if failure == "lost":
        return Response("504 Gateway Time-out", status_code=504, media_type="text/html")
    if failure == "dropped":
        if not answer.body:  # a 204 has nothing to cut: say 200 and cut a body short
            return _CutShortResponse(b'{"status": "done"}', 200)
        return _CutShortResponse(bytes(answer.body), answer.status_code)
    return answer


def _oauth_error(error: ApiError) -> Response:
    return JSONResponse(
        {"error": error.code, "error_description": error.detail},
        status_code=error.status,
        headers={"Cache-Control": "no-store"},
    )


def _bearer(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else None


def _basic(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, _, secret = base64.b64decode(encoded).decode().partition(":")
    except ValueError:
        return None
    return user, secret


async def _json(request: Request) -> Any:
    if not request.headers.get("content-type", "").startswith("application/json"):
        raise ApiError(415, "UnsupportedMediaType", "the body must be application/json")
    body = await request.body()
    if len(body) > MAX_BODY_BYTES:
        raise ApiError(413, "PayloadTooLarge", "the body is too large")
    try:
        return json.loads(body)
    except ValueError:
        raise ApiError(400, "MalformedJson", "the body is not JSON") from None


def _date_param(request: Request, name: str) -> date:
    value = request.query_params.get(name)
    try:
        return date.fromisoformat(value or "")
    except ValueError:
        raise ApiError(
            400, "ValidationFailed", f"{name} must be a date (YYYY-MM-DD)", {name: ["YYYY-MM-DD"]}
        ) from None


def _int_param(request: Request, name: str, default: int) -> int:
    value = request.query_params.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise ApiError(400, "ValidationFailed", f"{name} must be a number") from None


SETTINGS = {"token_lifetime_seconds": positive_int}
"""What ``repairs-gateway simulate totalmobile --set KEY=VALUE`` takes."""


def simulate(options: SimulatorOptions) -> SimulatedBackend:
    """The plugin's simulator factory: the default installation with the CLI's latency
    and failure options and its ``SETTINGS`` (``token_lifetime_seconds``)."""
    config = replace(
        SimulatorConfig(),
        latency_ms=options.latency_ms,
        fail_rate=options.fail_rate,
        seed=options.seed,
        **read_simulator_settings(options, SETTINGS),
    )
    simulator = TotalmobileSimulator(config)
    return SimulatedBackend(app=simulator.app, describe=simulator.describe)
