"""The resident site's ASGI app."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.middleware.base import RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from repairs_gateway.web import check, report, start
from repairs_gateway.web.api_client import ApiProblem, ApiUnreachable, RepairsApi
from repairs_gateway.web.forms import CsrfRefused
from repairs_gateway.web.security import SecurityHeaders
from repairs_gateway.web.session import SignedCookieSession
from repairs_gateway.web.site import Site, site_of

log = logging.getLogger("repairs_gateway.web")

STATIC = Path(__file__).parent / "static"

SERVICE_PROBLEM = "Sorry, there is a problem with the service"
# The site knows no council's phone number or opening hours: the council's own pages do.
CONTACT_US = "If you need to report, change or cancel a repair now, contact the council."


def create_web_app(
    client: httpx.AsyncClient, council: str, api_key: str, session_secret: str, assets: Path | None
) -> FastAPI:
    """The site for ``council``, calling the gateway through ``client`` (whose base URL is
    the gateway's) with ``api_key``; GOV.UK Frontend's files served from ``assets`` (its
    ``dist/govuk`` folder) when given."""
    # httpx logs each request's URL at INFO, and the API's address search carries the
    # postcode in its query: a resident's data must not reach the logs.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.state.site = Site(RepairsApi(client, council, api_key), council)
    app.include_router(start.router)
    app.include_router(report.router)
    app.include_router(check.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    if assets is not None:
        app.mount("/assets", StaticFiles(directory=assets / "assets", check_dir=False), name="assets")
        app.mount("/govuk-frontend", StaticFiles(directory=assets, check_dir=False), name="govuk")
    app.add_middleware(SignedCookieSession, secret=session_secret, council=council)

    # Between the session and the security headers: a fault nothing else handles still gets
    # a page in the site's look, with its headers, instead of Starlette's bare text.
    @app.middleware("http")
    async def unexpected_fault(request: Request, call_next: RequestResponseEndpoint) -> Response:
        try:
            return await call_next(request)
        except Exception:
            log.exception("The site failed on %s", request.url.path)
            return await _service_problem(request, 500, "Try again later.")

    # Added last, so it runs first: the nonce exists before any page is rendered.
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused) -> Response:
        return await _problem_page(
            request,
            403,
            "Your form could not be checked",
            "This page was open for too long, or came from another site. Go back to the start and try again.",
        )

    @app.exception_handler(ApiProblem)
    async def api_problem(request: Request, exc: ApiProblem) -> Response:
        # The status and type say what went wrong to whoever runs the site. The detail is
        # not logged: another implementation's may echo what the resident sent.
        log.warning("The gateway answered %s %s on %s", exc.status, exc.type, request.url.path)
        # The API's detail is written for developers ("the API key is not valid"): a resident
        # gets what they can do instead, as GOV.UK's service problem pages do.
        return await _service_problem(request, 503 if exc.status == 503 else 500, "Try again later.")

    @app.exception_handler(ApiUnreachable)
    async def unreachable(request: Request, exc: ApiUnreachable) -> Response:
        log.warning("The gateway did not answer (%s) on %s", exc, request.url.path)
        return await _service_problem(
            request, 503, "Try again later. Nothing you entered on this page has been sent."
        )

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if exc.status_code == 404:
            return await _problem_page(request, 404, "Page not found", "Check the address is correct.")
        return await _problem_page(
            request, exc.status_code, "Sorry, that did not work", "Go back and try again."
        )

    return app


async def _service_problem(request: Request, status: int, what_to_do: str) -> Response:
    """GOV.UK's "problem with the service" page: what to do, then how to reach the council."""
    return await _problem_page(request, status, SERVICE_PROBLEM, what_to_do, CONTACT_US)


async def _problem_page(request: Request, status: int, heading: str, *paragraphs: str) -> Response:
    return await site_of(request).render(
        request, "problem.html", status=status, title=heading, heading=heading, paragraphs=list(paragraphs)
    )
