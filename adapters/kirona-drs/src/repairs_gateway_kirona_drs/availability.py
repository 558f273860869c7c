"""A short cache of DRS availability, per job and day, shared by concurrent requests.

A resident who opens the appointments page, looks, and opens it again (or pages back)
would otherwise cost a ``checkAvailability`` round trip each time, at about 1.7 s a call
on a real installation. Windows are kept for ``ttl`` seconds per (job, day); any booking,
move or cancel made through the adaptor drops the days it touched, for every job, so the
adaptor never shows a window it has itself just filled. Windows filled by others (DRS's
own screens, another gateway process) may be shown for up to ``ttl`` seconds: booking
always asks DRS, which refuses a taken window (``SlotUnavailable``).

Concurrent requests for the same days of the same job share one fetch ("single flight"),
so a burst of identical pages costs one call per window, not one per page.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Collection, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date

from repairs_gateway.ports import AdapterError, Slot

Monotonic = Callable[[], float]
DaySlots = dict[date, list[Slot]]
Fetched = tuple[DaySlots, set[date]]
"""What one fetch answers: the windows by day, and the days DRS listed (cacheable)."""


@dataclass(frozen=True, slots=True)
class _Entry:
    stored_at: float
    slots: tuple[Slot, ...]


class AvailabilityCache:
    """Windows per (job key, day) for ``ttl`` seconds; ``ttl`` 0 turns the cache and the
    sharing of fetches off (every request asks DRS)."""

    def __init__(self, ttl: float, clock: Monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._entries: dict[tuple[Hashable, date], _Entry] = {}
        self._flights: dict[tuple[Hashable, tuple[date, ...]], asyncio.Task[DaySlots]] = {}
        # Every drop is numbered; a fetch that began before a drop of one of its days
        # must not store what it read, as it may have read the diary before the change.
        self._version = 0
        self._day_dropped: dict[date, int] = {}
        self._all_dropped = 0
        self._running = 0
        self._swept_at = clock()

    @property
    def enabled(self) -> bool:
        """Whether windows are kept at all."""
        return self._ttl > 0

    def fresh(self, key: Hashable, days: Iterable[date]) -> DaySlots:
        """The windows of those ``days`` kept for ``key`` and not yet expired."""
        now = self._clock()
        found: DaySlots = {}
        for day in days:
            entry = self._entries.get((key, day))
            if entry is not None and now - entry.stored_at < self._ttl:
                found[day] = list(entry.slots)
        return found

    async def shared(
        self, key: Hashable, days: Collection[date], fetch: Callable[[], Awaitable[Fetched]]
    ) -> DaySlots:
        """The windows of ``days`` from ``fetch``, run once for every concurrent caller
        asking the same ``key`` and days; what it lists is kept unless a day was dropped
        while it ran."""
        flight = (key, tuple(sorted(days)))
        task = self._flights.get(flight)
        if task is None:
            task = asyncio.create_task(self._fly(flight, fetch))
            # A fetch whose callers were all cancelled (a gateway time limit) still ends
            # within the adaptor's own; its failure is then nobody's to report.
            task.add_done_callback(_observe)
            self._flights[flight] = task
        try:
            # Shielded: one caller cancelled must not cancel the fetch the others wait on.
            return await asyncio.shield(task)
        except AdapterError as failure:
            # Each caller gets its own copy: the gateway may add to an error's detail.
            raise type(failure)(str(failure), detail=failure.detail) from failure

    async def _fly(
        self, flight: tuple[Hashable, tuple[date, ...]], fetch: Callable[[], Awaitable[Fetched]]
    ) -> DaySlots:
        began = self._version
        self._running += 1
        try:
            by_day, listed = await fetch()
            self._store(flight[0], began, {d: by_day.get(d, []) for d in listed})
            return by_day
        finally:
            self._running -= 1
            if self._flights.get(flight) is asyncio.current_task():
                del self._flights[flight]
            if not self._running:
                # Drops matter only to fetches begun before them: with none running,
                # their record can go (it would otherwise grow by a day a day).
                self._day_dropped.clear()

    def _store(self, key: Hashable, began: int, by_day: Mapping[date, list[Slot]]) -> None:
        now = self._clock()
        self._sweep(now)
        for day, slots in by_day.items():
            if self._all_dropped > began or self._day_dropped.get(day, 0) > began:
                continue
            self._entries[(key, day)] = _Entry(now, tuple(slots))

    def _sweep(self, now: float) -> None:
        # Expired entries are removed at most once a TTL, so memory holds only what was
        # fetched within about two TTLs, however many addresses ask.
        if now - self._swept_at < self._ttl:
            return
        self._swept_at = now
        for cache_key in [k for k, e in self._entries.items() if now - e.stored_at >= self._ttl]:
            del self._entries[cache_key]

    def drop(self, days: Iterable[date] | None) -> None:
        """Forget the windows of ``days`` for every job (every day when None), and let
        the next request start its own fetch rather than join one begun before."""
        self._version += 1
        if days is None:
            self._all_dropped = self._version
            self._day_dropped.clear()
            self._entries.clear()
            self._flights.clear()
            return
        touched = set(days)
        for day in touched:
            self._day_dropped[day] = self._version
        for cache_key in [k for k in self._entries if k[1] in touched]:
            del self._entries[cache_key]
        for flight in [f for f in self._flights if touched.intersection(f[1])]:
            del self._flights[flight]

    async def aclose(self) -> None:
        """Stop fetches nobody waits for any more (on shutdown)."""
        tasks = list(self._flights.values())
        self._flights.clear()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(BaseException):
                await task


def _observe(task: asyncio.Task[DaySlots]) -> None:
    if not task.cancelled():
        task.exception()
