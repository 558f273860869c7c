"""Check your answers: the whole report, each answer with a link to change it, before it
is sent (the sending is in ``sending``)."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from repairs_gateway.web.display import triage_labels
from repairs_gateway.web.report.contact import CHANNELS
from repairs_gateway.web.report.journey import journey, ready_for
from repairs_gateway.web.site import redirect, site_of

router = APIRouter()


@router.get("/report/check")
async def check_page(request: Request) -> Response:
    """Check your answers, each with a link to change it."""
    report = journey(request)
    if not ready_for(request, "uprn", "path", "description", "contact"):
        return redirect("/report/postcode")
    if "window" not in report:
        return redirect("/report/appointments")
    site = site_of(request)
    labels = triage_labels(await site.triage(), str(report["path"]))
    contact = report["contact"]
    channel = dict(CHANNELS).get(contact.get("preferredChannel", ""), "")
    window = report.get("window")
    rows = [
        ("Address", report.get("address", ""), "/report/address", "address"),
        ("Problem", ": ".join(labels), "/report/triage", "problem"),
        ("Description", report["description"], "/report/description", "description"),
        (
            "Appointment",
            window["text"] if window else "None: we will contact you to arrange a time",
            "/report/appointments",
            "appointment",
        ),
        ("Name", contact.get("name", ""), "/report/contact", "name"),
        ("Phone", contact.get("phone") or "Not given", "/report/contact", "phone number"),
        ("Email", contact.get("email") or "Not given", "/report/contact", "email address"),
        ("Contact me by", channel, "/report/contact", "how to contact you"),
    ]
    # The key the sending uses, so that pressing the button twice reports the repair once.
    report.setdefault("idempotency_key", str(uuid.uuid4()))
    return await site.render(
        request,
        "check_answers.html",
        title="Check your answers before sending your report",
        rows=[
            {
                "key": {"text": key},
                "value": {"text": value},
                "actions": {"items": [{"href": href, "text": "Change", "visuallyHiddenText": hidden}]},
            }
            for key, value, href, hidden in rows
        ],
        button="Book this appointment" if window else "Send the report",
        back_href="/report/contact",
    )
