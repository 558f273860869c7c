"""The roles an adapter can play, as runtime-checkable Protocols, and the optional
capabilities (``PropertyLookup``, ``WorksOrderCanceller``, ``HazardSource``, ``SentMessageFinder``,
``ReceiptReader``, ``StatusPushReader``, ``Preparable``, ``Closable``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, Protocol, runtime_checkable

from repairs_gateway.ports.types import (
    Address,
    Booking,
    BookingRequest,
    BookingState,
    DeliveryReceipt,
    Hazard,
    Job,
    OutgoingMessage,
    SentMessage,
    Slot,
    SlotQuery,
    WorksOrderRequest,
)


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
class PropertyLookup(Protocol):
    """Optional, for an ``AddressSource`` whose system finds properties by its own reference
    and not by UPRN (UH's web services). The gateway remembers, in its database, the
    ``property_ref`` of every address the source answered, and asks by that reference when
    it needs one property again (in another process, or after a restart); ``address(uprn)``
    may then answer None for a UPRN the adapter has not seen."""

    async def address_by_ref(self, property_ref: str) -> Address | None:
        """The eligible property with this backend reference (its eligibility checked now),
        or None when it is unknown or no longer eligible."""
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
class HazardSource(Protocol):
    """Optional, for an ``AddressSource`` or ``WorksOrderSink`` whose housing system records
    cautionary alerts and asbestos hazards (UH's ``GetPropertyAlerts`` and
    ``GetPropertyAsbestosHazards``). The gateway reads them when it raises a works order or
    books, and passes them on in ``WorksOrderRequest.hazards`` and ``BookingRequest.hazards``
    for operatives; residents never see them."""

    async def hazards_at(self, address: Address) -> Sequence[Hazard]:
        """The hazards recorded at the property (by ``address.property_ref`` where the system
        has its own references); empty when there are none."""
        ...


@runtime_checkable
class Notifier(Protocol):
    """Sends text messages and emails (GOV.UK Notify, or the built-in log sender)."""

    async def send(self, message: OutgoingMessage) -> SentMessage:
        """Send ``message``. Raises ``BackendRejected`` when the sender refuses it for good
        (a number that is not a mobile, a missing placeholder: the gateway shows it to staff
        and does not retry) and ``BackendUnavailable`` when it cannot take it now (rate
        limited, down: the gateway retries later)."""
        ...


@runtime_checkable
class SentMessageFinder(Protocol):
    """Optional, for a ``Notifier`` whose sender can be asked what it was sent: after a crash
    between sending and recording, the gateway asks before sending again, so nobody gets a
    message twice."""

    async def find_sent(self, reference: str) -> SentMessage | None:
        """The message sent with this ``OutgoingMessage.reference``, if any."""
        ...


@runtime_checkable
class ReceiptReader(Protocol):
    """Optional, for a ``Notifier`` whose sender posts delivery receipts to the gateway
    (``POST /v1/callbacks/{councilId}/notifications``)."""

    def read_receipt(self, authorization: str | None, body: bytes) -> DeliveryReceipt | None:
        """The receipt in a callback, or None when the body is not one. Raises
        ``ReceiptRefused`` when the caller is not the sender (its token is wrong); the
        token must be compared in constant time."""
        ...


@runtime_checkable
class StatusPushReader(Protocol):
    """Optional, for a ``Scheduler`` whose backend pushes booking changes to the gateway
    (``POST /v1/callbacks/{councilId}/schedulers/{name}``, e.g. DRS's ``bookingConfirmation``).
    The gateway then asks ``status`` of each booking a push names at once, rather than at its
    next poll: nothing in a push is believed beyond the references it names."""

    def read_push(self, headers: Mapping[str, str], body: bytes) -> Sequence[str]:
        """The references of the bookings a push concerns (``Booking.reference``, the
        gateway's repair reference, or ``Booking.works_order_ref`` where the backend files
        bookings under the works order); empty when it names none of this adapter's. ``headers`` are
        the request's, names in lower case. Raises ``ReceiptRefused`` when the caller is not
        the backend (a wrong or missing credential, which must be compared in constant time,
        or pushes not configured) and ``BackendRejected`` when the body is no push it reads."""
        ...

    def push_answer(self, refused: str | None) -> tuple[str, bytes]:
        """What the backend expects back, as (content type, body): for a push taken
        (``refused`` None), or refused for that reason (not read, or not authenticated)."""
        ...


@runtime_checkable
class Preparable(Protocol):
    """Optional, for adaptors with set-up worth doing before the first resident asks (DRS
    opens the day's session). The gateway calls ``prepare`` once at start-up, without
    waiting for it; a failure is logged, and the first real call does the set-up instead."""

    async def prepare(self) -> None:
        """Do the set-up now (open a session, fetch a token)."""
        ...


@runtime_checkable
class Closable(Protocol):
    """Adaptors holding connections or sessions implement this; the gateway calls it once
    on shutdown."""

    async def aclose(self) -> None:
        """Release connections and sessions."""
        ...


Role = Literal["addresses", "scheduler", "works_orders", "notifications"]
"""A role a plugin declares in ``AdapterPlugin.roles``."""

ROLE_PROTOCOLS: dict[Role, type] = {
    "addresses": AddressSource,
    "scheduler": Scheduler,
    "works_orders": WorksOrderSink,
    "notifications": Notifier,
}
"""The Protocol that what a plugin builds must implement for each role it declares."""
