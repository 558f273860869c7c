"""The conformance kit against the Northgate adaptor and its simulator, for every role.

``AddressSourceConformance`` is the kit's; the kit has no works-order class yet, so
``TestNgWorksOrdersKeepTheFailureRules`` holds ``raise_order``, ``cancel_order``,
``hazards_at`` and ``address_by_ref`` to the same four failure rules with the kit's own
checks. Nothing is declared not applicable.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Mapping

import httpx
import pytest
from repairs_gateway.conformance import AddressSourceConformance, AddressSourceHarness, FaultControl, FaultyTransport
from repairs_gateway.conformance.checks import (
    Operation,
    Operations,
    check_down,
    check_gateway_timeout,
    check_malformed,
    check_own_timeout,
)
from repairs_gateway.conformance.harness import Faults

from ng_helpers import HOUSE_3, SIM, adaptor_on, order_request
from repairs_gateway_northgate_housing import NorthgateHousing
from repairs_gateway_northgate_housing.simulator import ELIGIBLE_BY_POSTCODE, NorthgateSimulator

TIMEOUT = 0.3
NgFaults = tuple[Faults, NorthgateHousing, FaultyTransport]
_numbers = itertools.count(1)

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


class TestNgWorksOrdersKeepTheFailureRules:
    """The kit's failure rules over the works-order and hazard calls."""

    pytestmark = pytest.mark.asyncio

    @pytest.fixture
    async def ng_faults(self) -> AsyncIterator[NgFaults]:
        simulator = NorthgateSimulator(SIM)
        faults = FaultyTransport(httpx.ASGITransport(app=simulator.app))
        adaptor = adaptor_on(simulator, transport=faults, timeout_seconds=TIMEOUT)
        harness = Faults(down=_down(faults), hang=faults.hang(), malformed=_malformed(faults), timeout=TIMEOUT)
        yield harness, adaptor, faults
        await adaptor.aclose()

    @staticmethod
    def _operations(adaptor: NorthgateHousing) -> Operations:
        async def prepare() -> list[Operation]:
            raised = await adaptor.raise_order(order_request(f"NH-CK{next(_numbers):05d}"))
            fresh = order_request(f"NH-CK{next(_numbers):05d}")
            return [
                ("raise_order", lambda: adaptor.raise_order(fresh)),
                ("cancel_order", lambda: adaptor.cancel_order(raised)),
                ("hazards_at", lambda: adaptor.hazards_at(HOUSE_3)),
                ("address_by_ref", lambda: adaptor.address_by_ref("P0010001")),
            ]

        return prepare

    async def test_backend_down_is_unavailable(self, ng_faults: NgFaults) -> None:
        """Every call raises BackendUnavailable while the backend is down."""
        harness, adaptor, _ = ng_faults
        await check_down(harness, self._operations(adaptor))

    async def test_hanging_backend_is_unavailable_within_the_adapter_timeout(self, ng_faults: NgFaults) -> None:
        """Every call gives up on a hanging backend within the adaptor's own limit."""
        harness, adaptor, _ = ng_faults
        await check_own_timeout(harness, self._operations(adaptor))

    async def test_hanging_backend_is_unavailable_through_the_gateway(self, ng_faults: NgFaults) -> None:
        """Through the gateway's BackendCaller, a hanging call ends within its limit."""
        harness, adaptor, _ = ng_faults
        await check_gateway_timeout(harness, self._operations(adaptor))

    async def test_malformed_answers_raise_typed_errors(self, ng_faults: NgFaults) -> None:
        """A malformed answer raises BackendRejected or BackendUnavailable, never a bare exception."""
        harness, adaptor, _ = ng_faults
        await check_malformed(harness, self._operations(adaptor))
