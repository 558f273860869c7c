"""One DRS session a day, shared by every request of the installation."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import datetime, timedelta

import httpx
import pytest
from repairs_gateway.ports import AdapterContext, BackendRejected, BackendUnavailable, SlotQuery

from drs_helpers import LONDON, FakeClock
from repairs_gateway_kirona_drs import DrsScheduler, DrsSettings
from repairs_gateway_kirona_drs.simulator import DrsSimulator, SimulatorConfig


@pytest.fixture
def config() -> SimulatorConfig:
    """A little latency, so that concurrent requests really are in flight together."""
    return SimulatorConfig(latency_ms=20)


@pytest.fixture
def settings(settings: DrsSettings) -> DrsSettings:
    """Without the availability cache: each page here stands for a DRS call made within
    the session (test_drs_availability_cache.py tests the cache)."""
    return settings.model_copy(update={"availability_cache_seconds": 0})


async def test_a_hundred_concurrent_requests_open_one_session(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    pages = await asyncio.gather(*(scheduler.slots(week) for _ in range(100)))
    assert all(len(page) == 20 for page in pages)
    assert sim.state.sessions_opened == 1
    assert scheduler.sessions_opened == 1


async def test_an_expired_session_is_reopened_once_and_the_call_retried(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    await scheduler.slots(week)
    sim.state.sessions.clear()  # DRS restarted: it no longer knows our session

    slots = await asyncio.gather(*(scheduler.slots(week) for _ in range(20)))

    assert all(slots)
    assert sim.state.sessions_opened == 2  # twenty requests, one reopen


async def test_a_session_refused_again_after_reopening_is_not_retried_forever(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    await scheduler.slots(week)
    expired = "Invalid session: the session does not exist or has expired"
    sim.state.fail_next("checkAvailability", message=expired)
    sim.state.fail_next("checkAvailability", message=expired)

    with pytest.raises(BackendRejected) as caught:
        await scheduler.slots(week)

    assert sim.state.sessions_opened == 2
    assert "expired" in (caught.value.detail or "")
    assert "expired" not in str(caught.value)


async def test_a_new_day_opens_a_new_session_without_a_failed_call(
    scheduler: DrsScheduler, sim: DrsSimulator, clock: FakeClock, week: SlotQuery
) -> None:
    await scheduler.slots(week)
    clock.now = datetime(2025, 6, 3, 0, 5, tzinfo=LONDON)
    later = dataclasses.replace(week, first_day=week.first_day + timedelta(days=1))

    await scheduler.slots(later)

    assert sim.state.sessions_opened == 2
    assert sim.state.calls["checkAvailability"] == 2  # nothing was sent with the old one


async def test_close_ends_the_session_in_drs(
    settings: DrsSettings,
    http: httpx.AsyncClient,
    sim: DrsSimulator,
    clock: FakeClock,
    week: SlotQuery,
) -> None:
    adaptor = DrsScheduler(settings, AdapterContext("nf"), http_client=http, clock=clock)
    await adaptor.slots(week)
    assert len(sim.state.sessions) == 1
    await adaptor.aclose()
    assert sim.state.sessions == {}
    assert sim.state.calls["closeSession"] == 1


async def test_wrong_credentials_are_rejected_without_drs_text(
    settings: DrsSettings, http: httpx.AsyncClient, clock: FakeClock, week: SlotQuery
) -> None:
    wrong = DrsSettings.model_validate({**settings.model_dump(), "password": "guess"})
    adaptor = DrsScheduler(wrong, AdapterContext("nf"), http_client=http, clock=clock)
    with pytest.raises(BackendRejected) as caught:
        await adaptor.slots(week)
    await adaptor.aclose()
    assert "Login failed" in (caught.value.detail or "")
    assert "Login failed" not in str(caught.value)


async def test_a_failed_login_is_shared_by_the_requests_waiting_for_it(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    sim.state.fail_next("openSession", transport="http503")

    outcomes = await asyncio.gather(
        *(scheduler.slots(week) for _ in range(20)), return_exceptions=True
    )

    assert all(isinstance(o, BackendUnavailable) for o in outcomes)
    assert sim.state.calls["openSession"] == 1  # not twenty logins one after another
    assert await scheduler.slots(week)  # the next request tries again
    assert sim.state.sessions_opened == 1


async def test_a_login_cut_short_leaves_no_old_failure_for_the_next_request(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    sim.state.fail_next("openSession", status="error", message="Login failed: locked")
    with pytest.raises(BackendRejected):
        await scheduler.slots(week)
    # Later, one request's login is cut short (the gateway's timeout) while another
    # request waits for it: the waiter must ask DRS, not inherit the old failure.
    sim.state.fail_next("openSession", transport="hang")
    first = asyncio.create_task(asyncio.wait_for(scheduler.slots(week), 0.3))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(scheduler.slots(week))
    with pytest.raises(TimeoutError):
        await first

    assert await second
    assert sim.state.calls["openSession"] == 3
    assert sim.state.sessions_opened == 1
