"""Booking, moving, cancelling and reading a booking: what Totalmobile ends up holding,
including when answers are lost or Totalmobile is down half-way."""

from __future__ import annotations

import pytest
from repairs_gateway.ports import (
    BackendRejected,
    BackendUnavailable,
    Booking,
    BookingStatus,
    Hazard,
    NotFound,
    SlotQuery,
    SlotUnavailable,
)

from repairs_gateway_totalmobile import TotalmobileScheduler
from repairs_gateway_totalmobile.jobs import STATES
from repairs_gateway_totalmobile.simulator import SimulatorConfig, TotalmobileSimulator
from tm_helpers import MONDAY, properties, request

REF = "NF-7KQ3M9X"


def repair_jobs(sim: TotalmobileSimulator) -> list[str]:
    return [r for r in sim.world.jobs if not r.startswith("QUOTE-")]


def places_taken(sim: TotalmobileSimulator) -> int:
    return sum(sim.world.used.values())


async def test_the_job_carries_our_reference_the_works_order_and_hazards_for_operatives(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    hazards = (
        Hazard("alert", "VIO", "Occupant may be aggressive; attend in pairs"),
        Hazard("asbestos", "ASB1", "Asbestos in artex ceiling", location="Kitchen"),
    )
    booking = await scheduler.book(request(slot, works_order_ref="WO-55501", hazards=hazards))
    assert booking.works_order_ref == "WO-55501"
    assert booking.backend_refs["jobReference"] == REF
    job = sim.world.jobs[REF].show()
    assert job["identity"] == {"reference": REF}
    extra = properties(job)
    assert extra["WorksOrderReference"] == "WO-55501"
    assert "attend in pairs" in extra["Hazards"] and "(Kitchen)" in extra["Hazards"]
    assert extra["RepairReference"] == REF and extra["SorCode"] == "20060020"
    # The operative reads the hazards before the resident's words.
    assert job["description"].startswith("HAZARDS: [alert VIO]")
    assert job["description"].endswith("The kitchen sink is blocked")
    assert job["location"]["reference"] == "00012345"
    assert job["location"]["addressDetail"]["postCode"] == "NF1 1AA"
    assert job["contact"] == {"name": "Sam Resident"}
    assert job["duration"] == 60 and job["workType"] == "plumbing"
    assert job["status"] == "Allocated"


async def test_a_booking_without_works_order_or_hazards_says_nothing_of_them(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    await scheduler.book(request(slot))
    extra = properties(sim.world.jobs[REF].body)
    assert "WorksOrderReference" not in extra and "Hazards" not in extra
    assert sim.world.jobs[REF].body["description"] == "The kitchen sink is blocked"


async def test_an_outage_while_booking_leaves_no_job_and_no_place_taken(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    sim.world.fail_next("accept", "http503")
    with pytest.raises(BackendUnavailable):
        await scheduler.book(request(slot))
    assert repair_jobs(sim) == [] and places_taken(sim) == 0
    # Back again: the same booking is made, once.
    await scheduler.book(request(slot))
    assert repair_jobs(sim) == [REF] and places_taken(sim) == 1


async def test_an_outage_before_the_job_is_made_is_unavailable(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    sim.world.fail_next("create_job", "http503")
    with pytest.raises(BackendUnavailable):
        await scheduler.book(request(slot))
    assert repair_jobs(sim) == []


async def test_a_lost_answer_to_the_accept_is_settled_by_looking_up_our_job(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    sim.world.fail_next("accept", "lost")  # carried out; a proxy answers 504
    booking = await scheduler.book(request(slot))
    state = await scheduler.status(booking)
    assert (state.status, state.start, state.end) == (BookingStatus.BOOKED, slot.start, slot.end)
    assert places_taken(sim) == 1


async def test_a_dropped_answer_to_the_create_carries_on_with_the_job_made(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    sim.world.fail_next("create_job", "dropped")
    await scheduler.book(request(slot))
    assert repair_jobs(sim) == [REF] and places_taken(sim) == 1


async def test_a_retried_booking_adopts_the_job_an_interrupted_attempt_left(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    sim.world.fail_next("create_job", "lost")
    sim.world.fail_next("get_job", "http503")  # and the look-up cannot tell
    with pytest.raises(BackendUnavailable):
        await scheduler.book(request(slot))
    assert repair_jobs(sim) == [REF]  # made, unbooked
    booking = await scheduler.book(request(slot))
    assert booking.reference == REF
    assert repair_jobs(sim) == [REF] and places_taken(sim) == 1


async def test_a_taken_offer_is_slot_unavailable_and_the_job_withdrawn(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    sim.world.fill(MONDAY, "AM", "plumbing")
    with pytest.raises(SlotUnavailable):
        await scheduler.book(request(slot))
    assert repair_jobs(sim) == []


async def test_a_withdrawal_that_fails_is_unavailable_not_slot_unavailable(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    sim.world.fill(MONDAY, "AM", "plumbing")
    sim.world.fail_next("delete_job", "http503")
    with pytest.raises(BackendUnavailable) as failed:
        await scheduler.book(request(slot))
    assert "left unbooked" in (failed.value.detail or "")


@pytest.mark.parametrize("config", [SimulatorConfig(offers_bound_to_job=True)])
async def test_offers_bound_to_the_job_asked_are_re_asked_for_the_repairs_job(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    booking = await scheduler.book(request(slot))
    state = await scheduler.status(booking)
    assert (state.start, state.end) == (slot.start, slot.end)
    assert sim.world.calls["accept"] == 2  # the quote's handle refused, then the job's own


async def test_reschedule_moves_and_a_full_window_keeps_the_old_one(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    first, *others = await scheduler.slots(week)
    booking = await scheduler.book(request(first))
    pm = next(s for s in others if s.start.hour == 12)
    sim.world.fill(pm.start.date(), "PM", "plumbing")
    with pytest.raises(SlotUnavailable):
        await scheduler.reschedule(booking, request(first).job, pm)
    assert (await scheduler.status(booking)).start == first.start
    later = others[-1]
    moved = await scheduler.reschedule(booking, request(first).job, later)
    assert moved.reference == REF and moved.backend_refs["offerReference"] == later.ref
    state = await scheduler.status(moved)
    assert (state.start, state.end) == (later.start, later.end)


async def test_cancel_deletes_the_job_and_twice_is_harmless(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    booking = await scheduler.book(request((await scheduler.slots(week))[0]))
    await scheduler.cancel(booking)
    assert repair_jobs(sim) == [] and places_taken(sim) == 0
    await scheduler.cancel(booking)
    with pytest.raises(NotFound):
        await scheduler.status(booking)


async def test_a_lost_answer_to_the_delete_is_settled_by_looking(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    booking = await scheduler.book(request((await scheduler.slots(week))[0]))
    sim.world.fail_next("delete_job", "lost")
    await scheduler.cancel(booking)
    assert repair_jobs(sim) == []


async def test_a_visit_under_way_is_not_deleted(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    booking = await scheduler.book(request((await scheduler.slots(week))[0]))
    sim.world.set_status(REF, "OnSite")
    with pytest.raises(BackendRejected, match="begun"):
        await scheduler.cancel(booking)
    assert repair_jobs(sim) == [REF]


@pytest.mark.parametrize(("state", "expected"), sorted(STATES.items()))
async def test_each_job_state_reads_as_a_booking_status(
    scheduler: TotalmobileScheduler,
    sim: TotalmobileSimulator,
    week: SlotQuery,
    state: str,
    expected: BookingStatus,
) -> None:
    slot = (await scheduler.slots(week))[0]
    booking = await scheduler.book(request(slot))
    spelt = {"onsite": "OnSite"}.get(state, state.capitalize())
    sim.world.set_status(REF, spelt)
    read = await scheduler.status(booking)
    assert (read.status, read.start, read.end) == (expected, slot.start, slot.end)


async def test_an_unknown_state_is_rejected_and_an_unknown_job_not_found(
    scheduler: TotalmobileScheduler, sim: TotalmobileSimulator, week: SlotQuery
) -> None:
    booking = await scheduler.book(request((await scheduler.slots(week))[0]))
    sim.world.set_status(REF, "Teleported")
    with pytest.raises(BackendRejected):
        await scheduler.status(booking)
    with pytest.raises(NotFound):
        await scheduler.status(Booking("NF-UNKNOWN"))
