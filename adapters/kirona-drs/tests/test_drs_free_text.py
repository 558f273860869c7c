"""Free text a resident or a register gives goes to DRS as XML can carry and DRS takes it."""

from __future__ import annotations

import dataclasses

import pytest
from repairs_gateway.ports import Contact, SlotQuery

from drs_helpers import request_for
from repairs_gateway_kirona_drs import DrsScheduler
from repairs_gateway_kirona_drs.simulator import DrsSimulator

REFERENCE = "NF-7KQ3M9X"


def java_length(text: str) -> int:
    """Java's String.length(): UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


async def test_characters_xml_cannot_carry_are_dropped_and_the_repair_is_booked(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    # The API accepts these in JSON strings; XML 1.0 has no way to write them.
    address = dataclasses.replace(
        week.address, lines=("Flat 2\x07", "\x01", "1 High\x1b Street"), postcode="NF1\x0b 1AA"
    )
    query = dataclasses.replace(week, address=address)
    slot = (await scheduler.slots(query))[0]
    request = request_for(
        query,
        slot,
        REFERENCE,
        description="Sink blocked\x08 since Monday\x00\ufffe\ud800",
        contact=Contact("Ann\x1f Example", "01234\x0c 567890"),
    )

    booking = await scheduler.book(request)

    assert sim.state.held_windows(booking.reference) == [(slot.start, slot.end)]
    (order,) = sim.state.find_orders(numbers=[REFERENCE])
    assert order.comments == "Sink blocked since Monday"
    assert (order.contact_name, order.phone) == ("Ann Example", "01234 567890")
    assert order.location["address1"] == "Flat 2"
    assert order.location["address2"] == "1 High Street"  # the line of nothing is gone
    assert order.location["postCode"] == "NF1 1AA"


async def test_a_description_of_nothing_xml_can_carry_still_gives_comments(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    slot = (await scheduler.slots(week))[0]
    await scheduler.book(request_for(week, slot, REFERENCE, description="\x08\x08"))
    (order,) = sim.state.find_orders(numbers=[REFERENCE])
    assert order.comments == f"Repair {REFERENCE} reported online"


@pytest.mark.parametrize(
    "description",
    ["\N{WRENCH}" * 200, "x" * 254 + "\N{WRENCH}", "x" * 251 + "\N{WRENCH}" * 3],
    ids=["emoji", "emoji-at-the-limit", "emoji-across-the-limit"],
)
async def test_order_comments_fit_drs_as_java_counts_them(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery, description: str
) -> None:
    slot = (await scheduler.slots(week))[0]
    await scheduler.book(request_for(week, slot, REFERENCE, description=description))
    (order,) = sim.state.find_orders(numbers=[REFERENCE])
    assert java_length(order.comments) <= 255
    assert order.comments.endswith("...")
    assert description.startswith(order.comments.removesuffix("..."))
