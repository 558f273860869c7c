"""The entry point the gateway finds: ``repairs_gateway.adapters`` -> ``example-hms``."""

from __future__ import annotations

from repairs_gateway.ports import AdapterContext, AdapterPlugin

from .adapter import ExampleHmsAddresses
from .settings import ExampleHmsSettings
from .simulator import simulate


def build(settings: ExampleHmsSettings, context: AdapterContext) -> ExampleHmsAddresses:
    """The plugin factory: one adaptor per council that names ``example-hms``."""
    return ExampleHmsAddresses(settings)


PLUGIN = AdapterPlugin(
    name="example-hms",
    roles=frozenset({"addresses"}),
    settings=ExampleHmsSettings,
    build=build,
    simulator=simulate,
    description="Eligible properties from Example HMS, a fictional REST housing system (worked example).",
)
