"""Cautionary alerts and asbestos records reach the gateway, and then the works order."""

from __future__ import annotations

import pytest
from repairs_gateway.ports import Address, Hazard, HazardSource, NotFound

from ng_helpers import BUNGALOW, HOUSE_1, HOUSE_3, order_request
from repairs_gateway_northgate_housing import NorthgateHousing
from repairs_gateway_northgate_housing.simulator import NorthgateSimulator


async def test_alerts_in_force_are_hazards_and_ended_ones_are_not(northgate: NorthgateHousing) -> None:
    assert isinstance(northgate, HazardSource)
    hazards = await northgate.hazards_at(HOUSE_3)
    assert hazards == (
        Hazard("alert", "DOG", "Dog on the premises: Ask for it to be shut away"),
        Hazard("asbestos", "ASB", "Asbestos containing material", "Loft insulation"),
    )  # VRB ended in 2020


async def test_a_property_without_alerts_has_no_hazards(northgate: NorthgateHousing) -> None:
    assert await northgate.hazards_at(HOUSE_1) == ()


async def test_a_property_known_only_by_uprn_is_looked_up_first(northgate: NorthgateHousing) -> None:
    hazards = await northgate.hazards_at(Address(BUNGALOW.uprn, BUNGALOW.lines, BUNGALOW.postcode))
    assert [h.code for h in hazards] == ["LNW"]


async def test_an_unknown_property_is_not_found(northgate: NorthgateHousing) -> None:
    with pytest.raises(NotFound):
        await northgate.hazards_at(Address("700050009999", ("Nowhere",), "NH1 1AA", property_ref="P0019999"))


async def test_hazards_go_into_the_works_order_for_the_operative(
    northgate: NorthgateHousing, ng_sim: NorthgateSimulator
) -> None:
    hazards = await northgate.hazards_at(HOUSE_3)
    reference = await northgate.raise_order(order_request(address=HOUSE_3, hazards=tuple(hazards)))
    order = ng_sim.state.works_order(reference).body
    assert order["Hazards"] == [
        {
            "Type": "CAUTIONARY",
            "Code": "DOG",
            "Description": "Dog on the premises: Ask for it to be shut away",
            "Location": None,
        },
        {
            "Type": "ASBESTOS",
            "Code": "ASB",
            "Description": "Asbestos containing material",
            "Location": "Loft insulation",
        },
    ]
    assert order["OperativeNotes"].splitlines() == [
        "HAZARDS - check before visiting:",
        "- CAUTIONARY DOG: Dog on the premises: Ask for it to be shut away",
        "- ASBESTOS ASB: Asbestos containing material (Loft insulation)",
    ]


async def test_unread_hazards_tell_the_operative_to_check(
    northgate: NorthgateHousing, ng_sim: NorthgateSimulator
) -> None:
    unread = Hazard("unread", "UNREAD", "The housing system could not be asked for alerts")
    reference = await northgate.raise_order(order_request(hazards=(unread,)))
    assert ng_sim.state.works_order(reference).body["Hazards"][0]["Type"] == "UNCHECKED"
