"""The repairs-gateway conformance kit, run against this adaptor and its simulator.

The kit's tests come from the base class; the harness they need is the
``address_source_harness`` fixture in conftest.py.
"""

from repairs_gateway.conformance import AddressSourceConformance


class TestExampleHmsConforms(AddressSourceConformance):
    """Every rule an address source must keep."""
