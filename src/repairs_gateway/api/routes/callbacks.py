"""Callbacks from councils' systems (outside the standard): delivery receipts from the
council's message sender, and booking changes pushed by a scheduler (DRS's
``bookingConfirmation``). Each names its council in the path; the adapter that knows the
backend's format and credential reads it."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from repairs_gateway.api.deps import COUNCIL_ID, State
from repairs_gateway.api.problems import FieldError, Problem, not_found
from repairs_gateway.ports import BackendRejected, ReceiptRefused
from repairs_gateway.services.status import StatusService, push_reader

router = APIRouter(include_in_schema=False)


@router.post("/v1/callbacks/{councilId}/notifications")
async def delivery_receipt(
    request: Request,
    gateway: State,
    council_id: str = Path(alias="councilId", pattern=COUNCIL_ID, max_length=63),
) -> Response:
    """A delivery receipt: recorded when it names a message of ours, ignored otherwise (so a
    sender's retries and repeats are harmless); 401 when it is not from the sender."""
    council = gateway.councils.get(council_id)
    if council is None or council.notifier is None:
        raise not_found("council-not-found", f"council {council_id!r}", "councilId")
    body = await request.body()
    try:
        receipt = council.notifier.read_receipt(request.headers.get("authorization"), body)
    except ReceiptRefused as exc:
        raise Problem(
            401,
            "unauthorized",
            "Unauthorized",
            str(exc),
            [FieldError("Authorization", "header", str(exc))],
            headers={"WWW-Authenticate": 'Bearer realm="repairs-gateway callbacks"'},
        ) from None
    known = await gateway.parts.messages.receipt(receipt) if receipt is not None else False
    return JSONResponse({"recorded": known})


SCHEDULER_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"


@router.post("/v1/callbacks/{councilId}/schedulers/{name}")
async def scheduler_push(
    request: Request,
    gateway: State,
    council_id: str = Path(alias="councilId", pattern=COUNCIL_ID, max_length=63),
    name: str = Path(pattern=SCHEDULER_NAME, max_length=40),
) -> Response:
    """A booking change pushed by the council's scheduler ``name``: its adapter reads which
    repairs it concerns (and whether it comes from the scheduler), and each is followed at
    once through the scheduler's own ``status``, as a poll would; nothing else in the push
    is believed. Unknown references are ignored and repeats are harmless. Answered in the
    scheduler's own format (a SOAP response for DRS): 401 when the push is not from the
    scheduler, 500 with a SOAP Fault when it cannot be read, as SOAP 1.1 answers faults."""
    council = gateway.councils.get(council_id)
    reader = push_reader(council, name) if council is not None else None
    if council is None or reader is None:
        what = f"a scheduler {name!r} taking pushes for {council_id!r}"
        raise not_found("scheduler-not-found", what, "name")
    headers = {key.lower(): value for key, value in request.headers.items()}
    try:
        references = reader.read_push(headers, await request.body())
    except ReceiptRefused as exc:
        media, body = reader.push_answer(str(exc))
        return Response(body, status_code=401, media_type=media)
    except BackendRejected as exc:
        media, body = reader.push_answer(str(exc))
        return Response(body, status_code=500, media_type=media)
    await StatusService(gateway.parts.store).pushed(council, name, references)
    media, body = reader.push_answer(None)
    return Response(body, status_code=200, media_type=media)
