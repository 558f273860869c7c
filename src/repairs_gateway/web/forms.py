"""Reading the site's forms, and turning the API's problem documents into field errors."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import HTTPException
from starlette.requests import Request

from repairs_gateway.web.api_client import ApiProblem
from repairs_gateway.web.session import CSRF_FIELD, csrf_matches

# A form of this site is a few short fields and a description of at most 2,000 characters.
MAX_FORM_BYTES = 32 * 1024

# The API's field names (its problem documents' errors[].field) as this site's form fields.
# `contact` alone means "give a phone number or an email": the phone field is where to start.
FORM_FIELD = {
    "postcode": "postcode",
    "uprn": "uprn",
    "repair.triagePath": "answer",
    "description": "description",
    "windowId": "windowId",
    "contact": "phone",
    "contact.name": "name",
    "contact.phone": "phone",
    "contact.email": "email",
    "contact.preferredChannel": "preferredChannel",
    "reference": "reference",
}

# Which page of the report journey holds each form field.
PAGE_OF_FIELD = {
    "postcode": "/report/postcode",
    "uprn": "/report/address",
    "answer": "/report/triage",
    "description": "/report/description",
    "windowId": "/report/appointments",
    "name": "/report/contact",
    "phone": "/report/contact",
    "email": "/report/contact",
    "preferredChannel": "/report/contact",
}


class CsrfRefused(HTTPException):
    """A form sent without this session's CSRF token."""

    def __init__(self) -> None:
        super().__init__(status_code=403, detail="csrf")


async def read_form(request: Request) -> dict[str, str]:
    """The POSTed form's fields (first value of each), after checking its CSRF token.

    URL-encoded forms are all this site sends, so the standard library reads them."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise HTTPException(status_code=413, detail="too large")
    try:
        parsed = parse_qs(body.decode("utf-8"), keep_blank_values=True, max_num_fields=50)
    except (UnicodeDecodeError, ValueError) as exc:
        raise HTTPException(status_code=400, detail="unreadable form") from exc
    form = {name: values[0] for name, values in parsed.items()}
    if not csrf_matches(request, form.get(CSRF_FIELD)):
        raise CsrfRefused()
    return form


def field_errors(problem: ApiProblem, fallback_field: str) -> dict[str, str]:
    """A problem document's errors by this site's form field; a problem naming no field we
    show (or none at all) is put on ``fallback_field`` with its ``detail``."""
    errors: dict[str, str] = {}
    for error in problem.errors:
        name = FORM_FIELD.get(error.field)
        if name and name not in errors:
            errors[name] = error.message
    if not errors:
        errors[fallback_field] = problem.detail or "Check this and try again."
    return errors


def summary(errors: dict[str, str]) -> list[dict[str, str]]:
    """The error summary's list: each message linking to its field."""
    return [{"text": message, "href": f"#{name}"} for name, message in errors.items()]
