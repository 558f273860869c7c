"""listAddresses and getTriage: what a resident picks before asking for time."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from repairs_gateway.api.deps import Council
from repairs_gateway.api.routes.common import problems
from repairs_gateway.api.schemas import AddressList, AddressOut, Postcode
from repairs_gateway.api.views import triage_out
from repairs_gateway.services.addresses import addresses_at

router = APIRouter()


@router.get(
    "/v1/councils/{councilId}/addresses",
    operation_id="listAddresses",
    response_model=AddressList,
    responses=problems(400, 401, 403, 404, 503),
)
async def list_addresses(
    council: Council,
    postcode: Annotated[Postcode, Query()],
) -> Response:
    """Eligible properties at a postcode; an unknown postcode is an empty list."""
    normal, found = await addresses_at(council, postcode)
    answer = AddressList(
        postcode=normal,
        addresses=[
            AddressOut(uprn=a.uprn, address_lines=list(a.lines), postcode=a.postcode, kind=a.kind)
            for a in found
        ],
    )
    # Serialised here, once: returned as a model, FastAPI would validate it again against
    # response_model (kept above for the schema) before serialising it.
    return Response(answer.model_dump_json(by_alias=True), media_type="application/json")


@router.get(
    "/v1/councils/{councilId}/triage",
    operation_id="getTriage",
    responses={200: {"description": "The council's triage tree."}, **problems(400, 401, 403, 404)},
)
async def get_triage(council: Council) -> dict[str, Any]:
    """The council's diagnosis tree."""
    return triage_out(council.spec.triage)
