"""createRepair, getRepair, cancelRepair and rescheduleRepair."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Request, Response
from fastapi.responses import JSONResponse

from repairs_gateway.api.deps import Council, State, Who
from repairs_gateway.api.problems import invalid
from repairs_gateway.api.routes.common import problems
from repairs_gateway.api.schemas import RepairIn, RepairOut, RescheduleIn
from repairs_gateway.api.views import repair_out
from repairs_gateway.domain.references import InvalidReference, parse_reference
from repairs_gateway.ports import Contact
from repairs_gateway.services.history import RepairAnswers
from repairs_gateway.services.jobs import RepairSpec
from repairs_gateway.services.repairs import NewRepair

router = APIRouter()

Reference = Annotated[str, Path(min_length=4, max_length=32)]


def repair_answers(gateway: State) -> RepairAnswers:
    """The resident's repair use cases, answering each repair with its history."""
    return RepairAnswers(gateway.repairs, gateway.sessions)


Answers = Annotated[RepairAnswers, Depends(repair_answers)]


def _reference(raw: str) -> str:
    try:
        return parse_reference(raw)
    except InvalidReference as exc:
        raise invalid("reference", "path", str(exc)) from None


@router.post(
    "/v1/councils/{councilId}/repairs",
    operation_id="createRepair",
    status_code=201,
    response_model=RepairOut,
    responses={
        200: {"model": RepairOut, "description": "The report joined an open repair of a communal area."},
        **problems(400, 401, 403, 404, 409, 413, 415, 422),
    },
)
async def create_repair(
    request: Request,
    response: Response,
    gateway: State,
    council: Council,
    who: Who,
    answers: Answers,
    body: RepairIn,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", min_length=1, max_length=255)
    ] = None,
) -> RepairOut | JSONResponse:
    """Record a repair and, given a window, book it; answers its reference. A report that
    repeats an open repair of a communal area joins it (200); one of a home is a 409 naming
    it where the council turns that on, unless ``newProblem`` says it is a new problem."""
    lacking = body.contact.missing_for_channel()
    if lacking is not None:
        raise invalid(
            f"contact.{lacking}",
            "body",
            f"is required when preferredChannel is {body.contact.preferred_channel}",
        )
    new = NewRepair(
        uprn=body.uprn,
        repair=RepairSpec(
            body.repair.triage_path, body.repair.sor_code, body.repair.trade, body.repair.duration_minutes
        ),
        description=body.description,
        contact=Contact(body.contact.name, body.contact.phone, body.contact.email),
        preferred_channel=body.contact.preferred_channel,
        window_id=body.window_id,
        body=_request_body(body),
        new_problem=bool(body.new_problem),
    )
    answer = await answers.create(council, who.client_id, new, idempotency_key)
    location = str(
        request.url_for("get_repair", councilId=council.spec.id, reference=answer.row.reference).path
    )
    response.headers["Location"] = location
    if answer.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    if answer.joined:
        # A report that joined another resident's repair is answered with that repair as it
        # is now (200), on a replay too: the spec's tested behaviour, and nothing is kept
        # on the other resident's repair for one reporter.
        response.status_code = 200
        return repair_out(answer, council)
    if idempotency_key is None:
        return repair_out(answer, council)
    # With a key, the first answer is kept and a retry is answered exactly it (status code,
    # body and Location), as the spec promises; not the repair as it is by then.
    first = answer.row.first_answer if answer.replayed else None
    if first is None:
        rendered = repair_out(answer, council).model_dump(mode="json", by_alias=True)
        first = await gateway.repairs.store.first_answer(answer.row.id, {"status": 201, "body": rendered})
    headers = {"Location": location}
    if answer.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(first["body"], status_code=int(first["status"]), headers=headers)


def _request_body(body: RepairIn) -> dict[str, Any]:
    """The body as compared for Idempotency-Key replays: ``newProblem`` false is the same as
    leaving it out (as bodies were compared before the field was added)."""
    dumped = body.model_dump(mode="json", by_alias=True, exclude_none=True)
    if not body.new_problem:
        dumped.pop("newProblem", None)
    return dumped


@router.get(
    "/v1/councils/{councilId}/repairs/{reference}",
    operation_id="getRepair",
    response_model=RepairOut,
    responses=problems(400, 401, 403, 404),
)
async def get_repair(council: Council, answers: Answers, reference: Reference) -> RepairOut:
    """A repair's status, appointment and history."""
    return repair_out(await answers.get(council, _reference(reference)), council)


@router.post(
    "/v1/councils/{councilId}/repairs/{reference}/cancel",
    operation_id="cancelRepair",
    response_model=RepairOut,
    responses=problems(400, 401, 403, 404, 409, 503),
)
async def cancel_repair(council: Council, answers: Answers, reference: Reference) -> RepairOut:
    """Cancel a repair and free its window."""
    return repair_out(await answers.cancel(council, _reference(reference)), council)


@router.post(
    "/v1/councils/{councilId}/repairs/{reference}/reschedule",
    operation_id="rescheduleRepair",
    response_model=RepairOut,
    responses=problems(400, 401, 403, 404, 409, 413, 415, 422, 503),
)
async def reschedule_repair(
    council: Council, answers: Answers, reference: Reference, body: RescheduleIn
) -> RepairOut:
    """Move a repair to another window, or book one that has none yet."""
    return repair_out(await answers.reschedule(council, _reference(reference), body.window_id), council)
