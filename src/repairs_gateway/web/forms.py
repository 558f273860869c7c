"""Reading the site's forms, and turning the API's problem documents into field errors."""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import HTTPException
from starlette.requests import Request

from repairs_gateway.web.api_client import ApiProblem
from repairs_gateway.web.session import CSRF_FIELD, csrf_matches

# A form of this site is a few short fields and a description of at most 2,000 characters.
MAX_FORM_BYTES = 32 * 1024

# A window the resident chose that the API no longer offers (or no longer knows).
GONE = "That time is no longer available. Choose another time."

# The API's field names (its problem documents' errors[].field) as this site's form fields,
# each with what to tell a resident. The API's own messages are written for developers
# ("String should match pattern '^\\+?[0-9]...'") and differ between implementations: the
# field they name is what the site takes from them. `contact` alone means "give a phone
# number or an email": the phone field is where to start.
FORM_FIELD: dict[str, tuple[str, str]] = {
    "postcode": ("postcode", "Enter a full UK postcode, such as the one on a letter from the council"),
    "uprn": ("uprn", "We cannot take a repair at this address online. Choose another, or contact us"),
    "repair.triagePath": (
        "answer",
        "The questions have changed since you answered them. Answer them again",
    ),
    "description": ("description", "Enter a description of the problem in 2,000 characters or fewer"),
    "windowId": ("windowId", GONE),
    "contact": ("phone", "Enter a phone number or an email address, so we can contact you"),
    "contact.name": ("name", "Enter your name in 100 characters or fewer"),
    "contact.phone": ("phone", "Enter a UK phone number, like 01632 960 001 or 07700 900 982"),
    "contact.email": ("email", "Enter an email address in the correct format, like name@example.com"),
    "contact.preferredChannel": ("preferredChannel", "Choose how we should contact you"),
    "reference": (
        "reference",
        "Enter the repair reference exactly as it was given to you: "
        "letters, a hyphen, then 7 letters and numbers",
    ),
}
# What a form field's error says when the API names no field the site shows.
FIELD_MESSAGE = {form_field: message for form_field, message in FORM_FIELD.values()}
FIELD_MESSAGE["phone"] = FORM_FIELD["contact.phone"][1]

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
    """A problem document's errors by this site's form field, in the site's words; a problem
    naming no field the site shows (or none at all) is put on ``fallback_field``."""
    errors: dict[str, str] = {}
    for error in problem.errors:
        if error.field in FORM_FIELD:
            name, message = FORM_FIELD[error.field]
            errors.setdefault(name, message)
    if not errors:
        errors[fallback_field] = FIELD_MESSAGE[fallback_field]
    return errors


def errors_on_one_page(errors: dict[str, str]) -> tuple[str, dict[str, str]]:
    """The report page holding the first field in ``errors``, and the errors of the fields
    on it: an error summary links only to fields on its own page. The others are met again
    when the report is sent once this page's are put right."""
    page = PAGE_OF_FIELD.get(next(iter(errors)), "/report/check")
    return page, {name: message for name, message in errors.items() if PAGE_OF_FIELD.get(name) == page}


def summary(errors: dict[str, str]) -> list[dict[str, str]]:
    """The error summary's list: each message linking to its field."""
    return [{"text": message, "href": f"#{name}"} for name, message in errors.items()]
