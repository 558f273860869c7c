"""The entry point the gateway discovers: ``repairs_gateway.adapters`` -> ``kirona-drs``."""

from __future__ import annotations

from typing import Any

from repairs_gateway.ports import AdapterContext, AdapterPlugin

from .scheduler import DrsScheduler
from .settings import DrsSettings
from .simulator import simulate


def build(settings: Any, context: AdapterContext) -> DrsScheduler:
    """Build the scheduler for one council from its validated settings."""
    if not isinstance(settings, DrsSettings):
        settings = DrsSettings.model_validate(settings)
    return DrsScheduler(settings, context)


PLUGIN = AdapterPlugin(
    name="kirona-drs",
    roles=frozenset({"scheduler"}),
    settings=DrsSettings,
    build=build,
    simulator=simulate,
    description="Kirona DRS (Dynamic Resource Scheduler) through its SOAP Web Services Gateway.",
)
