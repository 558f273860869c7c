"""A report that repeats a repair already open at the property: its reference, and the
choice to send this one as a new problem."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from repairs_gateway.web.report.journey import journey
from repairs_gateway.web.site import redirect, site_of

router = APIRouter()


@router.get("/report/duplicate")
async def duplicate_page(request: Request) -> Response:
    """The report repeats a repair open at the home: its reference, and the choice to report
    this one as a new problem (the report stays in the session for that)."""
    report = journey(request)
    if "open_repair" not in report:
        return redirect("/report/check")
    return await site_of(request).render(
        request,
        "duplicate.html",
        title="This problem has already been reported",
        reference=str(report["open_repair"]),
        back_href="/report/check",
    )
