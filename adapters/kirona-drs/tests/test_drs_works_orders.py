"""A booking for a works order a housing system raised (UH, Northgate): DRS files the job under
the works order's number, and operatives read the property's hazards in the order's notes."""

from __future__ import annotations

from repairs_gateway.ports import Booking, BookingStatus, Hazard, SlotQuery

from drs_helpers import request_for
from repairs_gateway_kirona_drs import DrsScheduler
from repairs_gateway_kirona_drs.simulator import DrsSimulator

HAZARDS = (
    Hazard("alert", "VIO", "Verbally aggressive occupant: attend in pairs"),
    Hazard("asbestos", "ACM", "Artex ceiling, undamaged", location="Kitchen"),
)


async def test_the_order_is_filed_under_the_works_order_and_found_by_it(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    booked = await scheduler.book(request_for(week, slot, "NF-WO00001", works_order_ref="00412345"))

    [order] = [o for o in sim.state.orders.values() if o.primary_order_number == "00412345"]
    assert order.secondary_order_number == "NF-WO00001"  # our reference stays findable
    # Later calls name only what the gateway stored: the repair, its refs, the works order.
    stored = Booking("NF-WO00001", dict(booked.backend_refs), works_order_ref="00412345")
    assert (await scheduler.status(stored)).status is BookingStatus.BOOKED
    # After a crash the gateway knows no DRS ids yet: the works order still finds it.
    found = await scheduler.status(Booking("NF-WO00001", works_order_ref="00412345"))
    assert found.start == slot.start
    await scheduler.cancel(stored)
    assert not [o for o in sim.state.orders.values() if o.primary_order_number == "00412345"]


async def test_hazards_lead_the_order_notes_and_a_long_description_is_cut_not_them(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    long_story = "The kitchen tap drips day and night. " * 20
    await scheduler.book(
        request_for(week, slot, "NF-HZ00001", description=long_story, hazards=HAZARDS)
    )

    [order] = [o for o in sim.state.orders.values() if o.primary_order_number == "NF-HZ00001"]
    assert order.comments.startswith(
        "ALERT VIO: Verbally aggressive occupant: attend in pairs; "
        "ASBESTOS (Kitchen): Artex ceiling, undamaged | The kitchen tap drips"
    )
    assert len(order.comments) <= 255


async def test_without_hazards_the_notes_are_the_description_alone(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    await scheduler.book(request_for(week, slot, "NF-HZ00002"))
    [order] = [o for o in sim.state.orders.values() if o.primary_order_number == "NF-HZ00002"]
    assert order.comments == "The kitchen sink is blocked and water will not drain."
