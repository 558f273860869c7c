"""The repair service's operations (ASSUMED shapes, see the README): a ``dto`` in, the
result's fields out."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from .. import protocol as p
from .soap import as_list
from .state import LONDON, SimBooking, SimOrder, UhError, UhState

Handler = Callable[[UhState, Mapping[str, Any]], dict[str, Any]]


def _order(order: SimOrder) -> dict[str, Any]:
    return {
        "OrderReference": order.reference,
        "PriorityCode": order.priority,
        "PropertyReference": order.property_ref,
        "RepairRequestReference": order.request_reference,
        "StatusCode": order.status,
        "SupplierReference": order.supplier,
    }


def _booking(booking: SimBooking) -> dict[str, Any]:
    return {
        "DiaryBooking": {
            "DiaryReference": booking.diary_reference,
            "OrderReference": booking.order_reference,
            "ProposedDuration": booking.minutes,
            "ProposedStartDate": booking.start,
            "StatusType": booking.status,
            "VisitSlotTypeCode": booking.visit_type,
        }
    }


def _create(state: UhState, dto: Mapping[str, Any]) -> dict[str, Any]:
    request = dto.get("RepairRequest")
    if not isinstance(request, Mapping):
        raise UhError(p.ERR_INVALID_REQUEST, "RepairRequest is required")
    holder = dto.get("TaskList")
    tasks = as_list(holder.get("RepairTaskInfo")) if isinstance(holder, Mapping) else []
    created = state.create_repair(request, tasks)
    return {
        "TaskReferences": {"TaskReference": [f"{ref}/1" for ref in created.orders]},
        "WorksOrderList": {"WorksOrderDto": [_order(state.orders[r]) for r in created.orders]},
    }


def _orders_by_request(state: UhState, dto: Mapping[str, Any]) -> dict[str, Any]:
    ref = str(dto.get("RequestReference") or "").strip()
    request = state.requests.get(ref)
    if request is None:
        raise UhError(p.ERR_INVALID_REQUEST, f"Repair request '{ref}' not found")
    return {"WorksOrderList": {"WorksOrderDto": [_order(state.orders[r]) for r in request.orders]}}


def _diary_time(raw: Any, name: str) -> datetime:
    try:
        value = datetime.fromisoformat(str(raw).strip())
    except ValueError:
        raise UhError(p.ERR_INVALID_REQUEST, f"{name} is not a date") from None
    # An offset is honoured; a time without one is UH's own wall-clock time.
    return value.astimezone(LONDON).replace(tzinfo=None) if value.tzinfo else value


def _slots(state: UhState, dto: Mapping[str, Any]) -> dict[str, Any]:
    if dto.get("PropertyReference"):
        state.property(dto["PropertyReference"])
    code = dto.get("JobCode")
    if code and code not in state.catalogue:
        raise UhError(p.ERR_JOB_CODE, f"Job code '{code}' is not in the schedule of rates")
    first = _diary_time(dto.get("DateFrom"), "DateFrom")
    last = _diary_time(dto.get("DateTo"), "DateTo")
    return {
        "DiarySlotList": {
            "DiarySlotDto": [
                {
                    "DiaryReference": ref,
                    "ProposedDuration": minutes,
                    "ProposedStartDate": start,
                    "StatusType": p.SLOT_FREE if free > 0 else "Full",
                    "VisitSlotTypeCode": visit,
                }
                for ref, start, minutes, visit, free in state.diary(first, last)
            ]
        }
    }


HANDLERS: dict[str, Handler] = {
    "CreateRepairWithOrder": _create,
    "GetWorksOrdersByRequest": _orders_by_request,
    "IssueOrder": lambda s, d: {"WorksOrder": _order(s.issue(d.get("OrderReference")))},
    "CompleteOrder": lambda s, d: {"WorksOrder": _order(s.complete(d.get("OrderReference")))},
    "CancelOrder": lambda s, d: {"WorksOrder": _order(s.cancel(d.get("OrderReference")))},
    "GetDiarySlotsByDate": _slots,
    "BookDiarySlotByOrder": lambda s, d: _booking(
        s.book(d.get("DiaryReference"), d.get("OrderReference"))
    ),
    "RebookDiarySlotByOrder": lambda s, d: _booking(
        s.rebook(d.get("DiaryReference"), d.get("OrderReference"))
    ),
    "CancelDiaryBookingByOrder": lambda s, d: _booking(s.cancel_booking(d.get("OrderReference"))),
    "GetDiaryBookingByOrder": lambda s, d: _booking(s.booking(d.get("OrderReference"))),
}
