"""A worked example of a repairs-gateway adaptor: the address source of Example HMS, a
fictional housing management system with a small REST API. Copy it to start your own."""

from repairs_gateway_example_hms.adapter import ExampleHmsAddresses
from repairs_gateway_example_hms.settings import ExampleHmsSettings

__all__ = ["ExampleHmsAddresses", "ExampleHmsSettings"]
