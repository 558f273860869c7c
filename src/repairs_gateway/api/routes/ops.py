"""Operational endpoints, outside the standard: the spec, health, readiness and metrics.

Whether the gateway is ready is anyone's to ask (a load balancer has no secret); which
councils it serves, how each one's backends are doing and the metrics are an operator's,
shown only with the operator token (``REPAIRS_GATEWAY_OPERATOR_TOKEN``)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from repairs_gateway.api.deps import State
from repairs_gateway.api.problems import FieldError, Problem
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


def is_operator(request: Request, token: str) -> bool:
    """Whether the request carries ``Authorization: Bearer <token>``; never when ``token`` is
    empty (no operator configured). Compared in constant time, on digests so that the
    length of the token is not given away either."""
    if not token:
        return False
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given:
        return False
    return hmac.compare_digest(
        hashlib.sha256(given.strip().encode()).digest(), hashlib.sha256(token.encode()).digest()
    )


def _operator_only(request: Request, gateway: State) -> None:
    if not is_operator(request, gateway.settings.operator_token.get_secret_value()):
        detail = "this endpoint needs the operator token (REPAIRS_GATEWAY_OPERATOR_TOKEN)"
        # Its own type: the spec's ``unauthorized`` is about API keys, and is titled so.
        raise Problem(
            401,
            "operator-token-required",
            "Missing or invalid operator token",
            detail,
            [FieldError("Authorization", "header", detail)],
            headers={"WWW-Authenticate": 'Bearer realm="repairs-gateway-operator"'},
        )


@router.get("/readyz")
async def readyz(request: Request, gateway: State) -> JSONResponse:
    """The database answers, and every council's address source answers a lookup: 200 or
    503 to anyone; which check failed, council by council, only to the operator."""
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
    body: dict[str, object] = {"status": "ready" if ready else "not ready"}
    if is_operator(request, gateway.settings.operator_token.get_secret_value()):
        body["checks"] = checks
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics(request: Request, gateway: State, staff: Staff) -> Response:
    """Prometheus metrics, the backlog read from the database now (the worker may be
    another process); only to the operator."""
    _operator_only(request, gateway)
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
