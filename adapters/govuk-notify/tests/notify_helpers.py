"""Helpers of the GOV.UK Notify tests: a callback receiver and waiting for a status."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

MOBILE = "07700 900123"
"""On the simulator's team (the default team list)."""
STRANGER = "07700 900987"
"""A valid mobile number nobody on the service's team or guest list has."""


@dataclass
class Received:
    """One callback as the receiver got it."""

    path: str
    authorization: str | None
    body: Any


@dataclass
class CallbackReceiver:
    """A service's callback endpoint: records every POST, answers 200 (or ``status``)."""

    status: int = 200
    received: list[Received] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def app(self) -> Starlette:
        async def record(request: Request) -> Response:
            body = await request.json()
            with self._lock:
                self.received.append(
                    Received(request.url.path, request.headers.get("authorization"), body)
                )
            return Response(status_code=self.status)

        return Starlette(routes=[Route("/{path:path}", record, methods=["POST"])])

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Received]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.received) >= count:
                    return list(self.received)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} callbacks, got {len(self.received)}")


def wait_for_status(
    client: Any, notification_id: str, wanted: str, timeout: float = 5.0
) -> dict[str, Any]:
    """Poll ``GET /v2/notifications/{id}`` through the official client until ``wanted``."""
    deadline = time.monotonic() + timeout
    seen: dict[str, Any] = {}
    while time.monotonic() < deadline:
        seen = client.get_notification_by_id(notification_id)
        if seen["status"] == wanted:
            return seen
        time.sleep(0.02)
    raise AssertionError(f"status stayed {seen.get('status')!r}, wanted {wanted!r}")
