"""Appointment offers as the gateway's windows: named time-of-day bands mapped to local
times, days fetched in few round trips, and one quote job per property and job kind."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import httpx
import pytest
from repairs_gateway.ports import AdapterContext, Job, SlotQuery

from repairs_gateway_totalmobile import TotalmobileScheduler
from repairs_gateway_totalmobile.simulator import SimulatorConfig, TotalmobileSimulator
from tm_helpers import ADDRESS, JOB, LONDON, MONDAY, FakeClock, settings

BAND_HOURS = {(8, 12): "AM", (12, 16): "PM", (8, 16): "AD"}


async def test_bands_map_to_local_windows_with_the_offer_as_ref(
    scheduler: TotalmobileScheduler, week: SlotQuery
) -> None:
    slots = await scheduler.slots(week)
    assert len(slots) == 5 * 3  # Monday to Friday, AM, PM and all day
    for slot in slots:
        assert slot.start.tzinfo is not None and slot.start.utcoffset() == timedelta(hours=1)
        assert slot.start.minute == slot.end.minute == 0
        band = BAND_HOURS[(slot.start.hour, slot.end.hour)]
        assert slot.ref == f"OF-{slot.start:%Y%m%d}-{band}-plumbing"
    keys = [(s.start, s.end) for s in slots]
    assert keys == sorted(keys)
    assert {s.start.date() for s in slots} == {MONDAY + timedelta(days=n) for n in range(5)}


async def test_winter_windows_are_in_gmt(
    sim: TotalmobileSimulator, scheduler: TotalmobileScheduler, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 12, 1, 7, 0, tzinfo=LONDON)
    monday = date(2025, 12, 1)
    slots = await scheduler.slots(SlotQuery("northfield", ADDRESS, JOB, monday, monday))
    assert slots[0].start == datetime(2025, 12, 1, 8, 0, tzinfo=LONDON)
    assert slots[0].start.utcoffset() == timedelta(0)


CUSTOM = SimulatorConfig(
    time_bands={"EARLY": "07:30-10:00", "AM": "08:00-12:00", "EVE": "17:00-20:00"}
)


@pytest.mark.parametrize("config", [CUSTOM])
async def test_the_councils_band_table_gives_the_times_and_unnamed_bands_are_left_out(
    sim: TotalmobileSimulator, clock: FakeClock, week: SlotQuery
) -> None:
    # The council's settings name EARLY (lower case is fine) and AM, not EVE.
    tm = settings(CUSTOM, time_bands={"early": "07:30-10:00", "AM": "08:00-12:00"})
    adaptor = TotalmobileScheduler(
        tm, AdapterContext("northfield"), transport=httpx.ASGITransport(app=sim.app), clock=clock
    )
    slots = await adaptor.slots(SlotQuery("northfield", ADDRESS, JOB, MONDAY, MONDAY))
    assert [(s.start.time(), s.end.time()) for s in slots] == [
        (time(7, 30), time(10)),
        (time(8), time(12)),
    ]
    await adaptor.aclose()


async def test_bands_already_begun_are_not_offered(
    scheduler: TotalmobileScheduler, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 6, 2, 9, 0, tzinfo=LONDON)
    slots = await scheduler.slots(SlotQuery("northfield", ADDRESS, JOB, MONDAY, MONDAY))
    assert [(s.start.hour, s.end.hour) for s in slots] == [(12, 16)]


async def test_full_bands_weekends_and_holidays_are_not_offered(
    sim: TotalmobileSimulator, scheduler: TotalmobileScheduler, week: SlotQuery
) -> None:
    sim.world.fill(MONDAY, "AM", "plumbing")
    slots = await scheduler.slots(week)
    assert not any(
        s.start.date() == MONDAY and s.start.hour == 8 and s.end.hour == 12 for s in slots
    )
    assert all(s.start.weekday() < 5 for s in slots)


async def test_a_page_of_days_costs_one_offers_call_once_the_quote_job_exists(
    sim: TotalmobileSimulator, scheduler: TotalmobileScheduler, week: SlotQuery
) -> None:
    await scheduler.slots(week)
    # First ever: asked, no quote job (404), made, asked again.
    assert (sim.world.calls["offers"], sim.world.calls["create_job"]) == (2, 1)
    await scheduler.slots(week)
    assert (sim.world.calls["offers"], sim.world.calls["create_job"]) == (3, 1)


async def test_a_long_range_is_cut_into_calls_the_installation_takes(
    sim: TotalmobileSimulator, scheduler: TotalmobileScheduler, week: SlotQuery
) -> None:
    await scheduler.slots(week)
    before = sim.world.calls["offers"]
    slots = await scheduler.slots(
        SlotQuery("northfield", ADDRESS, JOB, MONDAY, MONDAY + timedelta(27))
    )
    assert sim.world.calls["offers"] - before == 2  # 28 days: two 14-day calls, at once
    assert len({s.start.date() for s in slots}) == 20


async def test_one_quote_job_per_property_and_job_kind_never_booked(
    sim: TotalmobileSimulator, scheduler: TotalmobileScheduler, week: SlotQuery
) -> None:
    await scheduler.slots(week)
    await scheduler.slots(SlotQuery("northfield", ADDRESS, JOB, MONDAY, MONDAY))
    assert len(sim.world.jobs) == 1
    await scheduler.slots(
        SlotQuery(
            "northfield", ADDRESS, Job(trade="electrical", duration_minutes=60), MONDAY, MONDAY
        )
    )
    quotes = list(sim.world.jobs.values())
    assert len(quotes) == 2
    assert all(q.status == "Unallocated" and q.offer is None for q in quotes)
    assert all(
        {"name": "Purpose", "value": "AvailabilityQuote"} in q.body["additionalProperties"]
        for q in quotes
    )


async def test_a_purged_quote_job_is_made_again(
    sim: TotalmobileSimulator, scheduler: TotalmobileScheduler, week: SlotQuery
) -> None:
    first = await scheduler.slots(week)
    sim.world.jobs.clear()  # the planners' housekeeping removed it
    assert await scheduler.slots(week) == first
    assert sim.world.calls["create_job"] == 2


async def test_days_asked_backwards_are_no_windows(scheduler: TotalmobileScheduler) -> None:
    query = SlotQuery("northfield", ADDRESS, JOB, MONDAY, MONDAY - timedelta(days=1))
    assert await scheduler.slots(query) == []
