"""A short-lived cache of per-property answers that also joins concurrent asks for the
same property, so a postcode lookup and a booking racing it cost UH one call."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

MonotonicClock = Callable[[], float]
MAX_ENTRIES = 10_000  # a council's whole stock fits; a runaway caller cannot grow it forever


class TtlCache(Generic[T]):
    """Values by key for ``ttl`` seconds. Failures are never kept."""

    def __init__(self, ttl: float, clock: MonotonicClock = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._values: dict[str, tuple[float, T]] = {}
        self._pending: dict[str, asyncio.Future[T]] = {}

    def put(self, key: str, value: T) -> None:
        """Keep ``value`` for ``key`` (a fresh answer fetched without the cache)."""
        if self._ttl > 0:
            if len(self._values) >= MAX_ENTRIES:
                self._values.clear()
            self._values[key] = (self._clock() + self._ttl, value)

    async def get(self, key: str, fetch: Callable[[], Awaitable[T]]) -> T:
        """The cached value of ``key``, or ``fetch()``'s, shared with concurrent askers."""
        now = self._clock()
        held = self._values.get(key)
        if held is not None and held[0] > now:
            return held[1]
        pending = self._pending.get(key)
        if pending is not None:
            # Shielded: one asker cancelled (its request timed out) must not cancel the
            # fetch the others wait on.
            return await asyncio.shield(pending)
        task = asyncio.ensure_future(fetch())
        # Read the outcome even when every asker has gone, so it is never left unseen.
        task.add_done_callback(lambda t: t.cancelled() or t.exception())
        self._pending[key] = task
        try:
            value = await asyncio.shield(task)
        finally:
            if task.done():
                self._pending.pop(key, None)
            else:
                task.add_done_callback(lambda _: self._pending.pop(key, None))
        self.put(key, value)
        return value
