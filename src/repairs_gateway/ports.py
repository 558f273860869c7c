"""The adaptor interface: what the gateway asks of a council's back-office systems.

An adaptor translates between these types and one backend's wire format. It holds no
retries, no database of its own and no HTTP framework: timeouts, retries of idempotent
calls, metrics and logging are applied by the gateway around every call (see
``repairs_gateway.resilience``).

Three roles, each a small Protocol; an adaptor package implements one or more:

* ``AddressSource``: the council's properties (Civica UH, Northgate, the built-in register).
* ``Scheduler``: operatives' diaries (Kirona DRS, Totalmobile, MCM, the built-in calendar).
* ``WorksOrderSink``: a housing management system that must raise a works order before
  a job can be scheduled (Civica UH, Northgate).

Adaptors are published through the entry-point group ``repairs_gateway.adapters``; each
entry point names an ``AdapterPlugin``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum, StrEnum
from typing import Any, Literal, Protocol, runtime_checkable

from pydantic import BaseModel

ENTRY_POINT_GROUP = "repairs_gateway.adapters"

# --------------------------------------------------------------------------- domain types


class Priority(IntEnum):
    """Work priority, numbered as in the HACT housing data standard."""

    IMMEDIATE = 1
    EMERGENCY = 2
    URGENT = 3
    NORMAL = 4
    INSPECTION = 5


PropertyKind = Literal["dwelling", "communal"]


@dataclass(frozen=True, slots=True)
class Address:
    """An eligible property. ``uprn`` is the national identifier (digits, at most 12);
    ``property_ref`` is the backend's own reference where it differs (UH ``prop_ref``)."""

    uprn: str
    lines: tuple[str, ...]
    postcode: str
    kind: PropertyKind = "dwelling"
    property_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Job:
    """What a scheduler needs to offer time: the trade, how long, how urgent. The SoR code
    is the council's own and is passed on to backends that want it."""

    trade: str
    duration_minutes: int
    priority: Priority = Priority.NORMAL
    sor_code: str | None = None


@dataclass(frozen=True, slots=True)
class SlotQuery:
    """Ask for free time for ``job`` at ``address`` on the days ``first_day``..``last_day``
    (inclusive, in the council's local time zone)."""

    council_id: str
    address: Address
    job: Job
    first_day: date
    last_day: date


@dataclass(frozen=True, slots=True)
class Slot:
    """A free window. ``start``/``end`` are timezone-aware. ``ref`` is the backend's own
    handle for the window (opaque to the gateway, at most 200 characters), handed back
    unchanged when the window is booked."""

    start: datetime
    end: datetime
    ref: str = ""


@dataclass(frozen=True, slots=True)
class Contact:
    """How to reach the resident."""

    name: str
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class BookingRequest:
    """Book ``job`` at ``address`` into ``slot``. ``reference`` is the gateway's repair
    reference: adaptors store it in the backend (e.g. DRS ``primaryOrderNumber``) so a
    booking can be found again after a crash."""

    council_id: str
    reference: str
    address: Address
    job: Job
    slot: Slot
    description: str
    contact: Contact
    works_order_ref: str | None = None


@dataclass(frozen=True, slots=True)
class Booking:
    """A booking the backend holds. ``backend_refs`` are the backend's identifiers (e.g.
    ``{"orderId": "1021", "bookingId": "2042"}``), kept by the gateway and passed back on
    every later call about this booking."""

    reference: str
    backend_refs: Mapping[str, str] = field(default_factory=dict)


class BookingStatus(StrEnum):
    """A backend booking's state, as the gateway reports it."""

    BOOKED = "booked"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class BookingState:
    """What a backend says of a booking now."""

    status: BookingStatus
    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True, slots=True)
class WorksOrderRequest:
    """Ask a housing management system to raise a works order for a repair."""

    council_id: str
    reference: str
    address: Address
    job: Job
    description: str
    contact: Contact


# --------------------------------------------------------------------------- typed errors


class AdapterError(Exception):
    """Base of every error an adaptor raises. ``detail`` is for logs and operators, never
    for residents: it may hold a backend's raw message."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


class SlotUnavailable(AdapterError):
    """The window is no longer free (taken since it was offered, or never offered)."""


class NotFound(AdapterError):
    """The backend does not know the property, order or booking."""


class BackendUnavailable(AdapterError):
    """The backend did not answer, answered too late, or is down. Safe to retry later."""


class BackendRejected(AdapterError):
    """The backend understood and refused the request, or answered something malformed.
    Retrying the same request will not help."""


# --------------------------------------------------------------------------- the roles


@runtime_checkable
class AddressSource(Protocol):
    """Properties eligible for online repairs."""

    async def addresses_at(self, postcode: str) -> Sequence[Address]:
        """Eligible properties at ``postcode`` (already normalised: upper case, one space
        before the inward code). An unknown postcode is an empty sequence."""
        ...

    async def address(self, uprn: str) -> Address | None:
        """The eligible property with this UPRN, or None."""
        ...


@runtime_checkable
class Scheduler(Protocol):
    """An operatives' diary."""

    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        """Free windows for the job on the query's days: sorted by start then end, each
        starting on one of those days (in the council's time zone) and not yet begun. The
        gateway checks this again and pages; the conformance kit holds adaptors to it."""
        ...

    async def book(self, request: BookingRequest) -> Booking:
        """Book the slot. Raises ``SlotUnavailable`` if it is no longer free. Must never
        return unless the backend holds the booking."""
        ...

    async def reschedule(self, booking: Booking, job: Job, slot: Slot) -> Booking:
        """Move a booking to another slot; answers the (possibly changed) booking."""
        ...

    async def cancel(self, booking: Booking) -> None:
        """Cancel a booking and free its slot. Cancelling twice is not an error."""
        ...

    async def status(self, booking: Booking) -> BookingState:
        """The booking's state in the backend."""
        ...


@runtime_checkable
class WorksOrderSink(Protocol):
    """A housing management system that raises works orders."""

    async def raise_order(self, request: WorksOrderRequest) -> str:
        """Raise a works order and answer its reference in the backend."""
        ...


@runtime_checkable
class WorksOrderCanceller(Protocol):
    """Optional, for a ``WorksOrderSink`` whose system can cancel an order: the gateway then
    withdraws the works order of a repair that is cancelled, or whose window was taken."""

    async def cancel_order(self, works_order_ref: str) -> None:
        """Cancel the works order; cancelling twice is not an error."""
        ...


@runtime_checkable
class Closable(Protocol):
    """Adaptors holding connections or sessions implement this; the gateway calls it once
    on shutdown."""

    async def aclose(self) -> None:
        """Release connections and sessions."""
        ...


# --------------------------------------------------------------------------- plugins

Role = Literal["addresses", "scheduler", "works_orders"]


@dataclass(frozen=True, slots=True)
class AdapterContext:
    """What the gateway hands an adaptor factory: which council it serves, and for the
    built-in backends only, the gateway's database (``database`` is an SQLAlchemy
    ``async_sessionmaker``; third-party adaptors must not rely on it)."""

    council_id: str
    timezone: str = "Europe/London"
    database: Any = None


AdapterFactory = Callable[[Any, AdapterContext], Any]
"""Builds an adaptor from its validated settings model and the context."""


@dataclass(frozen=True, slots=True)
class SimulatorOptions:
    """Options of ``repairs-gateway simulate``: added latency per call and the share of
    calls that fail (0 to 1), for tests and benchmarks."""

    latency_ms: float = 0.0
    fail_rate: float = 0.0
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class SimulatedBackend:
    """A running simulator: an ASGI ``app``, and ``describe(base_url)`` answering the lines
    to print for a person (endpoint URL, credentials it accepts)."""

    app: Any
    describe: Callable[[str], str]


SimulatorFactory = Callable[[SimulatorOptions], SimulatedBackend]
"""Builds a simulator of the adaptor's backend."""


@dataclass(frozen=True, slots=True)
class AdapterPlugin:
    """What an entry point in ``repairs_gateway.adapters`` names.

    ``settings`` is the pydantic model of the adaptor's settings in the council file;
    fields typed ``SecretStr`` must be given there as ``{from_env: VARIABLE}``.
    ``roles`` says which Protocols ``build`` returns an implementation of.
    ``simulator``, if given, serves ``repairs-gateway simulate NAME``.
    """

    name: str
    roles: frozenset[Role]
    settings: type[BaseModel]
    build: AdapterFactory
    simulator: SimulatorFactory | None = None
    description: str = ""
