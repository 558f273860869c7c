"""Which properties a resident is offered, and how they read."""

from __future__ import annotations

from ng_helpers import adaptor_on
from repairs_gateway_northgate_housing import NorthgateHousing
from repairs_gateway_northgate_housing.simulator import NorthgateSimulator


async def test_a_blocks_communal_areas_are_communal_and_its_flats_are_homes(northgate: NorthgateHousing) -> None:
    found = {a.uprn: a for a in await northgate.addresses_at("NH1 1AB")}
    assert found["700050000100"].kind == "communal"
    assert found["700050000101"].kind == "dwelling"
    assert found["700050000101"].lines == ("Flat 1", "Kestrel House", "2 Kestrel Road", "Netherholme")
    assert found["700050000101"].property_ref == "P0010101"


async def test_garages_and_shops_are_not_offered(northgate: NorthgateHousing) -> None:
    uprns = {a.uprn for a in await northgate.addresses_at("NH1 1AA")}
    assert uprns == {"700050000001", "700050000003"}
    assert await northgate.address("700050000090") is None


async def test_a_council_that_takes_garage_repairs_says_so_in_its_settings(ng_sim: NorthgateSimulator) -> None:
    adaptor = adaptor_on(ng_sim, dwelling_types=["house", "Garage"])
    try:
        garage = await adaptor.address("700050000090")
        assert garage is not None
        assert garage.kind == "dwelling"
        assert garage.lines == ("Garage 9", "Heron Way", "Netherholme")
        assert await adaptor.address("700050000101") is None  # flats are no longer listed
    finally:
        await adaptor.aclose()


async def test_a_property_is_found_again_by_its_northgate_reference(northgate: NorthgateHousing) -> None:
    by_uprn = await northgate.address("700050000201")
    assert by_uprn is not None
    assert await northgate.address_by_ref("P0010201") == by_uprn
    assert await northgate.address_by_ref("P9999999") is None
    assert await northgate.address_by_ref("P0010005") is None  # a shop: not eligible


async def test_a_postcode_prefix_is_not_taken_for_the_postcode(northgate: NorthgateHousing) -> None:
    # The search matches by prefix; NH1 1A would find both NH1 1AA and NH1 1AB.
    assert {a.postcode for a in await northgate.addresses_at("NH1 1AA")} == {"NH1 1AA"}
