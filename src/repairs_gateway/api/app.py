"""The FastAPI application factory."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from repairs_gateway import __version__
from repairs_gateway.api import errors
from repairs_gateway.api.limits import BodyLimits
from repairs_gateway.api.routes import addresses, appointments, councils, ops, repairs
from repairs_gateway.api.state import GatewayState
from repairs_gateway.config.loader import GatewayConfig, load_config
from repairs_gateway.domain.tokens import TokenSigner
from repairs_gateway.metrics import Metrics
from repairs_gateway.persistence.db import make_engine, make_sessionmaker
from repairs_gateway.resilience import BackendCaller
from repairs_gateway.runtime import build_councils, close_councils
from repairs_gateway.services.repair_store import RepairStore, stale_after_for
from repairs_gateway.services.repairs import RepairService
from repairs_gateway.settings import Settings

log = logging.getLogger("repairs_gateway")


class RequestMetrics:
    """Counts and times every request by the operation (operationId) it reached."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

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
            self.metrics.requests.labels(operation, str(status)).inc()
            self.metrics.request_seconds.labels(operation).observe(time.perf_counter() - started)


def create_app(settings: Settings | None = None, config: GatewayConfig | None = None) -> FastAPI:
    """An app for ``settings`` (default: from the environment) serving ``config`` (default:
    the councils file the settings name). Migrations are not run here: see ``db upgrade``."""
    settings = settings or Settings()
    secret = settings.token_secret.get_secret_value()
    signer = TokenSigner(secret)  # fails fast on a missing or short secret
    config = config if config is not None else load_config(settings.config_file)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.database_url)
        sessions = make_sessionmaker(engine)
        caller = BackendCaller(
            metrics,
            settings.backend_timeout_seconds,
            settings.backend_retries,
            booking_timeout=settings.booking_timeout_seconds,
        )
        council_map = build_councils(config, caller, sessions)
        stale_after = stale_after_for(
            max(settings.backend_timeout_seconds, settings.booking_timeout_seconds), settings.backend_retries
        )
        app.state.gateway = GatewayState(
            settings=settings,
            engine=engine,
            sessions=sessions,
            councils=council_map,
            signer=signer,
            metrics=metrics,
            repairs=RepairService(RepairStore(sessions, stale_after), signer),
        )
        try:
            yield
        finally:
            await close_councils(council_map)
            await engine.dispose()

    app = FastAPI(
        title="Repairs API",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,  # the published spec is the hand-written file at /v1/openapi.yaml
    )
    errors.install(app)
    for module in (councils, addresses, appointments, repairs, ops):
        app.include_router(module.router)
    app.add_middleware(BodyLimits, max_bytes=settings.max_body_bytes)
    app.add_middleware(RequestMetrics, metrics=metrics)
    return app
