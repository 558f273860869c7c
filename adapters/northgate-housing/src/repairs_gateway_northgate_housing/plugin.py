"""The entry point the gateway discovers: ``repairs_gateway.adapters`` -> ``northgate-housing``."""

from __future__ import annotations

from typing import Any

from repairs_gateway.ports import AdapterContext, AdapterPlugin

from .adapter import NorthgateHousing
from .settings import NorthgateSettings
from .simulator import simulate


def build(settings: Any, context: AdapterContext) -> NorthgateHousing:
    """Build the adaptor for one council from its validated settings."""
    if not isinstance(settings, NorthgateSettings):
        settings = NorthgateSettings.model_validate(settings)
    return NorthgateHousing(settings, timezone=context.timezone)


PLUGIN = AdapterPlugin(
    name="northgate-housing",
    roles=frozenset({"addresses", "works_orders"}),
    settings=NorthgateSettings,
    build=build,
    simulator=simulate,
    description=(
        "Northgate/NEC Housing (assumed REST/JSON API shaped on the HACT data standard): "
        "properties, service requests and works orders, cautionary alerts."
    ),
)
