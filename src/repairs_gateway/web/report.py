"""Report a repair: postcode, address, the council's questions, description, a time,
contact details, check your answers, confirmation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from repairs_gateway.web.api_client import ApiProblem
from repairs_gateway.web.display import (
    address_text,
    find_option,
    triage_node,
)
from repairs_gateway.web.forms import field_errors, read_form
from repairs_gateway.web.site import redirect, site_of, take_flash

router = APIRouter()

KIND_HINT = {
    "dwelling": "Home",
    "communal": "Shared area of the building, for all residents",
}

EXIT_HEADING = {
    "emergency": "This is an emergency",
    "unable_to_book": "We cannot book this repair online",
    "not_responsible": "This repair is not ours to do",
    "contact_us": "Contact us about this repair",
}

DESCRIPTION_LIMIT = 2000

CHANNELS = [("phone", "Phone call"), ("sms", "Text message"), ("email", "Email")]


def journey(request: Request) -> dict[str, Any]:
    """The report in progress, kept in the session."""
    report = request.session.get("report")
    if not isinstance(report, dict):
        report = {}
        request.session["report"] = report
    return report


def _changed(request: Request) -> None:
    # The session is compared when the answer is sent; nested edits are seen then too.
    request.session["report"] = dict(journey(request))


@router.get("/")
async def start(request: Request) -> Response:
    """The start page."""
    return await site_of(request).render(request, "start.html", title="Housing repairs")


@router.get("/report/postcode")
async def postcode_page(request: Request) -> Response:
    """The postcode question."""
    errors = take_flash(request, "errors") or {}
    return await site_of(request).render(
        request,
        "postcode.html",
        title="What is the postcode of the property?",
        postcode=journey(request).get("postcode", ""),
        errors=errors,
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
        return await site.render(
            request,
            "postcode.html",
            status=400,
            errors=errors,
            title="What is the postcode of the property?",
            postcode=postcode,
            back_href="/",
        )
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
    return await _address_page(request, addresses, take_flash(request, "errors") or {})


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
    report.update(uprn=chosen["uprn"], address=address_text(chosen), kind=chosen.get("kind"))
    _changed(request)
    return redirect("/report/triage")


def _steps(path: str) -> list[str]:
    return [step for step in path.split("/") if step]


async def _question_page(request: Request, path: str, errors: dict[str, str]) -> Response:
    site = site_of(request)
    tree = await site.triage()
    steps = _steps(path)
    node = triage_node(tree, steps)
    if node is None:
        return redirect("/report/triage")
    report = journey(request)
    chosen_path = _steps(str(report.get("path", "")))
    chosen = (
        chosen_path[len(steps)]
        if chosen_path[: len(steps)] == steps and len(chosen_path) > len(steps)
        else None
    )
    items = [{"value": option["id"], "text": option["label"]} for option in node.get("options", [])]
    back = "/report/address" if not steps else "/report/triage/" + "/".join(steps[:-1])
    return await site.render(
        request,
        "question.html",
        status=400 if errors else 200,
        errors=errors,
        title=str(node.get("question", "")),
        question=node.get("question", ""),
        items=items,
        chosen=chosen,
        action="/report/triage" + ("/" + "/".join(steps) if steps else ""),
        back_href=back.rstrip("/"),
    )


@router.get("/report/triage")
@router.get("/report/triage/{path:path}")
async def question_page(request: Request, path: str = "") -> Response:
    """The council's question after the answers in ``path`` (option ids, not resident data)."""
    if not journey(request).get("uprn"):
        return redirect("/report/postcode")
    return await _question_page(request, path, take_flash(request, "errors") or {})


@router.post("/report/triage")
@router.post("/report/triage/{path:path}")
async def question_answer(request: Request, path: str = "") -> Response:
    """An answer leads to the next question, to the description (a job) or to an exit."""
    form = await read_form(request)
    if not journey(request).get("uprn"):
        return redirect("/report/postcode")
    tree = await site_of(request).triage()
    steps = _steps(path)
    option = find_option(triage_node(tree, steps), form.get("answer", ""))
    if option is None:
        return await _question_page(
            request, path, {"answer": "Select the answer that best describes the problem"}
        )
    here = [*steps, option["id"]]
    if option.get("next"):
        return redirect("/report/triage/" + "/".join(here))
    outcome = option.get("outcome") or {}
    if outcome.get("type") == "exit":
        return redirect("/report/exit/" + "/".join(here))
    report = journey(request)
    if report.get("path") != outcome.get("path"):
        # Another job may have other times: a chosen window no longer applies.
        report.pop("window", None)
        report.pop("cursors", None)
    report["path"] = outcome.get("path", "/".join(here))
    _changed(request)
    return redirect("/report/description")


@router.get("/report/exit/{path:path}")
async def exit_page(request: Request, path: str) -> Response:
    """An early exit: the council's message, and no booking."""
    site = site_of(request)
    steps = _steps(path)
    tree = await site.triage()
    option = find_option(triage_node(tree, steps[:-1]), steps[-1]) if steps else None
    outcome = (option or {}).get("outcome") or {}
    if outcome.get("type") != "exit":
        return redirect("/report/triage")
    kind = str(outcome.get("exit", "contact_us"))
    heading = EXIT_HEADING.get(kind, EXIT_HEADING["contact_us"])
    return await site.render(
        request,
        "exit.html",
        title=heading,
        heading=heading,
        kind=kind,
        message=outcome.get("message", ""),
        back_href="/report/triage/" + "/".join(steps[:-1]) if len(steps) > 1 else "/report/triage",
    )
