"""The adaptor conformance kit: the behaviour every adaptor must show, as pytest tests.

An adaptor package subclasses ``AddressSourceConformance``, ``SchedulerConformance`` or
``WorksOrderConformance`` in its own tests and defines the fixture the class needs
(``address_source_harness``, ``scheduler_harness`` or ``works_order_harness``), answering a
harness that builds the adaptor against its simulator.
See ``docs/writing-an-adaptor.md``.
"""

import pytest

# Before the kit's modules are imported, so their asserts explain themselves.
pytest.register_assert_rewrite(
    "repairs_gateway.conformance.address_source",
    "repairs_gateway.conformance.checks",
    "repairs_gateway.conformance.diary",
    "repairs_gateway.conformance.scheduler",
    "repairs_gateway.conformance.works_orders",
)

from repairs_gateway.conformance.address_source import AddressSourceConformance  # noqa: E402
from repairs_gateway.conformance.faults import FaultyTransport  # noqa: E402
from repairs_gateway.conformance.harness import (  # noqa: E402
    AddressSourceHarness,
    FaultControl,
    FaultRule,
    Faults,
    SchedulerHarness,
    WorksOrderHarness,
)
from repairs_gateway.conformance.scheduler import SchedulerConformance  # noqa: E402
from repairs_gateway.conformance.works_orders import WorksOrderConformance  # noqa: E402

__all__ = [
    "AddressSourceConformance",
    "AddressSourceHarness",
    "FaultControl",
    "FaultRule",
    "Faults",
    "FaultyTransport",
    "SchedulerConformance",
    "SchedulerHarness",
    "WorksOrderConformance",
    "WorksOrderHarness",
]
