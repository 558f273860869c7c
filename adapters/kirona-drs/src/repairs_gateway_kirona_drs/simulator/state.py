"""The simulated DRS installation's data: sessions, orders, bookings, diaries, failures.

Everything here is plain Python with no XML: ``operations`` translates SOAP requests into
calls on ``DrsState``. Times are kept timezone-aware; DRS's own day is Europe/London.
"""

from __future__ import annotations

import secrets
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from ..protocol import PLANNING_FAILED
from ..settings import DEFAULT_PRIORITIES

LONDON = ZoneInfo("Europe/London")
Clock = Callable[[], datetime]
Availability = Literal["YES", "NO", "MAYBE"]
TransportFailure = Literal["http503", "garbled", "dropped", "hang"]
TRANSPORT_FAILURES: tuple[TransportFailure, ...] = ("http503", "garbled", "dropped")
"""Failure modes drawn at random by ``fail_rate`` ("hang" is only injected on purpose)."""


def system_clock() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class SlotTemplate:
    """A window offered on every working day, in local (Europe/London) wall-clock time."""

    start: time
    end: time


DEFAULT_PATTERN: tuple[SlotTemplate, ...] = (
    SlotTemplate(time(8, 0), time(12, 0)),
    SlotTemplate(time(12, 0), time(16, 0)),
    SlotTemplate(time(9, 30), time(14, 30)),  # the school-run slot
    SlotTemplate(time(8, 0), time(16, 0)),  # all day
)


@dataclass(frozen=True, slots=True)
class SorDefinition:
    """A Schedule of Rates code DRS knows: the trade it needs and its standard minutes."""

    code: str
    trade: str
    minutes: int
    description: str


DEFAULT_CATALOGUE: tuple[SorDefinition, ...] = (
    # The SoR codes the gateway's demo councils use, so they can book through DRS too.
    SorDefinition("20060020", "plumbing", 60, "Clear blockage to sink or basin"),
    SorDefinition("20060030", "plumbing", 30, "Renew washer to tap"),
    SorDefinition("20060040", "plumbing", 90, "Renew tap"),
    SorDefinition("20060110", "plumbing", 60, "Repair WC flushing mechanism"),
    SorDefinition("20110010", "carpentry", 120, "Repair kitchen unit door or drawer"),
    SorDefinition("20300050", "electrical", 60, "Repair extractor fan"),
    SorDefinition("N210010", "carpentry", 60, "Ease and adjust door"),
    SorDefinition("N373049", "heating", 120, "Repair boiler, no heating or hot water"),
    SorDefinition("N373050", "heating", 60, "Repair radiator or valve"),
    # Generic codes for other trades.
    SorDefinition("GEN001", "general", 60, "General repair"),
    SorDefinition("GLZ001", "glazing", 90, "Renew pane of glass"),
    SorDefinition("ROF001", "roofing", 240, "Repair roof covering or gutter"),
    SorDefinition("PLS001", "plastering", 240, "Patch repair to plaster"),
    SorDefinition("INS001", "inspection", 30, "Inspect and report"),
)


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """How the simulated installation is set up. Defaults describe a typical council."""

    instance: str = "SIM"
    login: str = "gateway"
    password: str = "drs-sim-password"
    contracts: frozenset[str] = frozenset({"REPAIRS"})
    priorities: frozenset[str] = frozenset(DEFAULT_PRIORITIES.values())
    catalogue: tuple[SorDefinition, ...] = DEFAULT_CATALOGUE
    pattern: tuple[SlotTemplate, ...] = DEFAULT_PATTERN
    working_days: frozenset[int] = frozenset(range(5))  # Monday..Friday
    holidays: frozenset[date] = frozenset()
    capacity: int = 2
    """Jobs one slot takes per trade (operatives of that trade free in that window)."""
    capacity_by_trade: Mapping[str, int] = field(default_factory=dict)
    max_days: int = 7
    """Days one checkAvailability answers; installations can raise it to 14."""
    latency_ms: float = 0.0
    fail_rate: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.max_days <= 14:
            raise ValueError("max_days must be between 1 and 14")
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        for template in self.pattern:
            if template.end <= template.start:
                raise ValueError(f"slot {template} ends before it starts")

    @property
    def path(self) -> str:
        """The endpoint path, shaped as on a real installation."""
        return f"/OTWebServiceGateway_{self.instance}/ws/soap"

    def capacity_for(self, trade: str) -> int:
        """Jobs of ``trade`` one slot takes."""
        return self.capacity_by_trade.get(trade, self.capacity)


class DrsError(Exception):
    """A business error DRS answers as HTTP 200 with status ``error`` and ``message``."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class BookingCodeLine:
    """One SoR line of an order, as DRS stores it."""

    sor_code: str
    item_number: int
    quantity: int
    trade: str
    minutes: int
    description: str


@dataclass(slots=True)
class SimBooking:
    """A booking (a visit) of an order. ``window`` is set once it is scheduled."""

    booking_id: int
    order_id: int
    status: str
    duration: int
    trade: str
    planning_start: datetime
    planning_end: datetime
    token_id: str
    user_id: str
    reason: str = "first"
    window: tuple[datetime, datetime] | None = None
    time_lock: bool = False


@dataclass(slots=True)
class SimOrder:
    """An order as DRS stores it. ``location`` keeps the request's location fields."""

    order_id: int
    primary_order_number: str
    contract: str
    location_id: str
    priority: str
    comments: str
    target_date: datetime
    user_id: str
    contact_name: str | None
    phone: str | None
    secondary_order_number: str | None
    lines: list[BookingCodeLine]
    location: dict[str, str]
    bookings: list[SimBooking] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class InjectedFailure:
    """What the next call of an operation does instead of its normal answer."""

    status: str = "error"
    message: str = "Simulated failure"
    transport: TransportFailure | None = None


@dataclass(frozen=True, slots=True)
class OfferedSlot:
    """A window of a day's diary and whether it can take the job."""

    start: datetime
    end: datetime
    available: Availability


class DrsState:
    """A stateful DRS installation. ``clock`` can be replaced to move time in tests."""

    def __init__(self, config: SimulatorConfig | None = None, clock: Clock = system_clock) -> None:
        self.config = config or SimulatorConfig()
        self.clock = clock
        self.sessions: dict[str, date] = {}
        self.sessions_opened = 0
        self.calls: Counter[str] = Counter()
        self.orders: dict[int, SimOrder] = {}
        self.bookings: dict[int, SimBooking] = {}
        self.maybe_windows: set[tuple[datetime, datetime]] = set()
        """Windows answered as MAYBE (DRS does so when it cannot decide quickly)."""
        self._catalogue = {sor.code: sor for sor in self.config.catalogue}
        self._usage: Counter[tuple[datetime, datetime, str]] = Counter()
        self._failures: dict[str, deque[InjectedFailure]] = {}
        self._next_order_id = 1001
        self._next_booking_id = 5001

    # ----------------------------------------------------------------- time and failures

    def now(self) -> datetime:
        """The simulator's current time (aware)."""
        current = self.clock()
        if current.tzinfo is None:
            raise ValueError("the simulator clock must answer timezone-aware datetimes")
        return current

    def today(self) -> date:
        """DRS's current calendar day (Europe/London)."""
        return self.now().astimezone(LONDON).date()

    def fail_next(
        self,
        operation: str,
        *,
        status: str = "error",
        message: str = "Simulated failure",
        transport: TransportFailure | None = None,
    ) -> None:
        """Make the next call of ``operation`` fail: with ``status`` and ``message`` in
        the answer (the call does nothing), or at the transport level. ``http503`` and
        ``hang`` fail before the call is carried out; ``garbled`` and ``dropped`` carry it
        out and then spoil the answer, as a connection lost on the way back would."""
        self._failures.setdefault(operation, deque()).append(
            InjectedFailure(status=status, message=message, transport=transport)
        )

    def clear_failures(self, operation: str) -> int:
        """Forget the failures still queued for ``operation``; answers how many there were."""
        return len(self._failures.pop(operation, ()))

    def take_failure(self, operation: str) -> InjectedFailure | None:
        """The failure queued for this call of ``operation``, if any."""
        queue = self._failures.get(operation)
        return queue.popleft() if queue else None

    # ----------------------------------------------------------------- sessions

    def open_session(self, login: str, password: str) -> str:
        """A new session valid until the end of today, or DrsError on wrong credentials."""
        if not (
            secrets.compare_digest(login, self.config.login)
            and secrets.compare_digest(password, self.config.password)
        ):
            raise DrsError("Login failed: the login or password is not valid")
        session_id = secrets.token_hex(16)
        self.sessions[session_id] = self.today()
        self.sessions_opened += 1
        return session_id

    def require_session(self, session_id: str) -> None:
        """DrsError unless the session was opened today and not closed."""
        opened = self.sessions.get(session_id)
        if opened is None or opened != self.today():
            self.sessions.pop(session_id, None)
            raise DrsError("Invalid session: the session does not exist or has expired")

    def close_session(self, session_id: str) -> None:
        """End a session."""
        self.require_session(session_id)
        del self.sessions[session_id]

    # ----------------------------------------------------------------- reference data

    def check_contract(self, contract: str) -> None:
        """DrsError unless DRS knows the contract."""
        if contract not in self.config.contracts:
            raise DrsError(f"Contract {contract!r} does not exist")

    def check_priority(self, priority: str) -> None:
        """DrsError unless the priority is one of the installation's codes."""
        if not priority.strip():
            raise DrsError("Priority is mandatory")
        if priority not in self.config.priorities:
            raise DrsError(f"Priority {priority!r} does not exist")

    def booking_line(
        self, sor_code: str, item_number: str, quantity: str, minutes: str | None
    ) -> BookingCodeLine:
        """Validate one SoR line and derive its trade and duration from the catalogue."""
        sor = self._catalogue.get(sor_code)
        if sor is None:
            raise DrsError(f"Booking code {sor_code!r} does not exist")
        item = _positive_int(item_number, "itemNumberWithinBooking")
        count = _positive_int(quantity, "quantity")
        each = _positive_int(minutes, "standardMinuteValue") if minutes else sor.minutes
        return BookingCodeLine(sor.code, item, count, sor.trade, each * count, sor.description)

    # ----------------------------------------------------------------- diaries

    def days_of(self, begin: datetime, end: datetime) -> tuple[list[date], bool]:
        """The local days a period covers, and whether they were capped at max_days."""
        first = begin.astimezone(LONDON).date()
        last = end.astimezone(LONDON).date()
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        capped = len(days) > self.config.max_days
        return days[: self.config.max_days], capped

    def is_working_day(self, day: date) -> bool:
        """Whether operatives work that day at all (weekday pattern and holidays)."""
        return day.weekday() in self.config.working_days and day not in self.config.holidays

    def day_slots(
        self, day: date, trade: str, minutes: int, begin: datetime, end: datetime
    ) -> list[OfferedSlot]:
        """The pattern's windows of ``day`` inside the period, each YES, NO or MAYBE."""
        if not self.is_working_day(day):
            return []
        offered = []
        for template in self.config.pattern:
            start = datetime.combine(day, template.start, LONDON)
            finish = datetime.combine(day, template.end, LONDON)
            if start < begin or finish > end:
                continue
            answer: Availability = "YES" if self._fits(start, finish, trade, minutes) else "NO"
            if answer == "YES" and (start, finish) in self.maybe_windows:
                answer = "MAYBE"
            offered.append(OfferedSlot(start, finish, answer))
        return offered

    def remaining(self, start: datetime, end: datetime, trade: str) -> int:
        """How many more jobs of ``trade`` the window can take."""
        return self.config.capacity_for(trade) - self._usage[_window_key(start, end, trade)]

    def _is_pattern_window(self, start: datetime, end: datetime) -> bool:
        local_start, local_end = start.astimezone(LONDON), end.astimezone(LONDON)
        if local_start.date() != local_end.date() or not self.is_working_day(local_start.date()):
            return False
        return any(
            t.start == local_start.time().replace(tzinfo=None)
            and t.end == local_end.time().replace(tzinfo=None)
            for t in self.config.pattern
        )

    def _fits(
        self, start: datetime, end: datetime, trade: str, minutes: int, *, force: bool = False
    ) -> bool:
        if start <= self.now() or minutes > (end - start).total_seconds() / 60:
            return False
        return force or self.remaining(start, end, trade) > 0

    # ----------------------------------------------------------------- orders

    def create_order(self, order: SimOrder, earliest: datetime | None) -> SimOrder:
        """Store a new order (its id is assigned here) with its one implicit booking."""
        if any(o.primary_order_number == order.primary_order_number for o in self.orders.values()):
            raise DrsError(
                f"Order with primaryOrderNumber {order.primary_order_number} already exists"
            )
        order.order_id = self._next_order_id
        self._next_order_id += 1
        planning_start = max(earliest or self.now(), self.now())
        booking = SimBooking(
            booking_id=self._next_booking_id,
            order_id=order.order_id,
            status="PLANNED",
            duration=sum(line.minutes for line in order.lines),
            trade=order.lines[0].trade,
            planning_start=planning_start,
            planning_end=max(order.target_date, planning_start),
            token_id=secrets.token_hex(8),
            user_id=order.user_id,
        )
        self._next_booking_id += 1
        order.bookings.append(booking)
        self.orders[order.order_id] = order
        self.bookings[booking.booking_id] = booking
        return order

    def find_orders(
        self,
        numbers: Iterable[str] = (),
        location_ids: Iterable[str] = (),
        contracts: Iterable[str] = (),
    ) -> list[SimOrder]:
        """Orders matching every criterion given (an empty criterion matches all)."""
        wanted_numbers, wanted_locations = set(numbers), set(location_ids)
        wanted_contracts = set(contracts)
        return [
            o
            for o in self.orders.values()
            if (not wanted_numbers or o.primary_order_number in wanted_numbers)
            and (not wanted_locations or o.location_id in wanted_locations)
            and (not wanted_contracts or o.contract in wanted_contracts)
        ]

    def order_of(self, order_id: int, primary_order_number: str, contract: str) -> SimOrder:
        """The order deleteOrder means: by orderId when given, else by primaryOrderNumber."""
        if order_id:
            order = self.orders.get(order_id)
            if order is None:
                raise DrsError(f"Delete failed: no order exists with orderId {order_id}")
            if primary_order_number and order.primary_order_number != primary_order_number:
                raise DrsError(
                    f"orderId {order_id} does not belong to primaryOrderNumber "
                    f"{primary_order_number}"
                )
            return order
        for order in self.orders.values():
            if order.primary_order_number == primary_order_number and order.contract == contract:
                return order
        raise DrsError(
            f"Delete failed: no order exists with primaryOrderNumber {primary_order_number}"
        )

    def delete_order(self, order: SimOrder) -> None:
        """Remove an order and its bookings, freeing the slots they held."""
        for booking in order.bookings:
            self._release(booking)
            self.bookings.pop(booking.booking_id, None)
        self.orders.pop(order.order_id, None)

    # ----------------------------------------------------------------- scheduling

    def schedule(
        self,
        booking_id: int,
        primary_order_number: str,
        contract: str,
        start: datetime,
        end: datetime,
        *,
        force: bool,
        time_lock: bool,
    ) -> SimBooking:
        """Place (or move) a booking into a window of the diary; DrsError if it cannot."""
        booking = self.bookings.get(booking_id)
        if booking is None:
            raise DrsError(f"Unable to find booking {booking_id} in OptiTime Web")
        order = self.orders[booking.order_id]
        if order.primary_order_number != primary_order_number or order.contract != contract:
            raise DrsError(
                f"Booking {booking_id} does not belong to order {primary_order_number} "
                f"on contract {contract}"
            )
        if booking.status in ("ARRIVED", "STARTED", "COMPLETED"):
            raise DrsError(f"Booking {booking_id} cannot be scheduled: it is {booking.status}")
        previous = booking.window
        if previous is not None:
            self._release(booking)  # a move may land in the slot it already holds
        if not self._is_pattern_window(start, end) or not self._fits(
            start, end, booking.trade, booking.duration, force=force
        ):
            if previous is not None:
                self._hold(booking, *previous)
            raise DrsError(PLANNING_FAILED)
        self._hold(booking, start, end)
        booking.planning_start, booking.planning_end = start, end
        booking.time_lock = time_lock
        return booking

    def set_status(self, booking_id: int, status: str) -> None:
        """Move a booking along its life cycle, as operatives' devices would."""
        self.bookings[booking_id].status = status

    def move(self, booking_id: int, start: datetime, end: datetime) -> SimBooking:
        """Put a booking into another window by hand, as a contractor moving it in DRS
        would: the diary is updated but not asked (capacity and the slot pattern are not
        checked). An unscheduled booking becomes scheduled."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("a window's start and end must be timezone-aware")
        if end <= start:
            raise DrsError("The window must end after it starts")
        booking = self.bookings[booking_id]
        self._release(booking)
        self._hold(booking, start, end)
        booking.planning_start, booking.planning_end = start, end
        return booking

    def held_windows(self, primary_order_number: str) -> list[tuple[datetime, datetime]]:
        """The windows the order's bookings hold in the diary (for tests)."""
        return [
            b.window
            for o in self.find_orders(numbers=[primary_order_number])
            for b in o.bookings
            if b.window is not None
        ]

    def _hold(self, booking: SimBooking, start: datetime, end: datetime) -> None:
        booking.window = (start, end)
        self._usage[_window_key(start, end, booking.trade)] += 1

    def _release(self, booking: SimBooking) -> None:
        if booking.window is not None:
            self._usage[_window_key(*booking.window, booking.trade)] -= 1
            booking.window = None


def _window_key(start: datetime, end: datetime, trade: str) -> tuple[datetime, datetime, str]:
    return (start.astimezone(UTC), end.astimezone(UTC), trade)


def _positive_int(text: str | None, name: str) -> int:
    try:
        value = int((text or "").strip())
    except ValueError:
        raise DrsError(f"{name} must be a whole number, not {text!r}") from None
    if value < 1:
        raise DrsError(f"{name} must be at least 1")
    return value
