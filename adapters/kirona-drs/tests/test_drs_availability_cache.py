"""The short availability cache: a second page view costs no DRS call, and nothing booked,
moved or cancelled through the adaptor is shown stale."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import datetime, timedelta

import httpx
import pytest
from repairs_gateway.ports import (
    AdapterContext,
    BackendUnavailable,
    Slot,
    SlotQuery,
    SlotUnavailable,
)

from drs_helpers import LONDON, MONDAY, FakeClock, request_for
from repairs_gateway_kirona_drs import DrsScheduler, DrsSettings
from repairs_gateway_kirona_drs.simulator import DrsSimulator

TTL = 5.0


class Ticks:
    """A monotonic clock the tests move by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
async def scheduler(
    settings: DrsSettings, http: httpx.AsyncClient, clock: FakeClock, ticks: Ticks
) -> AsyncIterator[DrsScheduler]:
    """The adaptor with the cache on (five seconds) and its time limit on ``ticks``."""
    cached = settings.model_copy(update={"availability_cache_seconds": TTL})
    adaptor = DrsScheduler(
        cached, AdapterContext("northfield"), http_client=http, clock=clock, cache_clock=ticks
    )
    yield adaptor
    await adaptor.aclose()


def _calls(sim: DrsSimulator) -> int:
    return sim.state.calls["checkAvailability"]


def _on(slots: Sequence[Slot], window: Slot) -> bool:
    return any(s.start == window.start and s.end == window.end for s in slots)


def _tuesday_morning(slots: Sequence[Slot]) -> Slot:
    return next(s for s in slots if s.start == datetime(2025, 6, 3, 8, 0, tzinfo=LONDON))


async def _fill(scheduler: DrsScheduler, query: SlotQuery, slot: Slot, prefix: str) -> None:
    """Book the window until the simulator has no place left (two plumbers a window)."""
    for n in range(2):
        await scheduler.book(request_for(query, slot, reference=f"{prefix}-{n}"))


async def test_the_same_page_again_costs_no_drs_call(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    first = await scheduler.slots(week)
    asked = _calls(sim)

    again = await scheduler.slots(week)

    assert _calls(sim) == asked
    assert list(again) == list(first)
    assert len(again) == 20


async def test_the_cache_expires_after_its_time_limit(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery, ticks: Ticks
) -> None:
    await scheduler.slots(week)
    asked = _calls(sim)

    ticks.now += TTL - 0.1
    await scheduler.slots(week)
    assert _calls(sim) == asked

    ticks.now += 0.1
    await scheduler.slots(week)
    assert _calls(sim) == asked + 1


async def test_zero_seconds_asks_drs_for_every_page(
    settings: DrsSettings,
    http: httpx.AsyncClient,
    sim: DrsSimulator,
    clock: FakeClock,
    ticks: Ticks,
    week: SlotQuery,
) -> None:
    off = settings.model_copy(update={"availability_cache_seconds": 0})
    adaptor = DrsScheduler(
        off, AdapterContext("northfield"), http_client=http, clock=clock, cache_clock=ticks
    )
    try:
        await adaptor.slots(week)
        await adaptor.slots(week)
        await asyncio.gather(adaptor.slots(week), adaptor.slots(week))
    finally:
        await adaptor.aclose()
    assert _calls(sim) == 4


async def test_a_booking_drops_its_day_only(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    window = _tuesday_morning(list(await scheduler.slots(week)))
    await _fill(scheduler, week, window, "NF-FILL")
    asked = _calls(sim)

    page = await scheduler.slots(week)

    # The full window is gone at once, not after the time limit; only Tuesday was asked.
    assert not _on(page, window)
    assert len(page) == 19
    assert _calls(sim) == asked + 1


async def test_a_cancel_drops_the_day_it_frees(scheduler: DrsScheduler, week: SlotQuery) -> None:
    window = _tuesday_morning(list(await scheduler.slots(week)))
    first = await scheduler.book(request_for(week, window, reference="NF-CAN-0"))
    await scheduler.book(request_for(week, window, reference="NF-CAN-1"))
    assert not _on(await scheduler.slots(week), window)

    await scheduler.cancel(first)

    assert _on(await scheduler.slots(week), window)


async def test_a_move_drops_the_old_day_and_the_new(
    scheduler: DrsScheduler, week: SlotQuery
) -> None:
    slots = list(await scheduler.slots(week))
    old = _tuesday_morning(slots)
    new = next(s for s in slots if s.start == datetime(2025, 6, 4, 12, 0, tzinfo=LONDON))
    moving = await scheduler.book(request_for(week, old, reference="NF-MOV-0"))
    await scheduler.book(request_for(week, old, reference="NF-MOV-1"))
    await scheduler.book(request_for(week, new, reference="NF-MOV-2"))
    page = await scheduler.slots(week)
    assert not _on(page, old)
    assert _on(page, new)  # one place of two left

    await scheduler.reschedule(moving, week.job, new)

    page = await scheduler.slots(week)
    assert _on(page, old)
    assert not _on(page, new)


async def test_a_window_taken_elsewhere_is_refused_at_booking_then_no_longer_shown(
    scheduler: DrsScheduler,
    settings: DrsSettings,
    http: httpx.AsyncClient,
    clock: FakeClock,
    week: SlotQuery,
) -> None:
    window = _tuesday_morning(list(await scheduler.slots(week)))
    # Another gateway process (or DRS's own screens) fills the window meanwhile.
    other = DrsScheduler(settings, AdapterContext("northfield"), http_client=http, clock=clock)
    try:
        await _fill(other, week, window, "NF-ELSE")
    finally:
        await other.aclose()
    # Within the time limit the cache still shows it: that is the price of the cache...
    assert _on(await scheduler.slots(week), window)

    # ...and booking asks DRS, which refuses it (the gateway answers 409)...
    with pytest.raises(SlotUnavailable):
        await scheduler.book(request_for(week, window, reference="NF-LATE"))

    # ...after which the day is asked again and the window is gone.
    assert not _on(await scheduler.slots(week), window)


async def test_a_failed_fetch_is_not_kept(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    await scheduler.prepare()
    sim.state.fail_next("checkAvailability", transport="http503")
    with pytest.raises(BackendUnavailable):
        await scheduler.slots(week)

    assert len(await scheduler.slots(week)) == 20
    assert _calls(sim) == 2


async def test_concurrent_identical_pages_share_one_fetch(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    pages = await asyncio.gather(*(scheduler.slots(week) for _ in range(50)))

    assert all(list(page) == list(pages[0]) and len(page) == 20 for page in pages)
    assert _calls(sim) == 1  # one 7-day window, asked once for fifty pages


async def test_a_failure_of_the_shared_fetch_reaches_every_page(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    await scheduler.prepare()
    sim.state.fail_next("checkAvailability", transport="http503")

    results = await asyncio.gather(
        *(scheduler.slots(week) for _ in range(5)), return_exceptions=True
    )

    assert all(isinstance(r, BackendUnavailable) for r in results)
    assert _calls(sim) == 1


async def test_a_page_given_up_does_not_stop_the_fetch_others_wait_for(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    await scheduler.prepare()
    sim.holds.arm("checkAvailability", "before")
    impatient = asyncio.create_task(scheduler.slots(week))
    patient = asyncio.create_task(scheduler.slots(week))
    await _until_held(sim, 1)

    impatient.cancel()  # the gateway's time limit, say
    await sim.holds.release(drop=False)

    assert len(await patient) == 20
    assert impatient.cancelled()
    assert _calls(sim) == 1


async def test_a_fetch_overtaken_by_a_booking_is_not_kept(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery, ticks: Ticks
) -> None:
    window = _tuesday_morning(list(await scheduler.slots(week)))
    ticks.now += TTL
    # A page reads the diary; its answer is still on the way while the window fills.
    sim.holds.arm("checkAvailability", "after")
    page = asyncio.create_task(scheduler.slots(week))
    await _until_held(sim, 1)
    await _fill(scheduler, week, window, "NF-RACE")
    await sim.holds.release(drop=False)
    assert _on(await page, window)  # read before the bookings

    # What that page read of Tuesday is not kept: the next page asks again.
    assert not _on(await scheduler.slots(week), window)


async def test_a_kept_window_that_has_begun_is_not_shown(
    scheduler: DrsScheduler, week: SlotQuery, clock: FakeClock
) -> None:
    monday_eight = datetime.combine(MONDAY, datetime.min.time(), LONDON) + timedelta(hours=8)
    assert any(s.start == monday_eight for s in await scheduler.slots(week))

    clock.now = monday_eight + timedelta(seconds=1)

    assert not any(s.start <= clock.now for s in await scheduler.slots(week))


async def _until_held(sim: DrsSimulator, count: int) -> None:
    """Wait (a bounded number of loop turns) until ``count`` calls are held."""
    for _ in range(10_000):
        if len(sim.holds.held) >= count:
            return
        await asyncio.sleep(0)
    raise AssertionError(f"{len(sim.holds.held)} call(s) held, expected {count}")
