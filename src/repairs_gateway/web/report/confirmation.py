"""The confirmation of a report sent: its reference, the appointment if one was booked,
and what happens next."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from repairs_gateway.web.display import clock_words
from repairs_gateway.web.site import redirect, site_of

router = APIRouter()


@router.get("/report/done")
async def done_page(request: Request) -> Response:
    """The confirmation: the reference, the appointment if one was booked, what happens next."""
    done = request.session.get("done")
    if not isinstance(done, dict):
        return redirect("/")
    if done.get("joined"):
        heading = "Your report has been added to an open repair"
    elif done.get("status") == "booked":
        heading = "Repair booked"
    else:
        heading = "Repair reported"
    steps = clock_words(str(done.get("nextSteps") or ""))
    reference = str(done.get("reference") or "")
    day = str(done.get("appointmentDay") or "")
    # Each thing once: the API's next steps usually name the visit's day and time, and the
    # reference, which the panel shows. The site adds the appointment only when they do
    # not name its day (any implementation may word them its own way), and the reference
    # only in the panel.
    return await site_of(request).render(
        request,
        "done.html",
        title=heading,
        heading=heading,
        reference=reference,
        steps=steps,
        appointment=done.get("appointment") if not day or day not in steps else None,
        steps_name_reference=bool(reference) and reference in steps,
    )
