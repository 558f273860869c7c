"""The conformance kit against the Northgate adaptor and its simulator, for every role.

``AddressSourceConformance`` (with its ``PropertyLookup`` rules) and
``WorksOrderConformance`` (with its ``WorksOrderCanceller`` and ``HazardSource`` rules) are
the kit's; nothing is declared not applicable.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import httpx
import pytest
from repairs_gateway.conformance import (
    AddressSourceConformance,
    AddressSourceHarness,
    FaultControl,
    FaultyTransport,
    WorksOrderConformance,
    WorksOrderHarness,
)
from repairs_gateway.ports import Job

from ng_helpers import HOUSE_1, HOUSE_3, PLUMBING, SIM, adaptor_on
from repairs_gateway_northgate_housing.simulator import ELIGIBLE_BY_POSTCODE, NorthgateSimulator

TIMEOUT = 0.3

# A property of the right shape with the wrong content: its UPRN missing, its type a number.
PROPERTY_WITHOUT_UPRN = (
    '{"Properties": [{"Reference": {"ID": "P1"}, "PropertyType": {"ID": "HOUSE"},'
    ' "Address": {"PostalCode": "NH1 1AA", "StreetName": "Heron Way"}}]}'
)
TYPE_NOT_A_REFERENCE = (
    '{"Properties": [{"Reference": {"ID": "P1"}, "PropertyType": 7, "Address": {"PostalCode": "NH1 1AA",'
    ' "Reference": {"ID": "700050000001", "AllocatedBy": "UPRN"}}}]}'
)


def _down(faults: FaultyTransport) -> Mapping[str, FaultControl]:
    return {
        **faults.down_faults(),
        "HTTP 429 with the backend's error": faults.answering(
            '{"Error": {"Code": "RATE_LIMITED", "Message": "Too many requests"}}', status=429
        ),
        "HTTP 504 from a proxy": faults.answering("<html>504</html>", status=504, content_type="text/html"),
    }


def _malformed(faults: FaultyTransport) -> Mapping[str, FaultControl]:
    return {
        **faults.json_faults(),
        "a property without its UPRN": faults.answering(PROPERTY_WITHOUT_UPRN),
        "a property type that is not a reference": faults.answering(TYPE_NOT_A_REFERENCE),
        "an empty body with HTTP 200": faults.answering(b""),
        "a 404 without the backend's error body": faults.answering("Not Found", status=404, content_type="text/plain"),
    }


@pytest.fixture
async def address_source_harness() -> AsyncIterator[AddressSourceHarness]:
    """The adaptor on a fresh simulator of the seeded installation, through the kit's faults."""
    simulator = NorthgateSimulator(SIM)
    faults = FaultyTransport(httpx.ASGITransport(app=simulator.app))
    adaptor = adaptor_on(simulator, transport=faults, timeout_seconds=TIMEOUT)
    yield AddressSourceHarness(
        source=adaptor,
        # NH1 1AB's flats are stored as "nh1  1ab" and "NH11AB"; NH1 1AA holds a garage and
        # a shop that are not eligible.
        known_postcodes={postcode: list(uprns) for postcode, uprns in ELIGIBLE_BY_POSTCODE.items()},
        unknown_postcode="NH9 9ZZ",
        down=_down(faults),
        hang=faults.hang(),
        malformed=_malformed(faults),
        timeout=TIMEOUT,
    )
    await adaptor.aclose()


class TestNgAddressesConform(AddressSourceConformance):
    """Every rule an address source must keep, against the simulated Northgate."""


@pytest.fixture
async def works_order_harness() -> AsyncIterator[WorksOrderHarness]:
    """The same adaptor as a works-order sink, canceller and hazard source."""
    simulator = NorthgateSimulator(SIM)
    faults = FaultyTransport(httpx.ASGITransport(app=simulator.app))
    adaptor = adaptor_on(simulator, transport=faults, timeout_seconds=TIMEOUT)

    async def is_open(reference: str) -> bool:
        order = simulator.state.works_orders.get(reference)
        return order is not None and order.status not in ("CANCELLED", "COMPLETED")

    yield WorksOrderHarness(
        sink=adaptor,
        address=HOUSE_1,
        job=PLUMBING,
        is_open=is_open,
        # The simulator holds no SoR catalogue; it refuses codes longer than 20 characters.
        refused_job=Job("plumbing", 60, sor_code="X" * 30),
        hazard_address=HOUSE_3,
        down=_down(faults),
        hang=faults.hang(),
        malformed=_malformed(faults),
        timeout=TIMEOUT,
    )
    await adaptor.aclose()


class TestNgWorksOrdersConform(WorksOrderConformance):
    """Every rule a works-order sink (with cancel and hazards) must keep."""
