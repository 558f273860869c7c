"""An outage in the middle of raising a works order: BackendUnavailable, and nothing is
made twice or left where the gateway cannot find it. The gateway books a repair whose
backend was down again later; the adaptor then finds the service request (and the order,
if it was made) by the repair's reference and finishes it."""

from __future__ import annotations

import pytest
from repairs_gateway.ports import BackendUnavailable

from ng_helpers import order_request
from repairs_gateway_northgate_housing import NorthgateHousing
from repairs_gateway_northgate_housing.simulator import NorthgateSimulator


async def test_down_before_the_works_order_then_the_retry_finishes_the_same_request(
    northgate: NorthgateHousing, ng_sim: NorthgateSimulator
) -> None:
    ng_sim.fail_next("create_works_order", "unavailable")
    with pytest.raises(BackendUnavailable):
        await northgate.raise_order(order_request("NH-OUT0001"))
    [left] = ng_sim.state.service_requests.values()
    assert left.orders == [] and left.external == {"ID": "NH-OUT0001", "AllocatedBy": "repairs-gateway"}

    reference = await northgate.raise_order(order_request("NH-OUT0001"))
    assert len(ng_sim.state.service_requests) == 1
    assert list(ng_sim.state.works_orders) == [reference]
    assert ng_sim.state.works_order(reference).sr_ref == left.ref


async def test_a_works_order_whose_answer_was_lost_is_adopted_not_made_again(
    northgate: NorthgateHousing, ng_sim: NorthgateSimulator
) -> None:
    ng_sim.fail_next("create_works_order", "lost")
    with pytest.raises(BackendUnavailable):
        await northgate.raise_order(order_request("NH-OUT0002"))
    [made] = ng_sim.state.works_orders

    assert await northgate.raise_order(order_request("NH-OUT0002")) == made
    assert len(ng_sim.state.works_orders) == 1
    await northgate.cancel_order(made)  # and the gateway can withdraw it
    assert ng_sim.state.works_order(made).status == "CANCELLED"


async def test_a_lost_service_request_is_not_made_twice(
    northgate: NorthgateHousing, ng_sim: NorthgateSimulator
) -> None:
    ng_sim.fail_next("create_service_request", "lost")
    with pytest.raises(BackendUnavailable):
        await northgate.raise_order(order_request("NH-OUT0003"))
    await northgate.raise_order(order_request("NH-OUT0003"))
    assert len(ng_sim.state.service_requests) == 1
    assert len(ng_sim.state.works_orders) == 1


async def test_a_hanging_works_order_call_is_unavailable_within_the_time_limit(
    northgate: NorthgateHousing, ng_sim: NorthgateSimulator
) -> None:
    ng_sim.fail_next("create_works_order", "hang")
    with pytest.raises(BackendUnavailable, match="not available"):
        await northgate.raise_order(order_request("NH-OUT0004"))


async def test_a_new_repair_at_the_same_property_gets_its_own_order(
    northgate: NorthgateHousing, ng_sim: NorthgateSimulator
) -> None:
    first = await northgate.raise_order(order_request("NH-OUT0005"))
    second = await northgate.raise_order(order_request("NH-OUT0006"))
    assert first != second
    assert len(ng_sim.state.service_requests) == 2
