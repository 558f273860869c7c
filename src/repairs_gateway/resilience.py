"""Cross-cutting concerns around every adaptor call, applied once here and not in adaptors:
a timeout, retries of idempotent calls with backoff, metrics and logging.

An adaptor that raises anything but a typed ``AdapterError`` is treated as having rejected
the request, so a bug in an adaptor can never surface as a bare exception.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from repairs_gateway.metrics import Metrics
from repairs_gateway.ports import (
    AdapterError,
    Address,
    AddressSource,
    BackendRejected,
    BackendUnavailable,
    Booking,
    BookingRequest,
    BookingState,
    DeliveryReceipt,
    Hazard,
    HazardSource,
    Job,
    NotFound,
    Notifier,
    OutgoingMessage,
    PropertyLookup,
    ReceiptReader,
    Scheduler,
    SentMessage,
    SentMessageFinder,
    Slot,
    SlotQuery,
    SlotUnavailable,
    WorksOrderCanceller,
    WorksOrderRequest,
    WorksOrderSink,
)

T = TypeVar("T")
MAX_WORKS_ORDER_REF = 64  # the width of repairs.works_order_ref
log = logging.getLogger("repairs_gateway.backend")

_OUTCOMES: tuple[tuple[type[AdapterError], str], ...] = (
    (SlotUnavailable, "slot_unavailable"),
    (NotFound, "not_found"),
    (BackendUnavailable, "unavailable"),
    (BackendRejected, "rejected"),
)


def _outcome(error: AdapterError) -> str:
    return next((name for kind, name in _OUTCOMES if isinstance(error, kind)), "error")


EXPECTED: tuple[type[AdapterError], ...] = (SlotUnavailable, NotFound)
"""Answers the gateway is built to meet (a window taken since it was offered, a booking the
scheduler no longer holds): the caller answers them as designed, so they are not failures."""


def _log_outcome(adapter: str, call: str, error: AdapterError, retrying: bool) -> None:
    """A debug line for an expected answer, a warning with what went wrong for a failure;
    an attempt about to be tried again is only information until the last one fails too."""
    detail = f" ({error.detail})" if error.detail else ""
    if isinstance(error, EXPECTED):
        log.debug("%s.%s answered %s: %s%s", adapter, call, _outcome(error), error, detail)
    elif retrying and isinstance(error, BackendUnavailable):
        log.info("%s.%s failed (%s): %s%s; trying again", adapter, call, _outcome(error), error, detail)
    else:
        log.warning("%s.%s failed (%s): %s%s", adapter, call, _outcome(error), error, detail)


class BackendCaller:
    """Runs adaptor calls with a timeout, retries and metrics.

    Booking and moving get ``booking_timeout``: they are several backend round trips (DRS:
    create, schedule, and when an answer is lost, a look and an undo), and cutting one short
    midway is what leaves a backend holding what the resident was not told of.
    """

    def __init__(
        self,
        metrics: Metrics,
        timeout: float,
        retries: int,
        backoff: float = 0.05,
        booking_timeout: float | None = None,
    ) -> None:
        self._metrics = metrics
        self.timeout = timeout
        self.booking_timeout = booking_timeout or 3 * timeout
        self._retries = retries
        self._backoff = backoff

    async def _once(
        self, adapter: str, call: str, run: Callable[[], Awaitable[T]], limit: float, retrying: bool
    ) -> T:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(limit):
                result = await run()
        except TimeoutError:
            error: AdapterError = BackendUnavailable(
                "the backend did not answer in time", detail=f"timeout after {limit}s"
            )
        except AdapterError as exc:
            error = exc
        except Exception as exc:  # an adaptor bug must not escape as a bare exception
            log.exception("adaptor %s raised an untyped error in %s", adapter, call)
            error = BackendRejected("the backend's answer could not be used", detail=repr(exc))
        else:
            self._metrics.backend_calls.labels(adapter, call, "ok").inc()
            self._metrics.backend_seconds.labels(adapter, call).observe(time.perf_counter() - started)
            return result
        self._metrics.backend_calls.labels(adapter, call, _outcome(error)).inc()
        self._metrics.backend_seconds.labels(adapter, call).observe(time.perf_counter() - started)
        _log_outcome(adapter, call, error, retrying)
        raise error

    async def call(
        self,
        adapter: str,
        call: str,
        run: Callable[[], Awaitable[T]],
        *,
        idempotent: bool,
        booking: bool = False,
    ) -> T:
        """Run ``run`` once, or with retries when it is idempotent and the backend was
        unavailable; raises the adaptor's typed error."""
        attempts = 1 + (self._retries if idempotent else 0)
        limit = self.booking_timeout if booking else self.timeout
        for attempt in range(1, attempts + 1):
            try:
                return await self._once(adapter, call, run, limit, retrying=attempt < attempts)
            except BackendUnavailable:
                if attempt == attempts:
                    raise
                await asyncio.sleep(self._backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")


class GuardedAddresses:
    """An ``AddressSource`` whose calls go through the ``BackendCaller``."""

    def __init__(self, inner: AddressSource, name: str, caller: BackendCaller) -> None:
        self._inner, self._name, self._caller = inner, name, caller

    async def addresses_at(self, postcode: str) -> Sequence[Address]:
        """See ``AddressSource.addresses_at``."""
        return await self._caller.call(
            self._name, "addresses_at", lambda: self._inner.addresses_at(postcode), idempotent=True
        )

    async def address(self, uprn: str) -> Address | None:
        """See ``AddressSource.address``."""
        return await self._caller.call(
            self._name, "address", lambda: self._inner.address(uprn), idempotent=True
        )

    async def address_by_ref(self, property_ref: str) -> Address | None:
        """See ``PropertyLookup.address_by_ref``; None when the source cannot be asked so."""
        inner = self._inner
        if not isinstance(inner, PropertyLookup):
            return None
        return await self._caller.call(
            self._name, "address_by_ref", lambda: inner.address_by_ref(property_ref), idempotent=True
        )


class GuardedHazards:
    """A ``HazardSource`` whose calls go through the ``BackendCaller``."""

    def __init__(self, inner: HazardSource, name: str, caller: BackendCaller) -> None:
        self._inner, self._name, self._caller = inner, name, caller

    async def hazards_at(self, address: Address) -> Sequence[Hazard]:
        """See ``HazardSource.hazards_at``."""
        return await self._caller.call(
            self._name, "hazards_at", lambda: self._inner.hazards_at(address), idempotent=True
        )


class GuardedScheduler:
    """A ``Scheduler`` whose calls go through the ``BackendCaller``. Booking and moving are
    never retried: a lost answer might hide a booking that was made."""

    def __init__(self, inner: Scheduler, name: str, caller: BackendCaller) -> None:
        self._inner, self._name, self._caller = inner, name, caller

    @property
    def adapter(self) -> Scheduler:
        """The adapter guarded (for what is not a backend call, such as reading a push)."""
        return self._inner

    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        """See ``Scheduler.slots``."""
        return await self._caller.call(self._name, "slots", lambda: self._inner.slots(query), idempotent=True)

    async def book(self, request: BookingRequest) -> Booking:
        """See ``Scheduler.book``."""
        return await self._caller.call(
            self._name, "book", lambda: self._inner.book(request), idempotent=False, booking=True
        )

    async def reschedule(self, booking: Booking, job: Job, slot: Slot) -> Booking:
        """See ``Scheduler.reschedule``."""
        return await self._caller.call(
            self._name,
            "reschedule",
            lambda: self._inner.reschedule(booking, job, slot),
            idempotent=False,
            booking=True,
        )

    async def cancel(self, booking: Booking) -> None:
        """See ``Scheduler.cancel`` (idempotent, so retried)."""
        await self._caller.call(self._name, "cancel", lambda: self._inner.cancel(booking), idempotent=True)

    async def status(self, booking: Booking) -> BookingState:
        """See ``Scheduler.status``."""
        return await self._caller.call(
            self._name, "status", lambda: self._inner.status(booking), idempotent=True
        )


class GuardedWorksOrders:
    """A ``WorksOrderSink`` whose calls go through the ``BackendCaller`` (never retried)."""

    def __init__(self, inner: WorksOrderSink, name: str, caller: BackendCaller) -> None:
        self._inner, self._name, self._caller = inner, name, caller

    async def raise_order(self, request: WorksOrderRequest) -> str:
        """See ``WorksOrderSink.raise_order``; a reference the gateway cannot store is refused."""
        reference = await self._caller.call(
            self._name,
            "raise_order",
            lambda: self._inner.raise_order(request),
            idempotent=False,
            booking=True,
        )
        if not isinstance(reference, str) or not 0 < len(reference) <= MAX_WORKS_ORDER_REF:
            raise BackendRejected("the works order reference could not be used", detail=repr(reference)[:200])
        return reference

    async def cancel_order(self, works_order_ref: str) -> bool:
        """Cancel a works order; False when the housing system cannot cancel orders."""
        inner = self._inner
        if not isinstance(inner, WorksOrderCanceller):
            return False
        await self._caller.call(
            self._name, "cancel_order", lambda: inner.cancel_order(works_order_ref), idempotent=True
        )
        return True


class GuardedNotifier:
    """A ``Notifier`` whose calls go through the ``BackendCaller``. Sending is never retried
    here: the work queue retries it, after asking the sender what it holds."""

    def __init__(self, inner: Notifier, name: str, caller: BackendCaller) -> None:
        self._inner, self._name, self._caller = inner, name, caller

    async def send(self, message: OutgoingMessage) -> SentMessage:
        """See ``Notifier.send``."""
        return await self._caller.call(
            self._name, "send", lambda: self._inner.send(message), idempotent=False
        )

    async def find_sent(self, reference: str) -> SentMessage | None:
        """The message sent with ``reference``; None when the sender cannot be asked."""
        inner = self._inner
        if not isinstance(inner, SentMessageFinder):
            return None
        return await self._caller.call(
            self._name, "find_sent", lambda: inner.find_sent(reference), idempotent=True
        )

    @property
    def can_find(self) -> bool:
        """Whether the sender can be asked what it was sent."""
        return isinstance(self._inner, SentMessageFinder)

    def read_receipt(self, authorization: str | None, body: bytes) -> DeliveryReceipt | None:
        """See ``ReceiptReader.read_receipt``; None when the sender sends no receipts."""
        inner = self._inner
        if not isinstance(inner, ReceiptReader):
            return None
        return inner.read_receipt(authorization, body)
