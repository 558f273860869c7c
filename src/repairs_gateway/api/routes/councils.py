"""listCouncils."""

from __future__ import annotations

from fastapi import APIRouter

from repairs_gateway.api.deps import State, Who
from repairs_gateway.api.routes.common import problems
from repairs_gateway.api.schemas import Council, CouncilList

router = APIRouter()


@router.get("/v1/councils", operation_id="listCouncils", response_model=CouncilList, responses=problems(401))
async def list_councils(who: Who, gateway: State) -> CouncilList:
    """The councils the caller's key may use."""
    return CouncilList(
        councils=[
            Council(id=c.spec.id, name=c.spec.name)
            for cid, c in sorted(gateway.councils.items(), key=lambda item: item[1].spec.name)
            if cid in who.councils
        ]
    )
