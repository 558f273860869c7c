"""The seven DRS operations: request elements in, ``<return>`` elements out.

Requests reaching here are already valid against the schema; these functions apply DRS's
business rules and answer errors as status ``error`` with an ``errorMsg`` (HTTP 200).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime

from lxml import etree  # type: ignore[import-untyped, unused-ignore]  # no stubs

from ..protocol import ORDER_NOT_FOUND, days_limited_warning
from .soap import add, add_optional, flag, parse_datetime, text, texts
from .state import (
    LONDON,
    BookingCodeLine,
    DrsError,
    DrsState,
    OfferedSlot,
    SimBooking,
    SimOrder,
)

Result = tuple[str | None, list[etree._Element]]
"""A warning for errorMsg (or None) and the response's own elements."""

MAX_ORDER_COMMENTS = 255
_LOCATION_LISTS = ("theBusinessData", "theLocationLines")


def answer(state: DrsState, operation: str, command: etree._Element) -> etree._Element:
    """Carry out one command and build its response element."""
    result = etree.Element("return")
    try:
        if operation != "openSession":
            state.require_session(text(command, "sessionId") or "")
        warning, elements = _HANDLERS[operation](state, command)
        status = "success"
    except DrsError as exc:
        warning, elements, status = exc.message, [], "error"
    _head(result, command, status, warning)
    result.extend(elements)
    return result


def refusal(command: etree._Element, status: str, message: str) -> etree._Element:
    """A response with ``status`` and ``message`` and nothing done (injected failures)."""
    result = etree.Element("return")
    _head(result, command, status, message)
    return result


def _head(result: etree._Element, command: etree._Element, status: str, msg: str | None) -> None:
    add_optional(result, "errorMsg", msg)
    add(result, "id", (text(command, "id") or "0").strip() or "0")
    add(result, "status", status)


# ----------------------------------------------------------------------- sessions


def _open_session(state: DrsState, command: etree._Element) -> Result:
    session_id = state.open_session(text(command, "login") or "", text(command, "password") or "")
    node = etree.Element("sessionId")
    node.text = session_id
    return None, [node]


def _close_session(state: DrsState, command: etree._Element) -> Result:
    state.close_session(text(command, "sessionId") or "")
    return None, []


# ----------------------------------------------------------------------- availability


def _check_availability(state: DrsState, command: etree._Element) -> Result:
    begin = parse_datetime(text(command, "periodBegin"), "periodBegin")
    end = parse_datetime(text(command, "periodEnd"), "periodEnd")
    if end < begin:
        raise DrsError("periodEnd is before periodBegin")
    order = command.find("theOrder")
    if order is None:
        raise DrsError("theOrder is mandatory to check availability")
    state.check_contract(text(order, "contract") or "")
    state.check_priority(text(order, "priority") or "")
    if not (text(order, "locationID") or "").strip():
        raise DrsError("locationID is mandatory")
    lines = _booking_lines(state, order, text(order, "primaryOrderNumber") or "")
    trade, minutes = lines[0].trade, sum(line.minutes for line in lines)

    days, capped = state.days_of(begin, end)
    per_day = {day: state.day_slots(day, trade, minutes, begin, end) for day in days}
    best = _best_slots(per_day, text(command, "onlyBestSlots") or "no")
    elements = []
    for day, offered in per_day.items():
        info = etree.Element("theSlots")
        add(info, "day", datetime.combine(day, datetime.min.time(), LONDON))
        add(info, "nonWorkingDay", day in state.config.holidays)
        for slot in offered:
            if best.only and (slot.start, slot.end) not in best.windows:
                continue
            node = etree.SubElement(info, "slotsForDay")
            add(node, "available", slot.available)
            add(node, "beginDate", slot.start)
            add(node, "bestSlot", (slot.start, slot.end) in best.windows)
            add(node, "endDate", slot.end)
        add(info, "weeklyDayOff", day.weekday() not in state.config.working_days)
        elements.append(info)
    warning = days_limited_warning(state.config.max_days) if capped else None
    return warning, elements


class _Best:
    def __init__(self, windows: set[tuple[datetime, datetime]], only: bool) -> None:
        self.windows = windows
        self.only = only


def _best_slots(per_day: Mapping[date, list[OfferedSlot]], mode: str) -> _Best:
    """DRS marks its preferred free slot; onlyBestSlots=day|fullPeriod answers only those."""

    def first_free(slots: list[OfferedSlot]) -> OfferedSlot | None:
        free = [s for s in slots if s.available == "YES"]
        return min(free, key=lambda s: (s.start, s.end - s.start), default=None)

    if mode == "day":
        picks = [first_free(slots) for slots in per_day.values()]
        return _Best({(p.start, p.end) for p in picks if p is not None}, only=True)
    overall = first_free([s for slots in per_day.values() for s in slots])
    windows = {(overall.start, overall.end)} if overall else set()
    return _Best(windows, only=mode == "fullPeriod")


# ----------------------------------------------------------------------- orders


def _create_order(state: DrsState, command: etree._Element) -> Result:
    request = command.find("theOrder")
    if request is None:  # pragma: no cover - required by the schema
        raise DrsError("theOrder is mandatory")
    if (text(request, "orderId") or "").strip() != "0":
        raise DrsError("orderId must be 0 when an order is created")
    contract = text(request, "contract") or ""
    state.check_contract(contract)
    number = (text(request, "primaryOrderNumber") or "").strip()
    if not number:
        raise DrsError("primaryOrderNumber is mandatory")
    priority = text(request, "priority") or ""
    state.check_priority(priority)
    comments = text(request, "orderComments") or ""
    if not comments.strip():
        raise DrsError("orderComments is mandatory")
    # DRS is Java: a String's length is in UTF-16 code units (an emoji counts two).
    if len(comments.encode("utf-16-le")) // 2 > MAX_ORDER_COMMENTS:
        raise DrsError(f"orderComments must not be longer than {MAX_ORDER_COMMENTS} characters")
    location_id = (text(request, "locationID") or "").strip()
    if not location_id:
        raise DrsError("locationID is mandatory")
    location = _location(request)
    if location.get("locationId") != location_id:
        raise DrsError("theLocation.locationId must be the order's locationID")
    lines = _booking_lines(state, request, number)
    if len({line.trade for line in lines}) > 1:
        raise DrsError("The booking codes of an order must be for a single trade")
    earliest_raw = text(request, "earliestBookingDate")
    order = SimOrder(
        order_id=0,
        primary_order_number=number,
        contract=contract,
        location_id=location_id,
        priority=priority,
        comments=comments,
        target_date=parse_datetime(text(request, "targetDate"), "targetDate"),
        user_id=text(request, "userId") or "",
        contact_name=text(request, "contactName"),
        phone=text(request, "phone"),
        secondary_order_number=text(request, "secondaryOrderNumber"),
        lines=lines,
        location=location,
    )
    earliest = parse_datetime(earliest_raw, "earliestBookingDate") if earliest_raw else None
    state.create_order(order, earliest)
    return None, [_order_element("theOrder", order, include_completed=True)]


def _select_order(state: DrsState, command: etree._Element) -> Result:
    numbers = [n for n in texts(command, "primaryOrderNumber") if n.strip()]
    locations = [n for n in texts(command, "locationIDs") if n.strip()]
    contracts = [n for n in texts(command, "contract") if n.strip()]
    if not (numbers or locations or contracts):
        raise DrsError("selectOrder needs a primaryOrderNumber, locationIDs or contract")
    orders = state.find_orders(numbers, locations, contracts)
    if not orders:
        raise DrsError(ORDER_NOT_FOUND)
    completed = flag(command, "includeCompletedBookings")
    return None, [_order_element("theOrders", o, include_completed=completed) for o in orders]


def _delete_order(state: DrsState, command: etree._Element) -> Result:
    request = command.find("theOrder")
    if request is None:  # pragma: no cover - required by the schema
        raise DrsError("theOrder is mandatory")
    raw_id = (text(request, "orderId") or "0").strip()
    try:
        order_id = int(raw_id)
    except ValueError:  # pragma: no cover - xs:int already checked by the schema
        raise DrsError(f"orderId {raw_id!r} is not a number") from None
    order = state.order_of(
        order_id,
        (text(request, "primaryOrderNumber") or "").strip(),
        text(request, "contract") or "",
    )
    snapshot = _order_element("theOrder", order, include_completed=True)
    state.delete_order(order)
    return None, [snapshot]


def _schedule_booking(state: DrsState, command: etree._Element) -> Result:
    booking = command.find("theBooking")
    if booking is None:  # pragma: no cover - required by the schema
        raise DrsError("theBooking is mandatory")
    state.schedule(
        int((text(booking, "bookingId") or "0").strip()),
        (text(booking, "primaryOrderNumber") or "").strip(),
        text(booking, "contract") or "",
        parse_datetime(text(booking, "planningWindowStart"), "planningWindowStart"),
        parse_datetime(text(booking, "planningWindowEnd"), "planningWindowEnd"),
        force=flag(command, "force"),
        time_lock=flag(command, "timeLock"),
    )
    return None, []


_HANDLERS: dict[str, Callable[[DrsState, etree._Element], Result]] = {
    "openSession": _open_session,
    "closeSession": _close_session,
    "checkAvailability": _check_availability,
    "createOrder": _create_order,
    "scheduleBooking": _schedule_booking,
    "selectOrder": _select_order,
    "deleteOrder": _delete_order,
}


# ----------------------------------------------------------------------- reading


def _booking_lines(state: DrsState, order: etree._Element, number: str) -> list[BookingCodeLine]:
    codes = order.findall("theBookingCodes")
    if not codes:
        raise DrsError("At least one booking code (theBookingCodes) is mandatory")
    lines = []
    for code in codes:
        if (text(code, "primaryOrderNumber") or "").strip() != number:
            raise DrsError("theBookingCodes.primaryOrderNumber must be the order's")
        lines.append(
            state.booking_line(
                (text(code, "bookingCodeSORCode") or "").strip(),
                text(code, "itemNumberWithinBooking") or "",
                text(code, "quantity") or "",
                text(code, "standardMinuteValue"),
            )
        )
    return lines


def _location(order: etree._Element) -> dict[str, str]:
    node = order.find("theLocation")
    if node is None:  # pragma: no cover - required by the schema
        raise DrsError("theLocation is mandatory")
    # Kept in the request's order, which the schema has already checked.
    return {
        child.tag: child.text or ""
        for child in node
        if isinstance(child.tag, str) and child.tag not in _LOCATION_LISTS
    }


# ----------------------------------------------------------------------- writing


def _order_element(name: str, order: SimOrder, *, include_completed: bool) -> etree._Element:
    node = etree.Element(name)
    add_optional(node, "contactName", order.contact_name)
    add(node, "contract", order.contract)
    add(node, "locationID", order.location_id)
    add(node, "message", False)
    add(node, "orderComments", order.comments)
    add(node, "orderId", order.order_id)
    add_optional(node, "phone", order.phone)
    add(node, "primaryOrderNumber", order.primary_order_number)
    add(node, "priority", order.priority)
    add_optional(node, "secondaryOrderNumber", order.secondary_order_number)
    add(node, "status", _order_status(order))
    add(node, "targetDate", order.target_date)
    for line in order.lines:
        node.append(_code_element(line, order, booking_id=0))
    for booking in order.bookings:
        if include_completed or booking.status != "COMPLETED":
            node.append(_booking_element(booking, order))
    location = etree.SubElement(node, "theLocation")
    for key, value in order.location.items():
        if key == "workflowType":
            continue
        add(location, key, value)
    add(location, "workflowType", order.location.get("workflowType", ""))
    add(node, "userId", order.user_id)
    return node


def _booking_element(booking: SimBooking, order: SimOrder) -> etree._Element:
    node = etree.Element("theBookings")
    add(node, "bookingId", booking.booking_id)
    add(node, "bookingLifeCycleStatus", booking.status)
    add(node, "bookingReason", booking.reason)
    add(node, "contract", order.contract)
    add(node, "duration", booking.duration)
    add(node, "isEmergency", False)
    add(node, "isNextBooking", False)
    add(node, "locationID", order.location_id)
    add(node, "orderId", order.order_id)
    add(node, "planningWindowEnd", booking.planning_end)
    add(node, "planningWindowStart", booking.planning_start)
    add(node, "primaryOrderNumber", order.primary_order_number)
    for line in order.lines:
        node.append(_code_element(line, order, booking_id=booking.booking_id))
    add(node, "tokenId", booking.token_id)
    add(node, "userId", booking.user_id)
    return node


def _code_element(line: BookingCodeLine, order: SimOrder, *, booking_id: int) -> etree._Element:
    node = etree.Element("theBookingCodes")
    add(node, "bookingCodeDescription", line.description)
    add(node, "bookingCodeSORCode", line.sor_code)
    add(node, "bookingId", booking_id)
    add(node, "itemNumberWithinBooking", line.item_number)
    add(node, "orderId", order.order_id)
    add(node, "primaryOrderNumber", order.primary_order_number)
    add(node, "quantity", line.quantity)
    add(node, "standardMinuteValue", line.minutes // line.quantity)
    add(node, "trade", line.trade)
    return node


def _order_status(order: SimOrder) -> str:
    states = {b.status for b in order.bookings}
    if states and states <= {"COMPLETED"}:
        return "COMPLETED"
    if states & {"ARRIVED", "STARTED", "COMPLETED"}:
        return "STARTED"
    return "PLANNED"
