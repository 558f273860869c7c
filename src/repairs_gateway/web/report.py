"""Report a repair: postcode, address, the council's questions, description, a time,
contact details, check your answers, confirmation."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from repairs_gateway.web.api_client import ApiProblem
from repairs_gateway.web.display import (
    address_text,
    clock_words,
    find_option,
    short_day_text,
    triage_labels,
    triage_node,
    uk_time,
    window_text,
)
from repairs_gateway.web.forms import GONE, errors_on_one_page, field_errors, read_form
from repairs_gateway.web.site import redirect, site_of, take_flash
from repairs_gateway.web.windows import (
    TAKEN,
    WindowSearch,
    find_window,
    page_number,
    show_windows,
    window_key,
)

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

# How often, and how far apart, a report sent twice waits for the first to be answered.
IN_PROGRESS_TRIES = 5
IN_PROGRESS_WAIT_SECONDS = 1.0

CHANNELS = [("phone", "Phone call"), ("sms", "Text message"), ("email", "Email")]


def journey(request: Request) -> dict[str, Any]:
    """The report in progress, kept in the session."""
    report = request.session.get("report")
    if not isinstance(report, dict):
        report = {}
        request.session["report"] = report
    return report


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
    if report.get("uprn") != chosen["uprn"]:
        # Windows are offered for one property: another one needs its own.
        report.pop("window", None)
        request.session.pop("report_cursors", None)
    report.update(uprn=chosen["uprn"], address=address_text(chosen), kind=chosen.get("kind"))
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
        request.session.pop("report_cursors", None)
    report["path"] = outcome.get("path", "/".join(here))
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


def _ready_for(request: Request, *needs: str) -> bool:
    report = journey(request)
    return all(report.get(need) for need in needs)


@router.get("/report/description")
async def description_page(request: Request) -> Response:
    """The problem in the resident's words."""
    if not _ready_for(request, "uprn", "path"):
        return redirect("/report/postcode")
    return await _description_page(
        request, str(journey(request).get("description", "")), _flash_errors(request)
    )


async def _description_page(request: Request, value: str, errors: dict[str, str]) -> Response:
    return await site_of(request).render(
        request,
        "description.html",
        status=400 if errors else 200,
        errors=errors,
        title="Describe the problem",
        description=value,
        limit=DESCRIPTION_LIMIT,
        back_href="/report/triage",
    )


@router.post("/report/description")
async def description_answer(request: Request) -> Response:
    """Keep the description; on to the times."""
    form = await read_form(request)
    if not _ready_for(request, "uprn", "path"):
        return redirect("/report/postcode")
    value = form.get("description", "").strip()
    if not value:
        return await _description_page(request, value, {"description": "Describe the problem"})
    if len(value) > DESCRIPTION_LIMIT:
        return await _description_page(
            request,
            value,
            {"description": f"The description must be {DESCRIPTION_LIMIT} characters or fewer"},
        )
    journey(request)["description"] = value
    # From "check your answers", straight back there, unless a change means choosing a time again.
    report = journey(request)
    return redirect(
        "/report/check" if report.get("contact") and "window" in report else "/report/appointments"
    )


def _search(request: Request) -> WindowSearch:
    report = journey(request)
    return WindowSearch(str(report["uprn"]), {"triagePath": str(report["path"])}, "report_cursors")


@router.get("/report/appointments")
async def appointments_page(request: Request) -> Response:
    """Free windows, a page of days at a time."""
    if not _ready_for(request, "uprn", "path", "description"):
        return redirect("/report/postcode")
    window = journey(request).get("window") or {}
    return await show_windows(
        request,
        _search(request),
        page=page_number(request),
        url="/report/appointments",
        button="Continue",
        back_href="/report/description",
        errors=_flash_errors(request),
        chosen=window.get("key"),
        without_window=True,
    )


@router.post("/report/appointments")
async def appointments_answer(request: Request) -> Response:
    """Keep the chosen window (as the API offers it now), or none; on to contact details."""
    form = await read_form(request)
    if not _ready_for(request, "uprn", "path", "description"):
        return redirect("/report/postcode")
    report = journey(request)
    page = int(form["page"]) if form.get("page", "").isdigit() else 1
    if form.get("action") == "none":
        report["window"] = None
    else:
        window = await find_window(request, _search(request), page, form.get("windowId", ""))
        if window is None:
            message = GONE if form.get("windowId") else "Choose a time, or continue without an appointment"
            return await show_windows(
                request,
                _search(request),
                page=page,
                url="/report/appointments",
                button="Continue",
                back_href="/report/description",
                errors={"windowId": message},
                without_window=True,
            )
        report["window"] = {"id": window["id"], "key": window_key(window), "text": window_text(window)}
    return redirect("/report/check" if report.get("contact") else "/report/contact")


@router.get("/report/contact")
async def contact_page(request: Request) -> Response:
    """Who to contact about the repair, and how."""
    if not _ready_for(request, "uprn", "path", "description") or "window" not in journey(request):
        return redirect("/report/postcode")
    return await _contact_page(request, journey(request).get("contact") or {}, _flash_errors(request))


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
    if not _ready_for(request, "uprn", "path", "description") or "window" not in journey(request):
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


def _flash_errors(request: Request) -> dict[str, str]:
    errors = take_flash(request, "errors")
    return errors if isinstance(errors, dict) else {}


@router.get("/report/check")
async def check_page(request: Request) -> Response:
    """Check your answers, each with a link to change it."""
    report = journey(request)
    if not _ready_for(request, "uprn", "path", "description", "contact"):
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


@router.post("/report/check")
async def send_report(request: Request) -> Response:
    """createRepair: a confirmation, or back to the page whose answer the API refused."""
    form = await read_form(request)
    report = journey(request)
    if not _ready_for(request, "uprn", "path", "description", "contact", "idempotency_key"):
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
    request.session.pop("report_cursors", None)
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
        report["window"] = None
        request.session["report_cursors"] = [None]
        request.session["errors"] = {"windowId": TAKEN}
        return redirect("/report/appointments")
    if problem.status in (400, 422) and (problem.errors or problem.type.endswith("/invalid-window")):
        page, errors = errors_on_one_page(field_errors(problem, "windowId"))
        if "windowId" in errors:
            report["window"] = None
            request.session["report_cursors"] = [None]
        request.session["errors"] = errors
        return redirect(page)
    raise problem


@router.get("/report/duplicate")
async def duplicate_page(request: Request) -> Response:
    """The report repeats a repair open at the home: its reference, and the choice to report
    this one as a new problem (the report stays in the session for that)."""
    report = journey(request)
    if "open_repair" not in report:
        return redirect("/report/check")
    return await site_of(request).render(
        request,
        "duplicate.html",
        title="This problem has already been reported",
        reference=str(report["open_repair"]),
        back_href="/report/check",
    )


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
