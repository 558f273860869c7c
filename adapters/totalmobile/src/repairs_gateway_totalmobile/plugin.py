"""The entry point the gateway discovers: ``repairs_gateway.adapters`` -> ``totalmobile``."""

from __future__ import annotations

from typing import Any

from repairs_gateway.ports import AdapterContext, AdapterPlugin

from .scheduler import TotalmobileScheduler
from .settings import TotalmobileSettings
from .simulator import simulate


def build(settings: Any, context: AdapterContext) -> TotalmobileScheduler:
    """Build the scheduler for one council from its validated settings."""
    if not isinstance(settings, TotalmobileSettings):
        settings = TotalmobileSettings.model_validate(settings)
    return TotalmobileScheduler(settings, context)


PLUGIN = AdapterPlugin(
    name="totalmobile",
    roles=frozenset({"scheduler"}),
    settings=TotalmobileSettings,
    build=build,
    simulator=simulate,
    description="Totalmobile (Optimise jobs API, OAuth 2 client credentials); offers assumed.",
)
