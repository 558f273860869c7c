"""The problem in the resident's own words."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from repairs_gateway.web.forms import read_form
from repairs_gateway.web.report.journey import journey, ready_for
from repairs_gateway.web.site import flash_errors, redirect, site_of

router = APIRouter()

DESCRIPTION_LIMIT = 2000


@router.get("/report/description")
async def description_page(request: Request) -> Response:
    """The problem in the resident's words."""
    if not ready_for(request, "uprn", "path"):
        return redirect("/report/postcode")
    return await _description_page(
        request, str(journey(request).get("description", "")), flash_errors(request)
    )


async def _description_page(request: Request, value: str, errors: dict[str, str]) -> Response:
    return await site_of(request).render(
        request,
        "description.html",
        status=400 if errors else 200,
        errors=errors,
        title="Describe the problem",
        description=value,
        limit=DESCRIPTION_LIMIT,
        back_href="/report/triage",
    )


@router.post("/report/description")
async def description_answer(request: Request) -> Response:
    """Keep the description; on to the times."""
    form = await read_form(request)
    if not ready_for(request, "uprn", "path"):
        return redirect("/report/postcode")
    value = form.get("description", "").strip()
    if not value:
        return await _description_page(request, value, {"description": "Describe the problem"})
    if len(value) > DESCRIPTION_LIMIT:
        return await _description_page(
            request,
            value,
            {"description": f"The description must be {DESCRIPTION_LIMIT} characters or fewer"},
        )
    report = journey(request)
    report["description"] = value
    # From "check your answers", straight back there, unless a change means choosing a time again.
    return redirect(
        "/report/check" if report.get("contact") and "window" in report else "/report/appointments"
    )
