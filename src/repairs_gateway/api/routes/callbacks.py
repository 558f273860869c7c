"""Callbacks from councils' systems (outside the standard): delivery receipts from the
council's message sender. Each names its council in the path; the adapter that knows the
sender's format and token reads it."""

from __future__ import annotations

from fastapi import APIRouter, Path, Request, Response
from fastapi.responses import JSONResponse

from repairs_gateway.api.deps import COUNCIL_ID, State
from repairs_gateway.api.problems import FieldError, Problem, not_found
from repairs_gateway.ports import ReceiptRefused

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
