"""Councils whose housing system must raise a works order before a job is scheduled."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from pydantic import BaseModel

from repairs_gateway.demo.data import demo_document
from repairs_gateway.ports import AdapterContext, AdapterPlugin, BackendRejected, WorksOrderRequest

from gateway_support import Gateway
from journey import create, first_window, repair_body


class SinkSettings(BaseModel):
    prefix: str = "WO"


@dataclass
class RecordingSink:
    """A works-order sink that records what it was asked, or refuses."""

    prefix: str
    refuse: bool = False
    orders: list[WorksOrderRequest] = field(default_factory=list)

    async def raise_order(self, request: WorksOrderRequest) -> str:
        if self.refuse:
            raise BackendRejected("property is not repairable", detail="test: NoMaintenanceAllowed")
        self.orders.append(request)
        return f"{self.prefix}{len(self.orders):06d}"


@pytest.fixture
async def with_sink(make_gateway: Any) -> tuple[Gateway, RecordingSink]:
    sink = RecordingSink("WO")

    def build(settings: SinkSettings, context: AdapterContext) -> RecordingSink:
        sink.prefix = settings.prefix
        return sink

    plugin = AdapterPlugin("recording-hms", frozenset({"works_orders"}), SinkSettings, build)
    document = demo_document()
    document["councils"][0]["works_orders"] = {"adapter": "recording-hms", "settings": {"prefix": "NW"}}
    gateway: Gateway = await make_gateway(document=document, plugins={"recording-hms": plugin})
    return gateway, sink


async def test_a_works_order_is_raised_before_booking(with_sink: tuple[Gateway, RecordingSink]) -> None:
    gateway, sink = with_sink
    window = await first_window(gateway)
    response = await create(gateway, repair_body(window["id"]))
    assert response.status_code == 201
    assert response.json()["status"] == "booked"
    [order] = sink.orders
    assert order.reference == response.json()["reference"]
    assert order.job.sor_code == "20060020"
    assert order.address.uprn == "100012345001"
    from sqlalchemy import text

    async with gateway.sessions() as session:
        stored = (await session.execute(text("SELECT works_order_ref FROM repairs"))).scalar_one()
    assert stored == "NW000001"


async def test_a_refused_works_order_leaves_the_repair_received_and_unbooked(
    with_sink: tuple[Gateway, RecordingSink],
) -> None:
    gateway, sink = with_sink
    window = await first_window(gateway)
    sink.refuse = True
    response = await create(gateway, repair_body(window["id"]))
    assert response.status_code == 201
    assert response.json()["status"] == "received"
    assert await gateway.count("calendar_bookings") == 0
    assert await gateway.count() == 1
