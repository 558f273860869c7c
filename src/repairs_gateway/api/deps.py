"""Request-scoped dependencies: who is calling, which council they may use, and whether
their key is a staff key."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from repairs_gateway.api.problems import FieldError, Problem, not_found
from repairs_gateway.api.state import GatewayState
from repairs_gateway.runtime import CouncilRuntime
from repairs_gateway.services.clients import Caller

_bearer = HTTPBearer(auto_error=False, description="An API key from `repairs-gateway clients create`.")

COUNCIL_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"


def state(request: Request) -> GatewayState:
    """The gateway's state for this app."""
    gateway: GatewayState = request.app.state.gateway
    return gateway


def _unauthorised(detail: str) -> Problem:
    return Problem(
        401,
        "unauthorized",
        "Unauthorized",
        detail,
        [FieldError("Authorization", "header", detail)],
        headers={"WWW-Authenticate": 'Bearer realm="repairs-gateway"'},
    )


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The authenticated client; 401 when the key is missing or wrong."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise _unauthorised("send an API key as 'Authorization: Bearer <key>'")
    gateway = state(request)
    found = await gateway.keys.authenticate(gateway.sessions, credentials.credentials)
    if found is None:
        raise _unauthorised("the API key is not valid")
    return found


async def council(
    request: Request,
    who: Annotated[Caller, Depends(caller)],
    council_id: Annotated[str, Path(alias="councilId", pattern=COUNCIL_ID, max_length=63)],
) -> CouncilRuntime:
    """The council in the path; 404 when unknown, 403 when the key is not scoped to it."""
    found = state(request).councils.get(council_id)
    if found is None:
        raise not_found("council-not-found", f"council {council_id!r}", "councilId")
    if council_id not in who.councils:
        raise Problem(
            403,
            "forbidden",
            "Forbidden",
            f"this API key may not use council {council_id!r}",
            [FieldError("councilId", "path", "this API key may not use this council")],
        )
    return found


STAFF_NEEDED = "this operation needs a staff API key; this key is for a residents' front-end"


async def staff_council(
    who: Annotated[Caller, Depends(caller)],
    found: Annotated[CouncilRuntime, Depends(council)],
) -> CouncilRuntime:
    """The council in the path, for a staff operation: as ``council``, and 403 naming
    ``Authorization`` when the key is not a staff key."""
    if not who.is_staff:
        raise Problem(
            403,
            "forbidden",
            "Forbidden",
            STAFF_NEEDED,
            [FieldError("Authorization", "header", "a staff API key is needed")],
        )
    return found


Who = Annotated[Caller, Depends(caller)]
Council = Annotated[CouncilRuntime, Depends(council)]
StaffCouncil = Annotated[CouncilRuntime, Depends(staff_council)]
State = Annotated[GatewayState, Depends(state)]
