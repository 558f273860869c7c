"""Check a repair: find it by reference and postcode, see its status and history, cancel
it or choose another time."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from repairs_gateway.web.api_client import ApiProblem, repair_form
from repairs_gateway.web.display import clock_words, moment_text, triage_labels, window_text
from repairs_gateway.web.forms import GONE, field_errors, read_form
from repairs_gateway.web.site import flash_errors, redirect, site_of, take_flash
from repairs_gateway.web.windows import TAKEN, WindowSearch, find_window, page_number, show_windows

router = APIRouter()

# The same words for a reference the council does not hold and for a postcode that is not
# the repair's, so that nobody can learn from the answer which references exist.
NOT_FOUND = "We could not find a repair with that reference at that postcode. Check both and try again"

STATUS_TAG = {
    "received": ("Reported", "govuk-tag--blue"),
    "booked": ("Booked", "govuk-tag--green"),
    "in_progress": ("In progress", "govuk-tag--yellow"),
    "completed": ("Completed", "govuk-tag--grey"),
    "cancelled": ("Cancelled", "govuk-tag--red"),
}

CHANGEABLE = {"received", "booked"}


async def _find_page(
    request: Request, values: dict[str, str], errors: dict[str, str], status: int
) -> Response:
    return await site_of(request).render(
        request,
        "find.html",
        status=status,
        errors=errors,
        title="Check a repair",
        values=values,
        back_href="/",
    )


@router.get("/check")
async def find_page(request: Request) -> Response:
    """Reference and postcode."""
    return await _find_page(request, {}, {}, 200)


@router.post("/check")
async def find_answer(request: Request) -> Response:
    """Show the repair only when the postcode is its property's."""
    site = site_of(request)
    form = await read_form(request)
    values = {name: form.get(name, "").strip() for name in ("reference", "postcode")}
    errors: dict[str, str] = {}
    if not values["reference"]:
        errors["reference"] = "Enter your repair reference"
    if not values["postcode"]:
        errors["postcode"] = "Enter the postcode of the property"
    if errors:
        return await _find_page(request, values, errors, 400)
    # The postcode first, then the reference's form: neither tells whether a reference exists.
    try:
        found = await site.api.addresses(values["postcode"])
    except ApiProblem as problem:
        if problem.status != 400:
            raise
        return await _find_page(request, values, field_errors(problem, "postcode"), 400)
    try:
        repair = await site.api.repair(values["reference"])
    except ApiProblem as problem:
        if problem.status == 400:
            return await _find_page(request, values, field_errors(problem, "reference"), 400)
        if problem.status != 404:
            raise
        repair = None
    uprns = {address.get("uprn") for address in found.get("addresses", [])}
    if repair is None or repair.get("uprn") not in uprns:
        return await _find_page(request, values, {"reference": NOT_FOUND}, 404)
    reference = str(repair["reference"])
    request.session["checked"] = {"reference": reference}
    return redirect(f"/repair/{reference}")


def _checked(request: Request, reference: str) -> bool:
    """Whether this session proved it knows the repair's postcode."""
    checked = request.session.get("checked")
    return isinstance(checked, dict) and str(checked.get("reference", "")).upper() == reference.upper()


@router.get("/repair/{reference}")
async def repair_page(request: Request, reference: str) -> Response:
    """The repair's status, appointment, next steps and history."""
    if not _checked(request, reference):
        return redirect("/check")
    site = site_of(request)
    repair = await site.api.repair(reference)
    labels = triage_labels(await site.triage(), str(repair["triagePath"])) if repair.get("triagePath") else []
    tag_text, tag_class = STATUS_TAG.get(str(repair.get("status")), (str(repair.get("status")), ""))
    history = [
        {"when": moment_text(str(event["at"])), "what": clock_words(str(event.get("description", "")))}
        for event in reversed(repair.get("history", []))
    ]
    return await site.render(
        request,
        "repair.html",
        title=f"Repair {repair['reference']}",
        repair=repair,
        problem=": ".join(labels),
        tag_text=tag_text,
        tag_class=tag_class,
        appointment=window_text(repair["appointment"]) if repair.get("appointment") else None,
        next_steps=clock_words(str(repair.get("nextSteps") or "")),
        history=history,
        changeable=repair.get("status") in CHANGEABLE,
        notice=take_flash(request),
        back_href="/check",
    )


@router.get("/repair/{reference}/cancel")
async def cancel_page(request: Request, reference: str) -> Response:
    """Are you sure?"""
    if not _checked(request, reference):
        return redirect("/check")
    return await site_of(request).render(
        request,
        "cancel.html",
        title="Are you sure you want to cancel this repair?",
        reference=reference.upper(),
        back_href=f"/repair/{reference.upper()}",
    )


@router.post("/repair/{reference}/cancel")
async def cancel_answer(request: Request, reference: str) -> Response:
    """cancelRepair, then back to the repair."""
    await read_form(request)
    if not _checked(request, reference):
        return redirect("/check")
    try:
        await site_of(request).api.cancel(reference)
    except ApiProblem as problem:
        if problem.status not in (409, 503):
            raise
        request.session["flash"] = {
            "kind": "error",
            "text": "This repair can no longer be cancelled online. Contact us if you need to change it."
            if problem.status == 409
            else "We could not cancel the repair just now. Nothing has changed: try again later.",
        }
        return redirect(f"/repair/{reference.upper()}")
    request.session["flash"] = {"kind": "success", "text": "Your repair has been cancelled."}
    return redirect(f"/repair/{reference.upper()}")


async def _move_search(request: Request, reference: str) -> tuple[WindowSearch, dict[str, Any]]:
    repair = await site_of(request).api.repair(reference)
    return WindowSearch(str(repair["uprn"]), repair_form(repair), "move_cursors"), repair


@router.get("/repair/{reference}/appointments")
async def move_page(request: Request, reference: str) -> Response:
    """Free windows for the repair's job at its property."""
    if not _checked(request, reference):
        return redirect("/check")
    search, repair = await _move_search(request, reference)
    if repair.get("status") not in CHANGEABLE:
        return redirect(f"/repair/{reference.upper()}")
    return await show_windows(
        request,
        search,
        page=page_number(request),
        url=f"/repair/{reference.upper()}/appointments",
        button="Book this appointment",
        back_href=f"/repair/{reference.upper()}",
        errors=flash_errors(request),
    )


@router.post("/repair/{reference}/appointments")
async def move_answer(request: Request, reference: str) -> Response:
    """rescheduleRepair into the chosen window; a window taken meanwhile says so."""
    form = await read_form(request)
    if not _checked(request, reference):
        return redirect("/check")
    url = f"/repair/{reference.upper()}/appointments"
    search, _ = await _move_search(request, reference)
    page = int(form["page"]) if form.get("page", "").isdigit() else 1
    window = await find_window(request, search, page, form.get("windowId", ""))
    if window is None:
        message = GONE if form.get("windowId") else "Choose a time"
        return await show_windows(
            request,
            search,
            page=page,
            url=url,
            button="Book this appointment",
            back_href=f"/repair/{reference.upper()}",
            errors={"windowId": message},
        )
    try:
        await site_of(request).api.reschedule(reference, str(window["id"]))
    except ApiProblem as problem:
        if problem.status == 409 and problem.type.endswith("/window-unavailable"):
            request.session["move_cursors"] = [None]
            request.session["errors"] = {"windowId": TAKEN}
            return redirect(url)
        if problem.status in (409, 503):
            request.session["flash"] = {
                "kind": "error",
                "text": "We could not move the appointment just now. It has not changed: try again later."
                if problem.status == 503
                else "This repair can no longer be moved online. Contact us if you need to change it.",
            }
            return redirect(f"/repair/{reference.upper()}")
        raise
    request.session["flash"] = {"kind": "success", "text": f"Your appointment is now {window_text(window)}."}
    return redirect(f"/repair/{reference.upper()}")
