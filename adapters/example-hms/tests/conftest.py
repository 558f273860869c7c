"""The harness the conformance kit needs: the adaptor, built against the simulator
in-process, with the kit's fault-injecting transport in between."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr
from repairs_gateway.conformance import AddressSourceHarness, FaultyTransport

from repairs_gateway_example_hms import ExampleHmsAddresses, ExampleHmsSettings
from repairs_gateway_example_hms.simulator import API_KEY, HmsSimulator

# Short, so that the kit's hang tests are quick; the real default is 5 s.
TIMEOUT = 0.2

# Both answers at once: a search answer whose property lacks its UPRN, and a property
# answer lacking it too.
_NO_UPRN = '"address": ["1 Mill Lane"], "postcode": "NF1 1AA", "type": "house", "tenure": "secure"'
A_PROPERTY_WITHOUT_ITS_UPRN = f'{{"properties": [{{{_NO_UPRN}}}], {_NO_UPRN}}}'


@pytest.fixture
def simulator() -> HmsSimulator:
    """A fresh simulated Example HMS."""
    return HmsSimulator()


@pytest.fixture
def faults(simulator: HmsSimulator) -> FaultyTransport:
    """The way from the adaptor to the simulator, which the kit can break."""
    return FaultyTransport(httpx.ASGITransport(app=simulator.app))


@pytest.fixture
def settings() -> ExampleHmsSettings:
    """Settings as a council file would give them, pointing at the simulator."""
    return ExampleHmsSettings.model_validate(
        {"base_url": "http://hms.test", "api_key": SecretStr(API_KEY), "timeout_seconds": TIMEOUT}
    )


@pytest.fixture
async def adapter(
    settings: ExampleHmsSettings, faults: FaultyTransport
) -> AsyncIterator[ExampleHmsAddresses]:
    """The adapter, talking to the simulator; closed after the test."""
    adapter = ExampleHmsAddresses(settings, transport=faults)
    yield adapter
    await adapter.aclose()


@pytest.fixture
def address_source_harness(adapter: ExampleHmsAddresses, faults: FaultyTransport) -> AddressSourceHarness:
    """What the conformance kit runs against (see test_example_hms_conformance.py)."""
    return AddressSourceHarness(
        source=adapter,
        # Every eligible property: 100021000002 is leasehold. The simulator stores NF1 1AB
        # as "NF11AB", "nf1  1ab" and "NF1 1AB".
        known_postcodes={
            "NF1 1AA": ["100021000001", "100021000003"],
            "NF1 1AB": ["100021000011", "100021000012", "100021000010"],
        },
        down=faults.down_faults(),
        hang=faults.hang(),
        malformed={
            **faults.json_faults(),
            "a property without its UPRN": faults.answering(A_PROPERTY_WITHOUT_ITS_UPRN),
        },
        timeout=TIMEOUT,
    )
