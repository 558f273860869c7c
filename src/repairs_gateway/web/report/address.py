"""Where the repair is needed: the postcode, then one of the council's properties there
(a home or a shared area)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from repairs_gateway.web.api_client import ApiProblem
from repairs_gateway.web.display import address_text
from repairs_gateway.web.forms import field_errors, read_form
from repairs_gateway.web.report.journey import forget_window, journey
from repairs_gateway.web.site import flash_errors, redirect, site_of

router = APIRouter()

KIND_HINT = {
    "dwelling": "Home",
    "communal": "Shared area of the building, for all residents",
}


@router.get("/report/postcode")
async def postcode_page(request: Request) -> Response:
    """The postcode question."""
    return await _postcode_page(request, journey(request).get("postcode", ""), flash_errors(request))


async def _postcode_page(
    request: Request, postcode: str, errors: dict[str, str], status: int = 200
) -> Response:
    return await site_of(request).render(
        request,
        "postcode.html",
        status=status,
        errors=errors,
        title="What is the postcode of the property?",
        postcode=postcode,
        back_href="/",
    )


@router.post("/report/postcode")
async def postcode_answer(request: Request) -> Response:
    """Look the postcode up; on to the addresses when the council has properties there."""
    site = site_of(request)
    form = await read_form(request)
    postcode = form.get("postcode", "").strip()
    errors: dict[str, str] = {}
    if not postcode:
        errors["postcode"] = "Enter the postcode of the property"
    else:
        try:
            found = await site.api.addresses(postcode)
        except ApiProblem as problem:
            if problem.status != 400:
                raise
            errors = field_errors(problem, "postcode")
        else:
            if not found.get("addresses"):
                errors["postcode"] = (
                    f"We do not look after any properties at {found.get('postcode', postcode)}. "
                    "Check the postcode, or contact us"
                )
    if errors:
        return await _postcode_page(request, postcode, errors, status=400)
    # A new postcode starts a new report.
    request.session["report"] = {"postcode": found.get("postcode", postcode)}
    return redirect("/report/address")


async def _addresses(request: Request) -> list[dict[str, Any]] | None:
    postcode = journey(request).get("postcode")
    if not postcode:
        return None
    found = await site_of(request).api.addresses(str(postcode))
    addresses: list[dict[str, Any]] = found.get("addresses", [])
    return addresses


async def _address_page(
    request: Request, addresses: list[dict[str, Any]], errors: dict[str, str]
) -> Response:
    report = journey(request)
    items = [
        {
            "value": address["uprn"],
            "text": ", ".join(address.get("addressLines", [])),
            "hint": {"text": KIND_HINT.get(str(address.get("kind")), "")},
        }
        for address in addresses
    ]
    return await site_of(request).render(
        request,
        "address.html",
        status=400 if errors else 200,
        errors=errors,
        title="Where is the repair needed?",
        items=items,
        chosen=report.get("uprn"),
        postcode=report.get("postcode", ""),
        back_href="/report/postcode",
    )


@router.get("/report/address")
async def address_page(request: Request) -> Response:
    """The council's properties at the postcode: homes and shared areas."""
    addresses = await _addresses(request)
    if not addresses:
        return redirect("/report/postcode")
    return await _address_page(request, addresses, flash_errors(request))


@router.post("/report/address")
async def address_answer(request: Request) -> Response:
    """Keep the chosen property; on to the first question."""
    form = await read_form(request)
    addresses = await _addresses(request)
    if not addresses:
        return redirect("/report/postcode")
    chosen = next((a for a in addresses if a["uprn"] == form.get("uprn")), None)
    if chosen is None:
        return await _address_page(
            request, addresses, {"uprn": "Select the address where the repair is needed"}
        )
    report = journey(request)
    if report.get("uprn") != chosen["uprn"]:
        # Windows are offered for one property: another one needs its own.
        forget_window(request)
    report.update(uprn=chosen["uprn"], address=address_text(chosen), kind=chosen.get("kind"))
    return redirect("/report/triage")
