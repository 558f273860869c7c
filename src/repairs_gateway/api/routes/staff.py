"""listRepairs and retryRepair: a council's staff see what needs them, and act on it.
Both need a staff key (``repairs-gateway clients create --scope staff``)."""

from __future__ import annotations

from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Path, Query

from repairs_gateway.api.deps import StaffCouncil, State
from repairs_gateway.api.problems import invalid
from repairs_gateway.api.routes.common import problems
from repairs_gateway.api.schemas import (
    AppointmentOut,
    JobOut,
    QueueStateOut,
    StaffRepairOut,
    StaffRepairPage,
)
from repairs_gateway.domain.references import InvalidReference, parse_reference
from repairs_gateway.domain.repair import RepairStatus, public_status
from repairs_gateway.persistence.queue import QUEUED
from repairs_gateway.services.staff import DEFAULT_LIMIT, MAX_LIMIT, StaffRepair, StaffService

router = APIRouter()

MAX_OLDER_THAN_MINUTES = 5_256_000  # ten years
BOOKED = frozenset({RepairStatus.BOOKED, RepairStatus.IN_PROGRESS})
WAITING = frozenset({RepairStatus.RECEIVED, RepairStatus.BOOKING, RepairStatus.NEEDS_ATTENTION})
# The spec's StatusFilter allows at most 20 values (each may join several with commas).
MAX_STATUS_FILTERS = 20


def _staff_problems(*codes: int) -> dict[int | str, dict[str, Any]]:
    responses = problems(*codes)
    if 403 in responses:
        responses[403] = {
            **responses[403],
            "description": "The API key may not use this council, or is not a staff key.",
        }
    return responses


def staff_service(gateway: State) -> StaffService:
    """The staff use cases on this process's store and queue."""
    parts = gateway.parts
    return StaffService(parts.store, parts.queue, parts.sessions, parts.signer)


Staff = Annotated[StaffService, Depends(staff_service)]


def _window(start: Any, end: Any, label: str | None, zone: ZoneInfo) -> AppointmentOut | None:
    if start is None or end is None:
        return None
    return AppointmentOut(start=start.astimezone(zone), end=end.astimezone(zone), label=label or "")


def staff_repair_out(item: StaffRepair, zone: ZoneInfo) -> StaffRepairOut:
    """The API body of a repair for staff: its lifecycle status, the last backend error and
    the state of its newest job."""
    row, job = item.row, item.job
    status = RepairStatus(row.status)
    window = _window(row.window_start, row.window_end, row.window_label, zone)
    queue = None
    if job is not None:
        queue = QueueStateOut(
            kind=job.kind,
            state=job.state,
            attempts=job.attempts,
            next_attempt_at=job.run_after if job.state == QUEUED else None,
            last_error=job.last_error,
        )
    return StaffRepairOut(
        reference=row.reference,
        council_id=row.council_id,
        uprn=row.uprn,
        status=status.value,
        public_status=public_status(status),
        job=JobOut(
            sor_code=row.sor_code,
            trade=row.trade,
            priority=row.priority,
            duration_minutes=row.duration_minutes,
        ),
        triage_path=row.triage_path,
        appointment=window if status in BOOKED else None,
        requested_window=window if status in WAITING else None,
        last_error=row.backend_note,
        contact_failed=bool(row.contact_failed),
        queue=queue,
        age_minutes=item.age_minutes,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


@router.get(
    "/v1/councils/{councilId}/repairs",
    operation_id="listRepairs",
    response_model=StaffRepairPage,
    responses=_staff_problems(400, 401, 403, 404),
)
async def list_repairs(
    council: StaffCouncil,
    staff: Staff,
    status: Annotated[list[str] | None, Query(max_length=MAX_STATUS_FILTERS)] = None,
    older_than_minutes: Annotated[
        int | None, Query(alias="olderThanMinutes", ge=0, le=MAX_OLDER_THAN_MINUTES)
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    contact_failed: Annotated[bool | None, Query(alias="contactFailed")] = None,
) -> StaffRepairPage:
    """The council's repairs by status and age, oldest first, a page at a time."""
    page = await staff.list_repairs(
        council.spec.id, status or [], older_than_minutes, cursor, limit, contact_failed
    )
    return StaffRepairPage(
        repairs=[staff_repair_out(item, council.zone) for item in page.repairs],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/v1/councils/{councilId}/repairs/{reference}/retry",
    operation_id="retryRepair",
    status_code=202,
    response_model=StaffRepairOut,
    responses=_staff_problems(400, 401, 403, 404, 409),
)
async def retry_repair(
    council: StaffCouncil,
    staff: Staff,
    reference: Annotated[str, Path(min_length=4, max_length=32)],
) -> StaffRepairOut:
    """Queue the repair's failed work again; the worker carries it out."""
    try:
        parsed = parse_reference(reference)
    except InvalidReference as exc:
        raise invalid("reference", "path", str(exc)) from None
    retried = await staff.retry(council.spec.id, parsed)
    return staff_repair_out(retried.repair, council.zone)
