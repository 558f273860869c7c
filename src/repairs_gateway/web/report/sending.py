"""Sending the report (createRepair), and where a report the API refuses goes back to."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from repairs_gateway.web.api_client import ApiProblem
from repairs_gateway.web.display import short_day_text, uk_time, window_text
from repairs_gateway.web.forms import errors_on_one_page, field_errors, read_form
from repairs_gateway.web.report.journey import CURSORS, journey, ready_for
from repairs_gateway.web.site import redirect, site_of
from repairs_gateway.web.windows import TAKEN

router = APIRouter()

# How often, and how far apart, a report sent twice waits for the first to be answered.
IN_PROGRESS_TRIES = 5
IN_PROGRESS_WAIT_SECONDS = 1.0


@router.post("/report/check")
async def send_report(request: Request) -> Response:
    """createRepair: a confirmation, or back to the page whose answer the API refused."""
    form = await read_form(request)
    report = journey(request)
    if not ready_for(request, "uprn", "path", "description", "contact", "idempotency_key"):
        return redirect("/report/postcode")
    if "window" not in report:
        return redirect("/report/appointments")
    contact = {name: value for name, value in report["contact"].items() if value}
    body: dict[str, Any] = {
        "uprn": report["uprn"],
        "repair": {"triagePath": report["path"]},
        "description": report["description"],
        "contact": contact,
    }
    if report.get("window"):
        body["windowId"] = report["window"]["id"]
    if form.get("newProblem") == "true":
        body["newProblem"] = True
    # This sending decides afresh whether the report repeats an open repair.
    report.pop("open_repair", None)
    for attempt in range(IN_PROGRESS_TRIES):
        try:
            status, repair = await site_of(request).api.create_repair(body, str(report["idempotency_key"]))
            break
        except ApiProblem as problem:
            # A second press of the button (JavaScript off) while the first is being booked:
            # the same key answers the first's result once it is done.
            if problem.type.endswith("/request-in-progress") and attempt < IN_PROGRESS_TRIES - 1:
                await asyncio.sleep(IN_PROGRESS_WAIT_SECONDS)
                continue
            return await _refused(request, problem)
    # The appointment's day as next steps would write it, without the year ("Monday 7 December").
    day = uk_time(repair["appointment"]["start"]).date() if repair.get("appointment") else None
    request.session["done"] = {
        "reference": repair.get("reference"),
        "status": repair.get("status"),
        "joined": status == 200,
        "nextSteps": repair.get("nextSteps", ""),
        "appointment": window_text(repair["appointment"]) if repair.get("appointment") else None,
        "appointmentDay": short_day_text(day, today=day) if day else None,
    }
    request.session.pop("report", None)
    request.session.pop(CURSORS, None)
    return redirect("/report/done")


async def _refused(request: Request, problem: ApiProblem) -> Response:
    """Where a refused report goes: a taken window back to the times, a field the API
    names back to its page, a repeat of an open repair to its own page."""
    report = journey(request)
    # Nothing was created, so the key is free; a changed body will need a new one anyway.
    report["idempotency_key"] = str(uuid.uuid4())
    if problem.status == 409 and problem.type.endswith("/duplicate-repair"):
        # Shown after a redirect, so that refreshing it does not send the report again.
        report["open_repair"] = problem.existing_reference or ""
        return redirect("/report/duplicate")
    if problem.status == 409 and problem.type.endswith("/window-unavailable"):
        _choose_time_again(request)
        request.session["errors"] = {"windowId": TAKEN}
        return redirect("/report/appointments")
    if problem.status in (400, 422) and (problem.errors or problem.type.endswith("/invalid-window")):
        page, errors = errors_on_one_page(field_errors(problem, "windowId"))
        if "windowId" in errors:
            _choose_time_again(request)
        request.session["errors"] = errors
        return redirect(page)
    raise problem


def _choose_time_again(request: Request) -> None:
    """The window the report had is gone: none chosen, and the times from their first page."""
    journey(request)["window"] = None
    request.session[CURSORS] = [None]
