"""The FastAPI application factory."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from repairs_gateway import __version__
from repairs_gateway.api import errors
from repairs_gateway.api.limits import BodyLimits
from repairs_gateway.api.request_ids import RequestIds
from repairs_gateway.api.routes import addresses, appointments, callbacks, councils, ops, repairs, staff
from repairs_gateway.api.state import GatewayState
from repairs_gateway.assembly import assembled
from repairs_gateway.config.loader import GatewayConfig, load_config
from repairs_gateway.domain.tokens import TokenSigner
from repairs_gateway.metrics import Metrics
from repairs_gateway.services.clients import KeyCache
from repairs_gateway.settings import Settings
from repairs_gateway.worker.runner import run_worker

log = logging.getLogger("repairs_gateway")


class RequestMetrics:
    """Counts and times every request by the operation (operationId) it reached."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # The labelled children, found once: ``labels()`` takes a lock and builds a key on
        # every call, a measurable share of a fast request.
        self._counted: dict[tuple[str, str], Any] = {}
        self._timed: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def record(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, record)
        finally:
            route = scope.get("route")
            operation = getattr(route, "operation_id", None) or getattr(route, "name", None)
            operation = operation or "unmatched"
            counted = self._counted.get((operation, str(status)))
            if counted is None:
                counted = self._counted[(operation, str(status))] = self.metrics.requests.labels(
                    operation, str(status)
                )
            counted.inc()
            timed = self._timed.get(operation)
            if timed is None:
                timed = self._timed[operation] = self.metrics.request_seconds.labels(operation)
            timed.observe(time.perf_counter() - started)


class GatewayApp(FastAPI):
    """FastAPI with the request id outermost: outside Starlette's own error middleware, so a
    500 answer carries the id too and its log line is logged with it."""

    def build_middleware_stack(self) -> ASGIApp:
        """Starlette's stack, inside ``RequestIds``."""
        return RequestIds(super().build_middleware_stack())


def create_app(
    settings: Settings | None = None, config: GatewayConfig | None = None, *, with_worker: bool = False
) -> FastAPI:
    """An app for ``settings`` (default: from the environment) serving ``config`` (default:
    the councils file the settings name), running a worker beside it when ``with_worker``.
    Migrations are not run here: see ``db upgrade``."""
    settings = settings or Settings()
    secret = settings.token_secret.get_secret_value()
    signer = TokenSigner(secret)  # fails fast on a missing or short secret
    config = config if config is not None else load_config(settings.config_file)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with assembled(settings, config, signer, metrics) as parts:
            app.state.gateway = GatewayState(parts, KeyCache(settings.api_key_cache_seconds))
            stop = asyncio.Event()
            worker = asyncio.create_task(run_worker(parts, stop)) if with_worker else None
            try:
                yield
            finally:
                stop.set()
                if worker is not None:
                    await worker

    app = GatewayApp(
        title="Repairs API",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # the published spec is the hand-written file at /v1/openapi.yaml
        # A trailing slash is a path the API does not have: a 404 problem document naming the
        # path without it, not a 307 that clients follow into a plain-text 405.
        redirect_slashes=False,
    )
    errors.install(app)
    for module in (councils, addresses, appointments, repairs, staff, callbacks, ops):
        app.include_router(module.router)
    app.add_middleware(BodyLimits, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=metrics)
    return app


def app_from_environment() -> FastAPI:
    """The app for the settings in the environment, without a worker: what each process of
    ``serve --workers N`` builds (uvicorn imports it by name in every process)."""
    return create_app(Settings())
