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


_CALLER = "repairs_gateway.caller"
"""Where a request's authenticated caller is kept in its ASGI scope."""


async def _authenticated(request: Request, key: str | None) -> Caller:
    """The caller of this request, authenticated once however many dependencies ask."""
    known: Caller | None = request.scope.get(_CALLER)
    if known is not None:
        return known
    if not key:
        raise _unauthorised("send an API key as 'Authorization: Bearer <key>'")
    gateway = state(request)
    found = await gateway.keys.authenticate(gateway.sessions, key)
    if found is None:
        raise _unauthorised("the API key is not valid")
    request.scope[_CALLER] = found
    return found


def _bearer_key(request: Request) -> str | None:
    """The key of an ``Authorization: Bearer <key>`` header, as HTTPBearer reads it."""
    scheme, _, key = request.headers.get("authorization", "").partition(" ")
    return key.strip() or None if scheme.lower() == "bearer" else None


async def caller(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    """The authenticated client; 401 when the key is missing or wrong."""
    key = credentials.credentials if credentials and credentials.scheme.lower() == "bearer" else None
    return await _authenticated(request, key)


async def council(
    request: Request,
    council_id: Annotated[str, Path(alias="councilId", pattern=COUNCIL_ID, max_length=63)],
) -> CouncilRuntime:
    """The council in the path; 401 without a valid key, 404 when the council is unknown,
    403 when the key is not scoped to it. The key is read here, not through ``caller`` and
    HTTPBearer: FastAPI resolves every dependency's parameters on every request, and this
    one is on every council's route."""
    who = await _authenticated(request, _bearer_key(request))
    found = state(request).councils.get(council_id)
    if found is None:
        raise not_found("council-not-found", f"council {council_id!r}", "councilId")
    if council_id not in who.councils:
        raise Problem(
            403,
            "forbidden",
            "API key not allowed for this council",
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
