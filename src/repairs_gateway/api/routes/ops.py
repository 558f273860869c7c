"""Operational endpoints, outside the standard: the spec, health, readiness and metrics."""

from __future__ import annotations

import asyncio
import logging

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from repairs_gateway.api.deps import State
from repairs_gateway.api.routes.staff import Staff
from repairs_gateway.domain.repair import RepairStatus
from repairs_gateway.ports import AdapterError
from repairs_gateway.spec import spec_text

log = logging.getLogger("repairs_gateway.api")
router = APIRouter(include_in_schema=False)


@router.get("/v1/openapi.yaml")
async def openapi_yaml() -> Response:
    """The standard this gateway serves, as written."""
    return PlainTextResponse(spec_text(), media_type="application/yaml")


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(gateway: State) -> JSONResponse:
    """The database answers, and every council's address source answers a lookup."""
    checks: dict[str, str] = {}
    try:
        async with gateway.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # readiness reports any failure rather than raising it
        checks["database"] = f"failing: {type(exc).__name__}"

    async def probe(council_id: str) -> None:
        council = gateway.councils[council_id]
        try:
            await council.addresses.address("0")
            checks[f"{council_id}.addresses"] = "ok"
        except AdapterError as exc:
            checks[f"{council_id}.addresses"] = f"failing: {exc}"

    await asyncio.gather(*(probe(cid) for cid in gateway.councils))
    ready = all(value == "ok" for value in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks}, status_code=200 if ready else 503
    )


@router.get("/metrics")
async def metrics(gateway: State, staff: Staff) -> Response:
    """Prometheus metrics, the backlog read from the database now (the worker may be
    another process)."""
    try:
        backlog = await staff.backlog()
    except Exception:  # the request metrics are still worth serving without the database
        log.warning("the backlog could not be read for /metrics", exc_info=True)
        gateway.metrics.forget_backlog()
    else:
        gateway.metrics.observe_backlog(
            backlog.repairs,
            backlog.jobs,
            backlog.oldest_due_seconds,
            sum(backlog.dead.values()),
            councils=gateway.councils,
            statuses=[status.value for status in RepairStatus],
        )
    return Response(gateway.metrics.render(), media_type=CONTENT_TYPE_LATEST)
