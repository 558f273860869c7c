"""listAppointments."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query

from repairs_gateway.api.deps import Council, State
from repairs_gateway.api.problems import FieldError, Problem, invalid
from repairs_gateway.api.routes.common import problems
from repairs_gateway.api.schemas import UPRN_PATTERN, AppointmentDay, AppointmentPage, WindowOut
from repairs_gateway.services.appointments import list_windows
from repairs_gateway.services.jobs import RepairSpec

router = APIRouter()


def _repair_spec(
    triage_path: str | None, sor_code: str | None, trade: str | None, duration: int | None
) -> RepairSpec:
    """The one form the caller used; a 400 naming every parameter given when it is not one."""
    forms = {
        ("triagePath",): triage_path is not None,
        ("sorCode",): sor_code is not None,
        ("trade", "durationMinutes"): trade is not None or duration is not None,
    }
    given = [names for names, present in forms.items() if present]
    message = "give exactly one of triagePath, sorCode, or trade with durationMinutes"
    if not given:
        raise invalid("triagePath", "query", message)
    if len(given) > 1:
        errors = [FieldError(name, "query", message) for names in given for name in names]
        raise Problem(400, "invalid-request", "Invalid request", message, errors)
    if trade is not None and duration is None:
        raise invalid("durationMinutes", "query", "is required with trade")
    if duration is not None and trade is None:
        raise invalid("trade", "query", "is required with durationMinutes")
    return RepairSpec(triage_path, sor_code, trade, duration)


@router.get(
    "/v1/councils/{councilId}/appointments",
    operation_id="listAppointments",
    response_model=AppointmentPage,
    responses=problems(400, 401, 403, 404, 422, 503),
)
async def list_appointments(
    council: Council,
    gateway: State,
    uprn: Annotated[str, Query(pattern=UPRN_PATTERN)],
    triage_path: Annotated[str | None, Query(alias="triagePath", max_length=200)] = None,
    sor_code: Annotated[str | None, Query(alias="sorCode", pattern=r"^[A-Za-z0-9]{1,16}$")] = None,
    trade: Annotated[str | None, Query(pattern=r"^[a-z][a-z-]{0,31}$")] = None,
    duration_minutes: Annotated[int | None, Query(alias="durationMinutes", ge=15, le=480)] = None,
    from_: Annotated[date | None, Query(alias="from")] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> AppointmentPage:
    """Free windows for a repair at a property, a page of days at a time."""
    page = await list_windows(
        council,
        gateway.signer,
        gateway.settings.window_ttl_seconds,
        uprn,
        _repair_spec(triage_path, sor_code, trade, duration_minutes),
        from_,
        cursor,
    )
    return AppointmentPage(
        days=[
            AppointmentDay(
                date=day,
                windows=[WindowOut(id=w.id, label=w.label, start=w.start, end=w.end) for w in windows],
            )
            for day, windows in page.days
        ],
        next_cursor=page.next_cursor,
    )
