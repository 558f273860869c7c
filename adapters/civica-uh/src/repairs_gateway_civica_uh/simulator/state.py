"""The simulated installation's state: who may call, the properties, repair requests,
works orders and the diary, with UH's rules. Refusals are ``UhError`` (an ``ErrorCode``
and ``ErrorMessage`` answered with ``Success`` false)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from repairs_gateway.ports import InvalidPostcode, normalise_postcode

from .. import protocol as p
from .data import SimProperty, SimulatorConfig

LONDON = ZoneInfo("Europe/London")
Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """Now, in UTC."""
    return datetime.now(UTC)


class UhError(Exception):
    """A refusal UH answers in the body: ``Success`` false, ``ErrorCode``, ``ErrorMessage``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass
class SimOrder:
    """A works order (``rmworder``) with its one task."""

    reference: str
    request_reference: str
    property_ref: str
    job_code: str
    priority: str
    supplier: str
    units: str
    task_text: str
    status: str = p.ORDER_RAISED


@dataclass
class SimRequest:
    """A repair request (``rmreqst``)."""

    reference: str
    property_ref: str
    problem: str
    priority: str
    name: str
    phone: str
    orders: list[str]


@dataclass
class SimBooking:
    """An appointment of a works order in the diary."""

    order_reference: str
    diary_reference: str
    start: datetime  # local wall-clock time, no offset, as UH keeps it
    minutes: int
    visit_type: str
    status: str = p.BOOKING_BOOKED


_DIARY_REF = re.compile(r"^DY(\d{8})([A-Z]{2})$")


class UhState:
    """The installation's data and rules."""

    def __init__(self, config: SimulatorConfig, clock: Clock = system_clock) -> None:
        self.config = config
        self.clock = clock
        self.properties: dict[str, SimProperty] = {x.reference: x for x in config.properties}
        self.catalogue = {item.code: item for item in config.catalogue}
        self.requests: dict[str, SimRequest] = {}
        self.orders: dict[str, SimOrder] = {}
        self.bookings: dict[str, SimBooking] = {}  # by works order reference
        self.calls: Counter[str] = Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._next_request = 3_000_001
        self._next_order = 100_001

    # ------------------------------------------------------------------ who calls

    def authenticate(self, dto: Mapping[str, Any]) -> None:
        """UH checks every request's user, password, source system and company."""
        user = dto.get("DirectUser")
        name = user.get("UserName") if isinstance(user, Mapping) else None
        password = user.get("UserPassword") if isinstance(user, Mapping) else None
        if name != self.config.username or password != self.config.password:
            raise UhError(
                p.ERR_AUTHENTICATION, "Authentication failed: unknown user or wrong password"
            )
        if not (dto.get("SourceSystem") or "").strip():
            raise UhError(p.ERR_SOURCE_SYSTEM, "SourceSystem is required")
        company = dto.get("CompanyCode")
        if company is not None and company != self.config.company_code:
            raise UhError(p.ERR_COMPANY, f"Company code '{company}' is not set up")

    # ------------------------------------------------------------------ properties

    def property(self, reference: Any) -> SimProperty:
        """The property with this reference, or UH's refusal."""
        found = self.properties.get(str(reference or "").strip())
        if found is None:
            raise UhError(p.ERR_PROPERTY_NOT_FOUND, f"Property '{reference}' not found")
        return found

    def at_postcode(self, raw: Any) -> list[SimProperty]:
        """Properties whose postcode is this one, however either is spelt."""
        try:
            wanted = normalise_postcode(str(raw or ""))
        except InvalidPostcode:
            return []
        return [x for x in self.properties.values() if _normal(x.postcode) == wanted]

    # ------------------------------------------------------------------ works orders

    def create_repair(
        self, request: Mapping[str, Any], tasks: list[Mapping[str, Any]]
    ) -> SimRequest:
        """A repair request with one works order per task, or nothing when any is wrong."""
        prop = self.property(request.get("PropertyRef"))
        if prop.no_maintenance:
            raise UhError(
                p.ERR_INVALID_REQUEST, f"No maintenance is allowed at property '{prop.reference}'"
            )
        if not (request.get("Problem") or "").strip():
            raise UhError(p.ERR_INVALID_REQUEST, "Problem is required")
        priority = request.get("Priority") or ""
        self._check_priority(priority)
        if not tasks:
            raise UhError(p.ERR_INVALID_REQUEST, "At least one task is required")
        for task in tasks:
            code = task.get("JobCode") or ""
            if code not in self.catalogue:
                raise UhError(p.ERR_JOB_CODE, f"Job code '{code}' is not in the schedule of rates")
            self._check_priority(task.get("PriorityCode") or "")
            if (task.get("SupplierReference") or "") not in self.config.suppliers:
                raise UhError(
                    p.ERR_INVALID_REQUEST,
                    f"Supplier '{task.get('SupplierReference')}' is not set up",
                )
            if (task.get("PropertyReference") or prop.reference) != prop.reference:
                raise UhError(
                    p.ERR_INVALID_REQUEST, "A task is for another property than the request"
                )
        reference = f"{self._next_request:08d}"
        self._next_request += 1
        created = SimRequest(
            reference,
            prop.reference,
            request["Problem"],
            priority,
            request.get("Name") or "",
            request.get("Phone") or "",
            [],
        )
        for task in tasks:
            order = SimOrder(
                reference=f"{self._next_order:08d}",
                request_reference=reference,
                property_ref=prop.reference,
                job_code=task["JobCode"],
                priority=task["PriorityCode"],
                supplier=task["SupplierReference"],
                units=task.get("EstimatedUnits") or "1",
                task_text=task.get("TaskText") or "",
            )
            self._next_order += 1
            self.orders[order.reference] = order
            created.orders.append(order.reference)
        self.requests[reference] = created
        return created

    def order(self, reference: Any) -> SimOrder:
        """The works order with this reference, or UH's refusal."""
        found = self.orders.get(str(reference or "").strip())
        if found is None:
            raise UhError(p.ERR_ORDER_NOT_FOUND, f"Works order '{reference}' not found")
        return found

    def issue(self, reference: Any) -> SimOrder:
        """Send the order to its contractor: from now on it cannot be cancelled here."""
        order = self.order(reference)
        if order.status != p.ORDER_RAISED:
            raise UhError(
                p.ERR_ORDER_STATE, f"Works order '{order.reference}' is {order.status.lower()}"
            )
        order.status = p.ORDER_ISSUED
        return order

    def complete(self, reference: Any) -> SimOrder:
        """The work is done."""
        order = self.order(reference)
        if order.status not in (p.ORDER_RAISED, p.ORDER_ISSUED):
            raise UhError(
                p.ERR_ORDER_STATE, f"Works order '{order.reference}' is {order.status.lower()}"
            )
        order.status = p.ORDER_COMPLETED
        booking = self.bookings.get(order.reference)
        if booking is not None and booking.status != p.BOOKING_CANCELLED:
            booking.status = p.BOOKING_COMPLETED
        return order

    def cancel(self, reference: Any) -> SimOrder:
        """Cancel a raised order (and its appointment); issued and completed ones stay."""
        order = self.order(reference)
        if order.status == p.ORDER_CANCELLED:
            raise UhError(
                p.ERR_ORDER_ALREADY_CANCELLED,
                f"Works order '{order.reference}' is already cancelled",
            )
        if order.status == p.ORDER_ISSUED:
            raise UhError(
                p.ERR_ORDER_NOT_CANCELLABLE,
                f"Works order '{order.reference}' has been issued to the contractor "
                "and cannot be cancelled",
            )
        if order.status == p.ORDER_COMPLETED:
            raise UhError(
                p.ERR_ORDER_NOT_CANCELLABLE,
                f"Works order '{order.reference}' has been completed and cannot be cancelled",
            )
        order.status = p.ORDER_CANCELLED
        booking = self.bookings.get(order.reference)
        if booking is not None:
            booking.status = p.BOOKING_CANCELLED
        return order

    def _check_priority(self, code: str) -> None:
        if code not in self.config.priorities:
            raise UhError(p.ERR_PRIORITY, f"Priority '{code}' is not set up")

    # ------------------------------------------------------------------ the diary

    def now_local(self) -> datetime:
        """Now as UH's wall clock shows it (no offset)."""
        return self.clock().astimezone(LONDON).replace(tzinfo=None)

    def diary(self, first: datetime, last: datetime) -> list[tuple[str, datetime, int, str, int]]:
        """(DiaryReference, start, minutes, VisitSlotTypeCode, free places) of each window
        starting from ``first`` to ``last`` (local times)."""
        if last < first:
            raise UhError(p.ERR_INVALID_REQUEST, "DateTo is before DateFrom")
        if (last.date() - first.date()).days >= self.config.max_diary_days:
            raise UhError(
                p.ERR_INVALID_REQUEST,
                f"The diary can be read {self.config.max_diary_days} days at a time",
            )
        found = []
        day = first.date()
        while day <= last.date():
            for window in self._windows(day):
                ref, start, minutes, code = window
                if first <= start <= last:
                    found.append((ref, start, minutes, code, self._free(ref)))
            day += timedelta(days=1)
        return found

    def book(self, diary_ref: Any, order_ref: Any) -> SimBooking:
        """Book the order into the diary slot."""
        order = self._bookable_order(order_ref)
        held = self.bookings.get(order.reference)
        if held is not None and held.status in (p.BOOKING_BOOKED, p.BOOKING_STARTED):
            raise UhError(
                p.ERR_ALREADY_BOOKED,
                f"Works order '{order.reference}' already has an appointment "
                f"({held.diary_reference})",
            )
        ref, start, minutes, code = self._open_slot(diary_ref)
        booking = SimBooking(order.reference, ref, start, minutes, code)
        self.bookings[order.reference] = booking
        return booking

    def rebook(self, diary_ref: Any, order_ref: Any) -> SimBooking:
        """Move the order's appointment to another slot."""
        order = self._bookable_order(order_ref)
        held = self.bookings.get(order.reference)
        if held is None or held.status != p.BOOKING_BOOKED:
            raise UhError(
                p.ERR_BOOKING_NOT_FOUND,
                f"Works order '{order.reference}' has no appointment to move",
            )
        if str(diary_ref) == held.diary_reference:
            return held
        ref, start, minutes, code = self._open_slot(diary_ref)
        held.diary_reference, held.start, held.minutes, held.visit_type = ref, start, minutes, code
        return held

    def cancel_booking(self, order_ref: Any) -> SimBooking:
        """Cancel the order's appointment; one cancelled before stays so, without error."""
        order = self.order(order_ref)
        held = self.bookings.get(order.reference)
        if held is None:
            raise UhError(
                p.ERR_BOOKING_NOT_FOUND, f"Works order '{order.reference}' has no appointment"
            )
        if held.status == p.BOOKING_BOOKED:
            held.status = p.BOOKING_CANCELLED
        elif held.status != p.BOOKING_CANCELLED:
            raise UhError(
                p.ERR_ORDER_STATE,
                f"The appointment of works order '{order.reference}' is {held.status.lower()}",
            )
        return held

    def booking(self, order_ref: Any) -> SimBooking:
        """The order's latest appointment."""
        order = self.order(order_ref)
        held = self.bookings.get(order.reference)
        if held is None:
            raise UhError(
                p.ERR_BOOKING_NOT_FOUND, f"Works order '{order.reference}' has no appointment"
            )
        return held

    def start_visit(self, order_ref: Any) -> SimBooking:
        """The operative has arrived (for tests)."""
        held = self.booking(order_ref)
        held.status = p.BOOKING_STARTED
        return held

    def _bookable_order(self, order_ref: Any) -> SimOrder:
        order = self.order(order_ref)
        if order.status not in (p.ORDER_RAISED, p.ORDER_ISSUED):
            raise UhError(
                p.ERR_ORDER_STATE, f"Works order '{order.reference}' is {order.status.lower()}"
            )
        return order

    def _windows(self, day: date) -> list[tuple[str, datetime, int, str]]:
        if day.weekday() not in self.config.working_days:
            return []
        return [
            (f"DY{day:%Y%m%d}{w.code}", datetime.combine(day, w.start), w.minutes, w.code)
            for w in self.config.windows
        ]

    def _free(self, diary_ref: str) -> int:
        taken = sum(
            1
            for b in self.bookings.values()
            if b.diary_reference == diary_ref and b.status in (p.BOOKING_BOOKED, p.BOOKING_STARTED)
        )
        return max(0, self.config.capacity - taken)

    def _open_slot(self, diary_ref: Any) -> tuple[str, datetime, int, str]:
        text = str(diary_ref or "").strip()
        match = _DIARY_REF.match(text)
        slot = None
        if match is not None:
            try:
                day = datetime.strptime(match.group(1), "%Y%m%d").date()
            except ValueError:
                day = None
            if day is not None:
                slot = next((w for w in self._windows(day) if w[0] == text), None)
        if slot is None:
            raise UhError(p.ERR_SLOT_NOT_FOUND, f"Diary slot '{text}' does not exist")
        if slot[1] <= self.now_local():
            raise UhError(p.ERR_SLOT_UNAVAILABLE, f"Diary slot '{text}' is no longer available")
        if self._free(text) <= 0:
            raise UhError(p.ERR_SLOT_UNAVAILABLE, f"Diary slot '{text}' is fully booked")
        return slot


def _normal(raw: str) -> str | None:
    try:
        return normalise_postcode(raw)
    except InvalidPostcode:
        return None
