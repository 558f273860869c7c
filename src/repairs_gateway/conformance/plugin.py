"""The pytest plugin (entry point ``pytest11``) that ships the conformance kit.

It registers the ``conformance`` marker every kit test carries (``pytest -m conformance``)
and stands in for the harness fixtures, so a test class that subclasses the kit without
defining its harness is told what to write instead of "fixture not found".
"""

from __future__ import annotations

import pytest

from repairs_gateway.conformance import AddressSourceHarness, SchedulerHarness, WorksOrderHarness

GUIDE = "docs/writing-an-adaptor.md"


def pytest_configure(config: pytest.Config) -> None:
    """Register the kit's marker."""
    config.addinivalue_line("markers", "conformance: a test of the repairs-gateway adaptor conformance kit")


@pytest.fixture
def address_source_harness() -> AddressSourceHarness:
    """Replaced by the adaptor package's own fixture of this name."""
    pytest.fail(
        "define a fixture named address_source_harness answering a "
        f"repairs_gateway.conformance.AddressSourceHarness (see {GUIDE})",
        pytrace=False,
    )


@pytest.fixture
def scheduler_harness() -> SchedulerHarness:
    """Replaced by the adaptor package's own fixture of this name."""
    pytest.fail(
        "define a fixture named scheduler_harness answering a "
        f"repairs_gateway.conformance.SchedulerHarness (see {GUIDE})",
        pytrace=False,
    )


@pytest.fixture
def works_order_harness() -> WorksOrderHarness:
    """Replaced by the adaptor package's own fixture of this name."""
    pytest.fail(
        "define a fixture named works_order_harness answering a "
        f"repairs_gateway.conformance.WorksOrderHarness (see {GUIDE})",
        pytrace=False,
    )
