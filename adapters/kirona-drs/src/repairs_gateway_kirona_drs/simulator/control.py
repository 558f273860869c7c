"""Test-only controls of the simulator, as JSON under ``/_simulator/`` (not part of DRS).

They let a test in another process see what DRS holds, hold a SOAP call at a chosen
point (before it is carried out, or after it is carried out and before it is answered),
and move a booking along its life cycle:

- ``GET  /_simulator/orders``: every order with its bookings;
- ``POST /_simulator/hold`` ``{"operation", "phase": "before"|"after", "count": 1}``;
- ``GET  /_simulator/held``: the calls held now, and the holds armed but not yet taken;
- ``POST /_simulator/release`` ``{"drop": false}``: let every held call go on (or drop it);
- ``POST /_simulator/fail`` ``{"operation", "count": 1}``: answer the next ``count`` calls of
  ``operation`` 503 without carrying them out, as DRS down would (a gateway that retries a
  call meets the outage each time, which a single dropped hold cannot show); ``count`` 0
  forgets the failures not yet met;
- ``POST /_simulator/orders/{primaryOrderNumber}/status``
  ``{"status"?, "start"?, "end"?, "bookingId"?}``: what an operative or a contractor did
  (pushed as a ``bookingConfirmation`` to the callback, when one is set);
- ``POST /_simulator/callback`` ``{"url", "token"?}``: where DRS's background service
  pushes booking changes (``{"url": null}`` stops it); ``GET`` shows it and what was pushed.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, get_args

from lxml import etree  # type: ignore[import-untyped, unused-ignore]  # no stubs
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ..protocol import LIFECYCLE_STATUSES, OPERATIONS
from .pushes import CallbackTarget, Pushes
from .state import LONDON, DrsError, DrsState, SimBooking, SimOrder

PREFIX = "/_simulator"
HOLD_LIMIT_SECONDS = 300.0
MAX_FAILURES = 100  # a bound, so a mistyped count cannot queue failures without end
"""A call held longer than this is dropped, so a test that never releases it cannot keep
the server from shutting down."""

Phase = Literal["before", "after"]
PHASES: tuple[Phase, ...] = get_args(Phase)


@dataclass(slots=True)
class HeldCall:
    """A SOAP call waiting for ``release``."""

    id: int
    operation: str
    phase: Phase
    primary_order_number: str | None
    since: float = field(default_factory=time.monotonic)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    left: asyncio.Event = field(default_factory=asyncio.Event)
    """Set once the call has left the hold (carried out, if it went on)."""
    drop: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "operation": self.operation,
            "phase": self.phase,
            "primaryOrderNumber": self.primary_order_number,
            "heldSeconds": round(time.monotonic() - self.since, 3),
        }


class Holds:
    """Armed holds (operation and phase -> how many calls still to hold) and the calls
    held now. Everything runs on the server's one event loop."""

    def __init__(self) -> None:
        self._armed: Counter[tuple[str, Phase]] = Counter()
        self._held: dict[int, HeldCall] = {}
        self._next_id = 1

    def arm(self, operation: str, phase: Phase, count: int = 1) -> None:
        """Hold the next ``count`` calls of ``operation`` at ``phase``."""
        self._armed[(operation, phase)] += count

    @property
    def held(self) -> list[HeldCall]:
        """The calls held now, oldest first."""
        return list(self._held.values())

    @property
    def armed(self) -> dict[tuple[str, Phase], int]:
        """Holds not yet taken by a call."""
        return {key: n for key, n in self._armed.items() if n > 0}

    async def pass_through(self, operation: str, phase: Phase, number: str | None) -> bool:
        """Hold this call if a hold is armed for it, until released; False if the call is
        to be dropped (released with ``drop``, or held longer than the limit)."""
        if self._armed[(operation, phase)] <= 0:
            return True
        self._armed[(operation, phase)] -= 1
        call = HeldCall(self._next_id, operation, phase, number)
        self._next_id += 1
        self._held[call.id] = call
        try:
            await asyncio.wait_for(call.released.wait(), HOLD_LIMIT_SECONDS)
        except TimeoutError:
            call.drop = True
        finally:
            self._held.pop(call.id, None)
            call.left.set()
        return not call.drop

    async def release(self, *, drop: bool) -> dict[str, int]:
        """Let every held call go on (or drop it), and disarm the holds not yet taken.
        Returns once the released calls have left the hold: a call let go on has then
        been carried out (the state changes in the same step as it leaves)."""
        released = self.held
        for call in released:
            call.drop = drop
            call.released.set()
        disarmed = sum(self.armed.values())
        self._armed.clear()
        if released:
            # The caller carries on in the same step as it sets ``left``: by the time
            # this wakes, a call that went on has been carried out.
            waits = asyncio.gather(*(call.left.wait() for call in released))
            await asyncio.wait_for(waits, 5.0)
        return {"released": len(released), "disarmed": disarmed}


def order_number_of(command: etree._Element) -> str | None:
    """The primaryOrderNumber a SOAP command names, if any (the first, for selectOrder)."""
    for path in (
        "theOrder/primaryOrderNumber",
        "theBooking/primaryOrderNumber",
        "primaryOrderNumber",
    ):
        value = command.findtext(path)
        if value and value.strip():
            return str(value.strip())
    return None


def order_json(order: SimOrder) -> dict[str, Any]:
    """An order as the controls show it. ``scheduled`` says whether a booking holds a
    window in the diary: a created but unscheduled order's booking also reads PLANNED,
    over a window running from its creation (or earliestBookingDate) to its targetDate."""
    bookings = [booking_json(b) for b in order.bookings]
    return {
        "primaryOrderNumber": order.primary_order_number,
        "orderId": order.order_id,
        "contract": order.contract,
        "locationID": order.location_id,
        "scheduled": any(b["scheduled"] for b in bookings),
        "bookings": bookings,
    }


def booking_json(booking: SimBooking) -> dict[str, Any]:
    """A booking as the controls show it; times in London time with their offset."""
    return {
        "bookingId": booking.booking_id,
        "bookingLifeCycleStatus": booking.status,
        "scheduled": booking.window is not None,
        "planningWindowStart": booking.planning_start.astimezone(LONDON).isoformat(),
        "planningWindowEnd": booking.planning_end.astimezone(LONDON).isoformat(),
        "timeLock": booking.time_lock,
    }


class _ControlError(Exception):
    def __init__(self, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def control_routes(state: DrsState, holds: Holds, pushes: Pushes | None = None) -> list[Route]:
    """The control endpoints over ``state``, ``holds`` and ``pushes``."""
    pushes = pushes or Pushes(state)

    async def orders(request: Request) -> Response:
        listed = sorted(state.orders.values(), key=lambda o: o.order_id)
        return JSONResponse({"orders": [order_json(o) for o in listed]})

    async def hold(request: Request) -> Response:
        body = await _body(request)
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise _ControlError(f"operation must be one of {', '.join(OPERATIONS)}")
        phase = body.get("phase")
        if phase not in PHASES:
            raise _ControlError("phase must be 'before' or 'after'")
        count = body.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise _ControlError("count must be a whole number of at least 1")
        holds.arm(operation, phase, count)
        return JSONResponse(_holds_json(holds))

    async def held(request: Request) -> Response:
        return JSONResponse(_holds_json(holds))

    async def release(request: Request) -> Response:
        body = await _body(request, empty_ok=True)
        drop = body.get("drop", False)
        if not isinstance(drop, bool):
            raise _ControlError("drop must be true or false")
        # Answered once the released calls have run, so a test reading the orders next
        # sees what they did.
        return JSONResponse(await holds.release(drop=drop))

    async def fail(request: Request) -> Response:
        body = await _body(request)
        operation = body.get("operation")
        if operation not in OPERATIONS:
            raise _ControlError(f"operation must be one of {', '.join(OPERATIONS)}")
        count = body.get("count", 1)
        if not isinstance(count, int) or isinstance(count, bool) or not 0 <= count <= MAX_FAILURES:
            raise _ControlError(f"count must be a whole number from 0 to {MAX_FAILURES}")
        if count == 0:
            forgotten = state.clear_failures(operation)
            return JSONResponse({"operation": operation, "forgotten": forgotten})
        for _ in range(count):
            state.fail_next(operation, transport="http503")
        return JSONResponse({"operation": operation, "failing": count})

    async def set_status(request: Request) -> Response:
        number = request.path_params["number"]
        body = await _body(request)
        found = state.find_orders(numbers=[number])
        if not found:
            raise _ControlError(f"no order with primaryOrderNumber {number}", 404)
        order = found[0]
        booking = _booking_of(order, body.get("bookingId"))
        status = body.get("status")
        if status is not None and status not in LIFECYCLE_STATUSES:
            raise _ControlError(f"status must be one of {', '.join(LIFECYCLE_STATUSES)}")
        start, end = _instant(body, "start"), _instant(body, "end")
        if (start is None) != (end is None):
            raise _ControlError("give both start and end, or neither")
        if status is None and start is None:
            raise _ControlError("give a status, a window (start and end), or both")
        if start is not None and end is not None:
            try:
                state.move(booking.booking_id, start, end)
            except DrsError as exc:
                raise _ControlError(exc.message) from None
        if status is not None:
            state.set_status(booking.booking_id, status)
        # DRS's background service tells the client of the change; the control answers once
        # the push has been answered, so a test reading the client next sees what it did.
        delivery = await pushes.push(order, booking)
        return JSONResponse({**order_json(order), "callback": delivery})

    async def set_callback(request: Request) -> Response:
        body = await _body(request)
        url, token = body.get("url"), body.get("token")
        if url is None:
            pushes.target = None
            return JSONResponse(_callback_json(pushes))
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise _ControlError("url must be an http:// or https:// URL, or null")
        if token is not None and (not isinstance(token, str) or not token):
            raise _ControlError("token must be a non-empty string when given")
        pushes.target = CallbackTarget(url, token)
        return JSONResponse(_callback_json(pushes))

    async def callback(request: Request) -> Response:
        return JSONResponse(_callback_json(pushes))

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                response: Response = await handler(request)
            except _ControlError as exc:
                return JSONResponse({"error": exc.message}, status_code=exc.status_code)
            return response

        return endpoint

    return [
        Route(f"{PREFIX}/orders", guarded(orders), methods=["GET"]),
        Route(f"{PREFIX}/orders/{{number}}/status", guarded(set_status), methods=["POST"]),
        Route(f"{PREFIX}/hold", guarded(hold), methods=["POST"]),
        Route(f"{PREFIX}/held", guarded(held), methods=["GET"]),
        Route(f"{PREFIX}/release", guarded(release), methods=["POST"]),
        Route(f"{PREFIX}/fail", guarded(fail), methods=["POST"]),
        Route(f"{PREFIX}/callback", guarded(set_callback), methods=["POST"]),
        Route(f"{PREFIX}/callback", guarded(callback), methods=["GET"]),
    ]


def _callback_json(pushes: Pushes) -> dict[str, Any]:
    target = pushes.target
    return {
        "url": target.url if target else None,
        "token": bool(target and target.token),
        "deliveries": pushes.deliveries,
    }


def _holds_json(holds: Holds) -> dict[str, Any]:
    return {
        "held": [call.as_json() for call in holds.held],
        "armed": [
            {"operation": op, "phase": phase, "count": n}
            for (op, phase), n in sorted(holds.armed.items())
        ],
    }


async def _body(request: Request, *, empty_ok: bool = False) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip() and empty_ok:
        return {}
    try:
        body = json.loads(raw)
    except ValueError:
        raise _ControlError("the body must be a JSON object", 400) from None
    if not isinstance(body, dict):
        raise _ControlError("the body must be a JSON object", 400)
    return body


def _booking_of(order: SimOrder, wanted: Any) -> SimBooking:
    if wanted is None:
        if not order.bookings:
            raise _ControlError(f"order {order.primary_order_number} has no booking", 404)
        return order.bookings[-1]
    for booking in order.bookings:
        if booking.booking_id == wanted:
            return booking
    raise _ControlError(f"order {order.primary_order_number} has no booking {wanted!r}", 404)


def _instant(body: dict[str, Any], name: str) -> datetime | None:
    raw = body.get(name)
    if raw is None:
        return None
    try:
        value = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise _ControlError(f"{name} must be an ISO 8601 date and time with an offset")
    return value
