"""A time for the repair: the council's free windows a page of days at a time, or none."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from repairs_gateway.web.display import window_text
from repairs_gateway.web.forms import GONE, read_form
from repairs_gateway.web.report.journey import CURSORS, journey, ready_for
from repairs_gateway.web.site import flash_errors, redirect
from repairs_gateway.web.windows import WindowSearch, find_window, page_number, show_windows, window_key

router = APIRouter()


def _search(request: Request) -> WindowSearch:
    report = journey(request)
    return WindowSearch(str(report["uprn"]), {"triagePath": str(report["path"])}, CURSORS)


@router.get("/report/appointments")
async def appointments_page(request: Request) -> Response:
    """Free windows, a page of days at a time."""
    if not ready_for(request, "uprn", "path", "description"):
        return redirect("/report/postcode")
    window = journey(request).get("window") or {}
    return await _times_page(request, page_number(request), flash_errors(request), window.get("key"))


async def _times_page(
    request: Request, page: int, errors: dict[str, str], chosen: str | None = None
) -> Response:
    return await show_windows(
        request,
        _search(request),
        page=page,
        url="/report/appointments",
        button="Continue",
        back_href="/report/description",
        errors=errors,
        chosen=chosen,
        without_window=True,
    )


@router.post("/report/appointments")
async def appointments_answer(request: Request) -> Response:
    """Keep the chosen window (as the API offers it now), or none; on to contact details."""
    form = await read_form(request)
    if not ready_for(request, "uprn", "path", "description"):
        return redirect("/report/postcode")
    report = journey(request)
    page = int(form["page"]) if form.get("page", "").isdigit() else 1
    if form.get("action") == "none":
        report["window"] = None
    else:
        window = await find_window(request, _search(request), page, form.get("windowId", ""))
        if window is None:
            message = GONE if form.get("windowId") else "Choose a time, or continue without an appointment"
            return await _times_page(request, page, {"windowId": message})
        report["window"] = {"id": window["id"], "key": window_key(window), "text": window_text(window)}
    return redirect("/report/check" if report.get("contact") else "/report/contact")
