"""Raising and cancelling works orders: what Northgate holds afterwards."""

from __future__ import annotations

import pytest
from repairs_gateway.ports import Address, BackendRejected, Job, NotFound, Priority

from ng_helpers import HOUSE_1, PLUMBING, adaptor_on, order_request
from repairs_gateway_northgate_housing import NorthgateHousing
from repairs_gateway_northgate_housing.simulator import NorthgateSimulator


async def test_a_service_request_and_its_works_order_carry_the_repairs_reference(
    northgate: NorthgateHousing, ng_sim: NorthgateSimulator
) -> None:
    reference = await northgate.raise_order(order_request("NH-AAAA111"))
    order = ng_sim.state.works_order(reference)
    request = ng_sim.state.service_request(order.sr_ref)
    assert request.property_ref == "P0010001"
    assert request.external == order.external == {"ID": "NH-AAAA111", "AllocatedBy": "repairs-gateway"}
    assert request.body["ReportedBy"] == {"Name": "Sam Resident", "Telephone": "07700 900123", "Email": None}
    assert order.body["SORCode"] == "20060020"
    assert order.body["Priority"] == "3"  # urgent, HACT's code
    assert order.body["EstimatedMinutes"] == 60
    assert order.status == "ISSUED"


async def test_priorities_follow_the_councils_mapping(ng_sim: NorthgateSimulator) -> None:
    adaptor = adaptor_on(ng_sim, priorities={"urgent": "2"})
    try:
        reference = await adaptor.raise_order(order_request())
    finally:
        await adaptor.aclose()
    assert ng_sim.state.works_order(reference).body["Priority"] == "2"


async def test_a_job_without_a_sor_code_takes_its_trades(ng_sim: NorthgateSimulator) -> None:
    adaptor = adaptor_on(ng_sim, trade_sor={"carpentry": "20110010"})
    try:
        reference = await adaptor.raise_order(order_request(job=Job("carpentry", 90, Priority.NORMAL)))
        with pytest.raises(BackendRejected):
            await adaptor.raise_order(order_request("NH-BBBB222", job=Job("glazing", 30)))
    finally:
        await adaptor.aclose()
    assert ng_sim.state.works_order(reference).body["SORCode"] == "20110010"
    assert len(ng_sim.state.service_requests) == 1  # the refused one made nothing


async def test_a_refused_works_order_withdraws_its_service_request(
    ng_sim: NorthgateSimulator,
) -> None:
    adaptor = adaptor_on(ng_sim)
    try:
        with pytest.raises(BackendRejected):
            await adaptor.raise_order(order_request(job=Job("plumbing", 60, sor_code="X" * 30)))
    finally:
        await adaptor.aclose()
    [request] = ng_sim.state.service_requests.values()
    assert request.status == "CANCELLED"
    assert ng_sim.state.works_orders == {}


async def test_an_unknown_property_is_refused(northgate: NorthgateHousing) -> None:
    with pytest.raises(BackendRejected):
        await northgate.raise_order(order_request(address=Address("700050009999", ("Nowhere",), "NH1 1AA")))


async def test_cancel_closes_the_order_and_its_request_and_twice_is_harmless(
    northgate: NorthgateHousing, ng_sim: NorthgateSimulator
) -> None:
    reference = await northgate.raise_order(order_request(address=HOUSE_1, job=PLUMBING))
    await northgate.cancel_order(reference)
    await northgate.cancel_order(reference)
    order = ng_sim.state.works_order(reference)
    assert order.status == "CANCELLED"
    assert ng_sim.state.service_request(order.sr_ref).status == "CANCELLED"


async def test_a_completed_order_cannot_be_cancelled(northgate: NorthgateHousing, ng_sim: NorthgateSimulator) -> None:
    reference = await northgate.raise_order(order_request())
    ng_sim.state.complete_works_order(reference)
    with pytest.raises(BackendRejected) as refused:
        await northgate.cancel_order(reference)
    assert "WO_COMPLETED" in (refused.value.detail or "")
    assert ng_sim.state.works_order(reference).status == "COMPLETED"


async def test_cancelling_an_unknown_order_is_not_found(northgate: NorthgateHousing) -> None:
    with pytest.raises(NotFound):
        await northgate.cancel_order("WO99999999")
