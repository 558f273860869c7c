"""Hazards from the housing system reach the works order and the scheduler, never the
resident; and a source that finds properties only by its own reference (UH) is asked by the
reference the gateway remembered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import BaseModel
from sqlalchemy import text

from repairs_gateway.demo.data import demo_document
from repairs_gateway.ports import (
    AdapterPlugin,
    Address,
    BackendUnavailable,
    BookingRequest,
    Hazard,
    WorksOrderRequest,
)

from gateway_support import Gateway
from journey import NORTHFIELD, UPRN, create, first_window, repair_body

ALERT = Hazard("alert", "VIO", "Verbally aggressive occupant: attend in pairs")
ASBESTOS = Hazard("asbestos", "ACM", "Artex ceiling", location="Kitchen")


class NoSettings(BaseModel):
    pass


@dataclass
class HazardousHms:
    """A works-order sink that records alerts at one property, and records what it raised."""

    hazards: list[Hazard] = field(default_factory=lambda: [ALERT, ASBESTOS])
    down: bool = False
    orders: list[WorksOrderRequest] = field(default_factory=list)

    async def raise_order(self, request: WorksOrderRequest) -> str:
        self.orders.append(request)
        return f"WO{len(self.orders):06d}"

    async def hazards_at(self, address: Address) -> Sequence[Hazard]:
        if self.down:
            raise BackendUnavailable("alerts service down")
        return self.hazards if address.uprn == UPRN else []


@pytest.fixture
async def hazardous(make_gateway: Any) -> tuple[Gateway, HazardousHms]:
    hms = HazardousHms()
    plugin = AdapterPlugin("hazardous-hms", frozenset({"works_orders"}), NoSettings, lambda _s, _c: hms)
    document = demo_document()
    document["councils"][0]["works_orders"] = {"adapter": "hazardous-hms"}
    gateway: Gateway = await make_gateway(document=document, plugins={"hazardous-hms": plugin})
    return gateway, hms


async def test_hazards_go_with_the_works_order_and_not_to_the_resident(
    hazardous: tuple[Gateway, HazardousHms], monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway, hms = hazardous
    booked: list[BookingRequest] = []
    from repairs_gateway.builtin.calendar import BuiltinCalendar

    original = BuiltinCalendar.book

    async def spy(self: BuiltinCalendar, request: BookingRequest) -> Any:
        booked.append(request)
        return await original(self, request)

    monkeypatch.setattr(BuiltinCalendar, "book", spy)
    window = await first_window(gateway)
    created = await create(gateway, repair_body(window["id"]))
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "booked"

    [order] = hms.orders
    assert order.hazards == (ALERT, ASBESTOS)
    [request] = booked
    assert request.hazards == (ALERT, ASBESTOS)
    assert request.works_order_ref == "WO000001"
    reference = created.json()["reference"]
    answer = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    for told in (created.text, answer.text):
        assert "aggressive" not in told and "Artex" not in told and "VIO" not in told


async def test_a_property_without_hazards_sends_none(hazardous: tuple[Gateway, HazardousHms]) -> None:
    gateway, hms = hazardous
    window = await first_window(gateway, "100012345002")
    created = await create(gateway, repair_body(window["id"], uprn="100012345002"))
    assert created.json()["status"] == "booked"
    assert hms.orders[0].hazards == ()


async def test_unreadable_hazards_book_anyway_and_tell_operatives_to_check(
    hazardous: tuple[Gateway, HazardousHms],
) -> None:
    gateway, hms = hazardous
    hms.down = True
    window = await first_window(gateway)
    created = await create(gateway, repair_body(window["id"]))
    assert created.json()["status"] == "booked"
    [unread] = hms.orders[0].hazards
    assert unread.kind == "unread"
    assert "check them before visiting" in unread.description


# ------------------------------------------------------------ properties by their own reference


@dataclass
class RefOnlyHms:
    """An address source like UH's web services: lists by postcode, finds one property only
    by its own reference, and (as a fresh process would) knows no UPRN by itself."""

    asked_by_ref: list[str] = field(default_factory=list)
    eligible: bool = True

    async def addresses_at(self, postcode: str) -> Sequence[Address]:
        if postcode != "NF1 1AA":
            return []
        return [
            Address(UPRN, ("1 Mill Lane", "Northfield"), "NF1 1AA", property_ref="00012301"),
            Address("100012345002", ("2 Mill Lane", "Northfield"), "NF1 1AA", property_ref="00012302"),
        ]

    async def address(self, uprn: str) -> Address | None:
        return None

    async def address_by_ref(self, property_ref: str) -> Address | None:
        self.asked_by_ref.append(property_ref)
        if not self.eligible:
            return None
        found = [a for a in await self.addresses_at("NF1 1AA") if a.property_ref == property_ref]
        return found[0] if found else None


@pytest.fixture
async def ref_only(make_gateway: Any) -> tuple[Gateway, RefOnlyHms]:
    hms = RefOnlyHms()
    plugin = AdapterPlugin("ref-only-hms", frozenset({"addresses"}), NoSettings, lambda _s, _c: hms)
    document = demo_document()
    document["councils"][0]["addresses"] = {"adapter": "ref-only-hms"}
    gateway: Gateway = await make_gateway(document=document, plugins={"ref-only-hms": plugin})
    async with gateway.sessions.begin() as session:
        await session.execute(text("DELETE FROM known_properties"))
    return gateway, hms


async def test_a_property_looked_up_by_postcode_can_be_booked_by_its_uprn(
    ref_only: tuple[Gateway, RefOnlyHms],
) -> None:
    gateway, hms = ref_only
    listed = await gateway.client.get(
        f"{NORTHFIELD}/addresses", params={"postcode": "nf11aa"}, headers=gateway.auth()
    )
    assert listed.status_code == 200
    async with gateway.sessions() as session:
        rows = await session.execute(text("SELECT uprn, property_ref FROM known_properties"))
    kept: dict[str, str] = {uprn: ref for uprn, ref in rows.all()}
    assert kept == {UPRN: "00012301", "100012345002": "00012302"}

    window = await first_window(gateway)
    created = await create(gateway, repair_body(window["id"]))
    assert created.status_code == 201, created.text
    assert created.json()["status"] == "booked"
    assert "00012301" in hms.asked_by_ref  # eligibility asked afresh, by UH's reference


async def test_a_uprn_never_listed_is_not_eligible_and_nothing_is_stored(
    ref_only: tuple[Gateway, RefOnlyHms],
) -> None:
    gateway, hms = ref_only
    created = await create(gateway, repair_body(None))
    assert created.status_code == 422
    assert {e["field"] for e in created.json()["errors"]} == {"uprn"}
    assert await gateway.count() == 0
    assert hms.asked_by_ref == []


async def test_a_property_no_longer_eligible_is_refused_though_remembered(
    ref_only: tuple[Gateway, RefOnlyHms],
) -> None:
    gateway, hms = ref_only
    params = {"postcode": "NF1 1AA"}
    await gateway.client.get(f"{NORTHFIELD}/addresses", params=params, headers=gateway.auth())
    hms.eligible = False
    created = await create(gateway, repair_body(None))
    assert created.status_code == 422
    assert await gateway.count() == 0
