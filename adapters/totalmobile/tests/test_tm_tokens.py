"""OAuth 2 client credentials as the adaptor uses them: one token for everyone, kept until
shortly before it expires, and replaced once when Totalmobile refuses it."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from repairs_gateway.ports import AdapterContext, BackendRejected, BookingStatus, SlotQuery

from repairs_gateway_totalmobile import TotalmobileScheduler
from repairs_gateway_totalmobile.simulator import SimulatorConfig, TotalmobileSimulator
from tm_helpers import FakeClock, request, settings


async def test_fifty_concurrent_requests_fetch_one_token(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    pages = await asyncio.gather(*(scheduler.slots(week) for _ in range(50)))
    assert sim.world.token_requests == 1
    assert all(page == pages[0] and page for page in pages)
    # The quote job the fifty asked offers for was made once, too.
    assert sim.world.calls["create_job"] == 1


async def test_the_token_is_kept_until_shortly_before_it_expires(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery, clock: FakeClock
) -> None:
    await scheduler.slots(week)
    clock.now += timedelta(minutes=58)  # the token lives an hour; 60 s margin
    await scheduler.slots(week)
    assert sim.world.token_requests == 1
    clock.now += timedelta(seconds=61)
    await scheduler.slots(week)
    assert sim.world.token_requests == 2


@pytest.mark.parametrize("config", [SimulatorConfig(token_lifetime_seconds=30)])
async def test_a_short_lived_token_is_still_reused_for_half_its_life(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery, clock: FakeClock
) -> None:
    await scheduler.slots(week)
    clock.now += timedelta(seconds=14)
    await scheduler.slots(week)
    assert sim.world.token_requests == 1


async def test_a_token_expiring_in_the_middle_of_a_booking_is_replaced_and_the_booking_made(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    # The job is created with the first token; it expires before the offer is accepted.
    sim.world.after("create_job", sim.world.expire_tokens)
    booking = await scheduler.book(request(slot))
    assert sim.world.token_requests == 2
    assert sim.world.calls["accept"] == 2  # refused once (401), then accepted
    state = await scheduler.status(booking)
    assert (state.status, state.start, state.end) == (BookingStatus.BOOKED, slot.start, slot.end)
    assert len([r for r in sim.world.jobs if not r.startswith("QUOTE-")]) == 1


async def test_concurrent_callers_refused_an_expired_token_share_one_new_one(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    await scheduler.slots(week)
    sim.world.expire_tokens()  # early, as after a revocation: the adaptor still trusts it
    await asyncio.gather(*(scheduler.slots(week) for _ in range(20)))
    assert sim.world.token_requests == 2


async def test_a_token_refused_twice_is_a_rejection_not_a_loop(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    sim.world.check_token = lambda token: "revoked"  # type: ignore[method-assign]
    with pytest.raises(BackendRejected, match="credentials"):
        await scheduler.slots(week)
    assert sim.world.token_requests == 2


async def test_a_wrong_secret_is_refused_with_the_oauth_error(
    sim: TotalmobileSimulator, week: SlotQuery, clock: FakeClock
) -> None:
    adaptor = TotalmobileScheduler(
        settings(client_secret="not-the-secret"),
        AdapterContext("northfield"),
        transport=httpx.ASGITransport(app=sim.app),
        clock=clock,
    )
    with pytest.raises(BackendRejected, match="credentials") as refused:
        await adaptor.slots(week)
    assert "invalid_client" in (refused.value.detail or "")
    assert "not-the-secret" not in (refused.value.detail or "")
    await adaptor.aclose()
