"""Deprecated: the adapter conformance kit is ``repairs_gateway.conformance``.

This module only re-exports the kit, so that adapter packages written against the old name
keep working; import from ``repairs_gateway.conformance`` instead. The kit's pytest plugin is
registered once, by the ``pytest11`` entry point ``repairs_gateway_conformance``; this module
registers nothing.
"""

import warnings

from repairs_gateway.conformance import (
    AddressSourceConformance,
    AddressSourceHarness,
    FaultControl,
    FaultRule,
    Faults,
    FaultyTransport,
    SchedulerConformance,
    SchedulerHarness,
    WorksOrderConformance,
    WorksOrderHarness,
)

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

warnings.warn(
    "repairs_gateway.testing is deprecated: import the conformance kit from repairs_gateway.conformance",
    DeprecationWarning,
    stacklevel=2,
)
