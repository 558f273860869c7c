"""Who to contact about the repair, and how."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from repairs_gateway.web.forms import read_form
from repairs_gateway.web.report.journey import journey, ready_for
from repairs_gateway.web.site import flash_errors, redirect, site_of

router = APIRouter()

CHANNELS = [("phone", "Phone call"), ("sms", "Text message"), ("email", "Email")]


def _ready(request: Request) -> bool:
    return ready_for(request, "uprn", "path", "description") and "window" in journey(request)


@router.get("/report/contact")
async def contact_page(request: Request) -> Response:
    """Who to contact about the repair, and how."""
    if not _ready(request):
        return redirect("/report/postcode")
    return await _contact_page(request, journey(request).get("contact") or {}, flash_errors(request))


async def _contact_page(request: Request, values: dict[str, str], errors: dict[str, str]) -> Response:
    return await site_of(request).render(
        request,
        "contact.html",
        status=400 if errors else 200,
        errors=errors,
        title="Your contact details",
        values=values,
        channels=CHANNELS,
        back_href="/report/appointments",
    )


@router.post("/report/contact")
async def contact_answer(request: Request) -> Response:
    """Keep the contact details (the API judges their format when the report is sent)."""
    form = await read_form(request)
    if not _ready(request):
        return redirect("/report/postcode")
    values = {name: form.get(name, "").strip() for name in ("name", "phone", "email", "preferredChannel")}
    errors: dict[str, str] = {}
    if not values["name"]:
        errors["name"] = "Enter your name"
    channel = values["preferredChannel"]
    if channel not in {value for value, _ in CHANNELS}:
        errors["preferredChannel"] = "Choose how we should contact you"
    elif channel in {"phone", "sms"} and not values["phone"]:
        errors["phone"] = "Enter a phone number, so we can call or text you"
    elif channel == "email" and not values["email"]:
        errors["email"] = "Enter an email address, so we can email you"
    if errors:
        return await _contact_page(request, values, errors)
    journey(request)["contact"] = values
    return redirect("/report/check")
