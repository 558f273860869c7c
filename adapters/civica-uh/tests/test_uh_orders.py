"""Works orders: what UH is sent for a repair, and cancelling."""

from __future__ import annotations

import pytest
from repairs_gateway.ports import (
    Address,
    BackendRejected,
    Contact,
    Hazard,
    Job,
    NotFound,
    Priority,
    WorksOrderRequest,
)

from repairs_gateway_civica_uh import UhHousing
from repairs_gateway_civica_uh.simulator import UhSimulator

HOUSE = Address("400078000203", ("3 Willow Road", "Larchford"), "UH1 1AB", property_ref="00042003")


def _request(
    sor: str | None = "20060020", priority: Priority = Priority.URGENT, **kw: object
) -> WorksOrderRequest:
    return WorksOrderRequest(
        council_id="larchford",
        reference="LF-7KQ3M9X",
        address=kw.get("address", HOUSE),  # type: ignore[arg-type]
        job=Job("plumbing", 60, priority, sor),
        description="The kitchen sink is blocked",
        contact=Contact("Ann Example", "07700 900123"),
        hazards=kw.get("hazards", ()),  # type: ignore[arg-type]
    )


async def test_an_order_is_raised_with_one_task_for_the_job(
    housing: UhHousing, sim: UhSimulator
) -> None:
    hazards = (Hazard("asbestos", "ASB-00042", "Artex to the kitchen ceiling"),)
    ref = await housing.raise_order(_request(hazards=hazards))
    order = sim.state.orders[ref]
    assert (order.property_ref, order.job_code, order.priority) == ("00042003", "20060020", "U")
    assert order.supplier == "VALEPLUMB"  # this SoR code's contractor in the settings
    assert order.units == "1"
    assert order.task_text.startswith("The kitchen sink is blocked")
    assert "ASBESTOS ASB-00042: Artex to the kitchen ceiling" in order.task_text
    request = sim.state.requests[order.request_reference]
    assert request.problem == "LF-7KQ3M9X: The kitchen sink is blocked"
    assert (request.name, request.phone, request.priority) == ("Ann Example", "07700 900123", "U")
    assert "ASB" not in request.problem  # hazards are for operatives, in the task only


async def test_the_default_supplier_and_units_per_sor_code(
    housing: UhHousing, sim: UhSimulator
) -> None:
    order = sim.state.orders[await housing.raise_order(_request("20060040", Priority.NORMAL))]
    assert (order.supplier, order.units, order.priority) == ("LBC-DLO", "2", "N")


async def test_an_unknown_sor_code_is_refused_with_uhs_words(housing: UhHousing) -> None:
    with pytest.raises(BackendRejected) as refused:
        await housing.raise_order(_request("NOPE01"))
    assert "not in the schedule of rates" in (refused.value.detail or "")


async def test_a_job_without_an_sor_code_is_refused_before_calling_uh(
    housing: UhHousing, sim: UhSimulator
) -> None:
    with pytest.raises(BackendRejected):
        await housing.raise_order(_request(None))
    assert sim.state.calls["CreateRepairWithOrder"] == 0


async def test_an_unknown_property_is_not_found(housing: UhHousing) -> None:
    ghost = Address("400078999999", ("Nowhere",), "UH1 1AA", property_ref="99999999")
    with pytest.raises(NotFound):
        await housing.raise_order(_request(address=ghost))


async def test_cancelling_twice_is_not_an_error(housing: UhHousing, sim: UhSimulator) -> None:
    ref = await housing.raise_order(_request())
    await housing.cancel_order(ref)
    await housing.cancel_order(ref)
    assert sim.state.orders[ref].status == "CANCELLED"


@pytest.mark.parametrize(("move", "words"), [("issue", "issued"), ("complete", "completed")])
async def test_an_issued_or_completed_order_cannot_be_cancelled(
    housing: UhHousing, sim: UhSimulator, move: str, words: str
) -> None:
    ref = await housing.raise_order(_request())
    getattr(sim.state, move)(ref)
    with pytest.raises(BackendRejected) as refused:
        await housing.cancel_order(ref)
    assert f"has been {words}" in str(refused.value)  # UH's own message, for staff
    assert ref in str(refused.value)


async def test_cancelling_an_unknown_order_is_not_found(housing: UhHousing) -> None:
    with pytest.raises(NotFound):
        await housing.cancel_order("09999999")
