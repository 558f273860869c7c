"""The entry point the gateway discovers: ``repairs_gateway.adapters`` -> ``govuk-notify``."""

from __future__ import annotations

from typing import Any

from repairs_gateway.ports import AdapterContext, AdapterPlugin

from .notifier import NotifySender
from .settings import NotifySettings
from .simulator import simulate


def build(settings: Any, context: AdapterContext) -> NotifySender:
    """Build the sender for one council from its validated settings."""
    if not isinstance(settings, NotifySettings):
        settings = NotifySettings.model_validate(settings)
    return NotifySender(settings, context)


PLUGIN = AdapterPlugin(
    name="govuk-notify",
    roles=frozenset({"notifications"}),
    settings=NotifySettings,
    build=build,
    simulator=simulate,
    description="Text messages and emails through GOV.UK Notify (the official Python client).",
)
