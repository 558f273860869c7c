"""Every error as an RFC 9457 problem document, with the fields that were wrong."""

from __future__ import annotations

import logging
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from repairs_gateway.api.problems import FieldError, Location, Problem, from_domain
from repairs_gateway.domain.errors import DomainError

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("repairs_gateway.api")

_LOCATIONS: dict[str, Location] = {
    "path": "path",
    "query": "query",
    "header": "header",
    "body": "body",
}
_HEADER_NAMES = {"idempotency-key": "Idempotency-Key", "authorization": "Authorization"}


def instance_of(path: str) -> str:
    """The request path as a URI reference: non-ASCII and control characters percent-encoded."""
    return quote(path, safe="/:@!$&'()*+,;=-._~")


def render(problem: Problem, request: Request) -> JSONResponse:
    """The problem document for ``problem``."""
    body: dict[str, Any] = {
        "type": problem.type_uri,
        "title": problem.title,
        "status": problem.status,
        "detail": problem.detail,
        "instance": instance_of(request.url.path),
    }
    body.update({k: v for k, v in problem.extensions.items() if k not in body})
    if problem.errors:
        body["errors"] = [
            {"field": e.field, "location": e.location, "message": e.message} for e in problem.errors
        ]
    return JSONResponse(body, status_code=problem.status, media_type=PROBLEM_JSON, headers=problem.headers)


def _field_error(error: dict[str, Any]) -> FieldError:
    loc = [str(part) for part in error.get("loc", ())]
    location = _LOCATIONS.get(loc[0] if loc else "body", "body")
    parts = loc[1:]
    if location == "body" and error.get("type") == "json_invalid":
        return FieldError("body", "body", f"is not valid JSON ({error.get('ctx', {}).get('error', '')})")
    if location == "header" and parts:
        parts = [_HEADER_NAMES.get(parts[0].lower(), parts[0])]
    # Pydantic names the branch of a tagged union; callers only know the field path.
    parts = [p for p in parts if not p.startswith(("function-", "tagged-union"))]
    name = ".".join(parts) or location
    message = str(error.get("msg", "is not valid"))
    if error.get("type") == "missing":
        message = "is required"
    elif error.get("type") == "extra_forbidden":
        message = "is not a field of this request"
    return FieldError(name, location, message.removeprefix("Value error, "))


def validation_problem(exc: RequestValidationError) -> Problem:
    """A 400 naming every field that broke the schema."""
    errors = [_field_error(dict(e)) for e in exc.errors()]
    unique = list({(e.field, e.location, e.message): e for e in errors}.values())
    detail = "; ".join(f"{e.field}: {e.message}" for e in unique)
    return Problem(400, "invalid-request", "Invalid request", detail, unique)


def _framework_detail(exc: HTTPException, request: Request) -> str:
    """What the router's own 404 and 405 mean, in words a caller can act on."""
    path = instance_of(request.url.path)
    if exc.status_code == 404:
        if path.endswith("/") and path != "/":
            return f"there is no {path}; paths of this API have no trailing slash: {path.rstrip('/')}"
        return f"there is no {path} in this API"
    if exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        return f"{request.method} is not allowed on {path}; allowed: {allowed}"
    return str(exc.detail)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every failure into a problem document."""

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return render(exc, request)

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> JSONResponse:
        return render(from_domain(exc, request.path_params, request.query_params), request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return render(validation_problem(exc), request)

    @app.exception_handler(HTTPException)
    async def _http(request: Request, exc: HTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI could not read the body (not UTF-8, say)
            message = "could not be read as UTF-8 JSON"
            return render(
                Problem(
                    400,
                    "invalid-request",
                    "Invalid request",
                    f"body: {message}",
                    [FieldError("body", "body", message)],
                ),
                request,
            )
        titles = {404: "Not found", 405: "Method not allowed"}
        kinds = {404: "not-found", 405: "method-not-allowed"}
        problem = Problem(
            exc.status_code,
            kinds.get(exc.status_code, "request-failed"),
            titles.get(exc.status_code, "Request failed"),
            _framework_detail(exc, request),
            headers=dict(exc.headers or {}),
        )
        return render(problem, request)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error answering %s %s", request.method, request.url.path)
        problem = Problem(
            500,
            "internal-error",
            "Internal error",
            "Something went wrong on our side; nothing you sent was lost.",
        )
        return render(problem, request)
