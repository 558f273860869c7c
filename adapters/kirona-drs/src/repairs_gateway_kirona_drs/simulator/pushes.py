"""DRS's background service: a ``bookingConfirmation`` pushed to a client's callback URL
when a booking changes (its life-cycle status, or its window moved by a contractor).

The simulator pushes when a booking is changed through its test control
(``POST /_simulator/orders/{primaryOrderNumber}/status``) and a callback URL is set
(``POST /_simulator/callback``). The push is sent before the control answers, once, with
``Authorization: Bearer <token>`` when a token was given; what came of it is kept in
``deliveries`` (and shown by ``GET /_simulator/callback``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx

from ..push import PUSH_SOAP_ACTION, XML, BookingConfirmation, confirmation_envelope, iso
from .state import LONDON, DrsState, SimBooking, SimOrder

PUSH_TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class CallbackTarget:
    """Where pushes go, and the token they carry."""

    url: str
    token: str | None = None


class Pushes:
    """Sends ``bookingConfirmation`` pushes to the callback set, if any. ``client`` (for
    tests, e.g. over ``httpx.ASGITransport`` to an in-process gateway) is used when given;
    otherwise each push opens a connection of its own."""

    def __init__(self, state: DrsState, client: httpx.AsyncClient | None = None) -> None:
        self._state = state
        self.client = client
        """Sends the pushes when set (tests may set it after building the simulator)."""
        self.target: CallbackTarget | None = None
        self.deliveries: list[dict[str, Any]] = []

    def confirmation(self, order: SimOrder, booking: SimBooking) -> BookingConfirmation:
        """The push DRS sends for ``booking`` as it is now."""
        return BookingConfirmation(
            booking_id=str(booking.booking_id),
            primary_order_number=order.primary_order_number,
            contract=order.contract,
            location_id=order.location_id,
            planning_window_start=iso(booking.planning_start.astimezone(LONDON)),
            planning_window_end=iso(booking.planning_end.astimezone(LONDON)),
            booking_reason=booking.reason,
            changed_date=iso(self._state.now().astimezone(LONDON)),
            token_id=booking.token_id,
            user_id=booking.user_id,
        )

    async def push(self, order: SimOrder, booking: SimBooking) -> dict[str, Any] | None:
        """Push the booking's change to the callback; what came of it (None when no callback
        is set). A failure to deliver is recorded, never raised: DRS carries on regardless."""
        target = self.target
        if target is None:
            return None
        headers = {"Content-Type": XML, "SOAPAction": f'"{PUSH_SOAP_ACTION}"'}
        if target.token:
            headers["Authorization"] = f"Bearer {target.token}"
        body = confirmation_envelope(self.confirmation(order, booking))
        delivery: dict[str, Any] = {
            "primaryOrderNumber": order.primary_order_number,
            "bookingId": booking.booking_id,
            "bookingLifeCycleStatus": booking.status,
            "url": target.url,
        }
        try:
            if self.client is not None:
                response = await self.client.post(target.url, content=body, headers=headers)
            else:
                async with httpx.AsyncClient(timeout=PUSH_TIMEOUT_SECONDS) as client:
                    response = await client.post(target.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            delivery.update(httpStatus=None, error=f"{type(exc).__name__}: {exc}")
        else:
            delivery.update(httpStatus=response.status_code, error=None)
        self.deliveries.append(delivery)
        return delivery
