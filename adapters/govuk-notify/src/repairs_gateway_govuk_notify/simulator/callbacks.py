"""Posting callbacks (delivery receipts and received texts) to the service's URLs: fire
and forget with a short time limit; every attempt is recorded, failures are logged."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx

log = logging.getLogger("repairs_gateway_govuk_notify.simulator")

CallbackKind = Literal["delivery-status", "inbound"]


@dataclass(frozen=True, slots=True)
class CallbackAttempt:
    """One POST to a callback URL and how it went."""

    kind: CallbackKind
    url: str
    body: dict[str, Any]
    at: datetime
    status_code: int | None
    error: str | None

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "url": self.url,
            "body": self.body,
            "at": self.at.isoformat(),
            "statusCode": self.status_code,
            "error": self.error,
        }


class CallbackPoster:
    """Posts callbacks from the event loop that serves the simulator."""

    def __init__(self, timeout_seconds: float, keep: int = 1000) -> None:
        self.timeout_seconds = timeout_seconds
        self.attempts: deque[CallbackAttempt] = deque(maxlen=keep)
        self._tasks: set[asyncio.Task[None]] = set()
        self._client: httpx.AsyncClient | None = None
        self._client_loop: asyncio.AbstractEventLoop | None = None

    def post(self, kind: CallbackKind, url: str, token: str | None, body: dict[str, Any]) -> None:
        """Post ``body`` in the background (call from the serving event loop)."""
        task = asyncio.get_running_loop().create_task(self._post(kind, url, token, body))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self) -> None:
        """Wait for the callbacks in flight (for tests and shutdown)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def aclose(self) -> None:
        await self.drain()
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client_loop is not loop:
            self._client = httpx.AsyncClient(timeout=self.timeout_seconds)
            self._client_loop = loop
        return self._client

    async def _post(
        self, kind: CallbackKind, url: str, token: str | None, body: dict[str, Any]
    ) -> None:
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status: int | None = None
        error: str | None = None
        try:
            async with asyncio.timeout(self.timeout_seconds):
                answer = await self._http().post(url, json=body, headers=headers)
            status = answer.status_code
            if status >= 300:
                error = f"HTTP {status}"
        except (httpx.HTTPError, TimeoutError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if error is not None:
            log.warning("%s callback to %s failed: %s", kind, url, error)
        self.attempts.append(CallbackAttempt(kind, url, body, datetime.now(UTC), status, error))
