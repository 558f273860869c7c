"""Properties: eligibility by the council's rules, bounded parallel lookups, the facts
cache, and finding a property again by UPRN or by UH reference."""

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
from repairs_gateway.ports import AdapterContext, Address

from repairs_gateway_civica_uh import UhHousing
from repairs_gateway_civica_uh.simulator import UhSimulator
from uh_helpers import FakeMonotonic, housing_settings


async def test_only_eligible_homes_and_communal_areas_are_offered(housing: UhHousing) -> None:
    found = await housing.addresses_at("UH1 1AA")
    assert [(a.uprn, a.kind, a.property_ref) for a in found] == [
        ("400078000100", "communal", "00041010"),
        ("400078000101", "dwelling", "00041001"),
        ("400078000102", "dwelling", "00041002"),
    ]
    # Left out: the leasehold flat (NoMaintenanceAllowed), the flat not open to online
    # repairs, and the block record itself.
    assert found[1].lines == ("Flat 1 Larch Court", "Larch Road", "Larchford")
    assert all(a.postcode == "UH1 1AA" for a in found)


async def test_a_property_without_a_uprn_is_not_offered(housing: UhHousing) -> None:
    assert [a.uprn for a in await housing.addresses_at("UH2 3CD")] == ["400078000401"]
    assert await housing.addresses_at("UH3 4EF") == []


async def test_the_councils_levels_and_flags_decide(
    http: httpx.AsyncClient, monotonic: FakeMonotonic
) -> None:
    settings = housing_settings(
        communal_levels=[], ineligible_when=[], eligible_only_when=["Repairable"]
    )
    adaptor = UhHousing(settings, http_client=http, clock=monotonic)
    found = {a.uprn for a in await adaptor.addresses_at("UH1 1AA")}
    # No communal areas now; the leasehold flat and the one not OnlineRepairs are in.
    assert found == {"400078000101", "400078000102", "400078000103", "400078000104"}
    await adaptor.aclose()


async def test_property_details_are_asked_in_parallel_but_bounded() -> None:
    sim = UhSimulator(replace(UhSimulator().config, latency_ms=20))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app)) as http:
        adaptor = UhHousing(housing_settings(max_parallel=4), http_client=http)
        found = await adaptor.addresses_at("UH1 2BH")
        await adaptor.aclose()
    assert len(found) == 17
    assert sim.state.calls["GetPropertyByRef"] == 17
    assert sim.state.max_in_flight == 4


async def test_a_second_lookup_within_the_ttl_reuses_the_facts(
    housing: UhHousing, sim: UhSimulator, monotonic: FakeMonotonic
) -> None:
    first = await housing.addresses_at("UH1 1AA")
    assert sim.state.calls["GetPropertyByRef"] == 6
    monotonic.now += 299
    assert await housing.addresses_at("UH1 1AA") == first
    assert sim.state.calls["GetPropertyByRef"] == 6  # only the postcode list again
    assert sim.state.calls["GetPropertyListByPostCode"] == 2
    monotonic.now += 2  # past facts_ttl_seconds (300)
    await housing.addresses_at("UH1 1AA")
    assert sim.state.calls["GetPropertyByRef"] == 12


async def test_lookups_racing_for_one_postcode_ask_once_per_property(
    housing: UhHousing, sim: UhSimulator
) -> None:
    one, two = await asyncio.gather(
        housing.addresses_at("UH1 1AB"), housing.addresses_at("UH1 1AB")
    )
    assert one == two
    assert sim.state.calls["GetPropertyByRef"] == 2


async def test_a_ttl_of_zero_never_caches(http: httpx.AsyncClient, sim: UhSimulator) -> None:
    adaptor = UhHousing(housing_settings(facts_ttl_seconds=0), http_client=http)
    await adaptor.addresses_at("UH1 1AB")
    await adaptor.addresses_at("UH1 1AB")
    assert sim.state.calls["GetPropertyByRef"] == 4
    await adaptor.aclose()


async def test_address_by_uprn_answers_what_this_process_has_seen(housing: UhHousing) -> None:
    assert await housing.address("400078000203") is None  # UH cannot be asked by UPRN
    [_, house] = await housing.addresses_at("UH1 1AB")
    assert await housing.address("400078000203") == house


async def test_address_by_ref_finds_a_property_after_a_restart(
    http: httpx.AsyncClient, sim: UhSimulator
) -> None:
    adaptor = UhHousing(housing_settings(), AdapterContext("larchford"), http_client=http)
    found = await adaptor.address_by_ref("00042001")
    assert found is not None
    assert (found.uprn, found.lines, found.postcode, found.kind) == (
        "400078000201",
        ("1 Willow Road", "Larchford"),
        "UH1 1AB",  # stored in UH as "uh11ab"
        "dwelling",
    )
    assert await adaptor.address("400078000201") == found
    assert await adaptor.address_by_ref("00041003") is None  # NoMaintenanceAllowed
    assert await adaptor.address_by_ref("99999999") is None  # unknown to UH
    await adaptor.aclose()


async def test_eligibility_is_checked_again_when_a_property_is_asked_for_by_ref(
    housing: UhHousing, sim: UhSimulator
) -> None:
    assert await housing.address_by_ref("00041001") is not None
    sim.state.properties["00041001"] = replace(
        sim.state.properties["00041001"], no_maintenance=True
    )
    assert await housing.address_by_ref("00041001") is None
    assert await housing.address("400078000101") is None


async def test_hazards_are_alerts_and_asbestos(housing: UhHousing) -> None:
    house = await housing.address_by_ref("00042003")
    assert house is not None
    hazards = await housing.hazards_at(house)
    assert [(h.kind, h.code) for h in hazards] == [
        ("alert", "DOG"),
        ("alert", "LONE"),
        ("asbestos", "ASB-00042"),
    ]
    assert "Do not drill" in hazards[2].description
    flat = await housing.address_by_ref("00041001")
    assert flat is not None and await housing.hazards_at(flat) == []


async def test_hazards_at_an_address_without_a_uh_reference_are_unread(housing: UhHousing) -> None:
    [hazard] = await housing.hazards_at(Address("123", ("Somewhere",), "UH9 9ZZ"))
    assert hazard.kind == "unread"
