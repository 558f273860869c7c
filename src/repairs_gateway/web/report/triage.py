"""The council's questions about the problem (its triage tree), and the early exits that
end a report without a booking."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from repairs_gateway.web.display import find_option, triage_node
from repairs_gateway.web.forms import read_form
from repairs_gateway.web.report.journey import forget_window, journey
from repairs_gateway.web.site import flash_errors, redirect, site_of

router = APIRouter()

EXIT_HEADING = {
    "emergency": "This is an emergency",
    "unable_to_book": "We cannot book this repair online",
    "not_responsible": "This repair is not ours to do",
    "contact_us": "Contact us about this repair",
}


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
    return await _question_page(request, path, flash_errors(request))


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
        forget_window(request)
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
