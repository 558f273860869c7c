"""The ports' data types: what flows between the gateway and an adapter.

Frozen dataclasses and enums only; an adapter translates these to and from one backend's
wire format.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import IntEnum, StrEnum
from typing import Literal


class Priority(IntEnum):
    """Work priority, numbered as in the HACT housing data standard."""

    IMMEDIATE = 1
    EMERGENCY = 2
    URGENT = 3
    NORMAL = 4
    INSPECTION = 5

    @classmethod
    def parse(cls, key: object) -> Priority:
        """A priority as a council file may write it: ``4``, ``"4"`` or ``"normal"``."""
        if isinstance(key, Priority):
            return key
        if isinstance(key, int) or (isinstance(key, str) and key.strip().isdigit()):
            try:
                return cls(int(key))
            except ValueError:
                pass
        if isinstance(key, str) and key.strip().upper() in cls.__members__:
            return cls[key.strip().upper()]
        raise ValueError(f"unknown priority {key!r}: use 1..5 or a name such as 'normal'")


def priority_codes(given: object, defaults: Mapping[Priority, str]) -> object:
    """A backend's priority codes from a council file's mapping (keys as ``Priority.parse``
    reads them), over ``defaults`` for priorities it does not mention; anything but a
    mapping is handed back for the settings model to refuse."""
    if not isinstance(given, Mapping):
        return given
    merged: dict[Priority, object] = dict(defaults)
    for key, code in given.items():
        merged[Priority.parse(key)] = code
    return merged


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


HazardKind = Literal["alert", "asbestos", "unread"]
"""``alert``: a cautionary alert (a violent occupant, a dog, a lone-worker warning);
``asbestos``: a recorded asbestos hazard; ``unread``: the housing system could not be asked,
so operatives must check before visiting."""


@dataclass(frozen=True, slots=True)
class Hazard:
    """Something an operative must know before visiting a property. For operatives only:
    passed to works orders and schedulers' order notes, never shown to residents."""

    kind: HazardKind
    code: str
    description: str
    location: str | None = None


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
    hazards: tuple[Hazard, ...] = ()


@dataclass(frozen=True, slots=True)
class Booking:
    """A booking the backend holds. ``backend_refs`` are the backend's identifiers (e.g.
    ``{"orderId": "1021", "bookingId": "2042"}``), kept by the gateway and passed back on
    every later call about this booking. ``works_order_ref`` is the housing system's works
    order the booking was made for, where one was raised (DRS files the order under it)."""

    reference: str
    backend_refs: Mapping[str, str] = field(default_factory=dict)
    works_order_ref: str | None = None


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
    hazards: tuple[Hazard, ...] = ()


MessageChannel = Literal["sms", "email"]


@dataclass(frozen=True, slots=True)
class OutgoingMessage:
    """A message for a resident or the council's staff. ``kind`` says what it is about
    (``booking_confirmed``, ``reminder``, ``staff_new_repair``, ...); ``template`` is the
    council's template id for that kind and channel at the sender; ``personalisation`` fills
    the template's placeholders; ``reference`` is the gateway's own id for this message,
    echoed by senders that send delivery receipts, so a receipt finds its message."""

    council_id: str
    kind: str
    channel: MessageChannel
    to: str
    template: str
    personalisation: Mapping[str, str]
    reference: str


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message the sender accepted: its id there (a delivery receipt names it)."""

    id: str


@dataclass(frozen=True, slots=True)
class DeliveryReceipt:
    """What a sender says became of a message: ``status`` is ``delivered``, or
    ``temporary-failure`` / ``permanent-failure`` / ``technical-failure``."""

    sender_id: str
    reference: str | None
    status: str
