"""A strict, in-memory simulator of GOV.UK Notify's API v2 (``repairs-gateway simulate
govuk-notify``): ``NotifySimulator`` is the app and its state, ``simulate`` the plugin's
factory."""

from .app import NotifySimulator, simulate
from .auth import ApiKey
from .config import (
    FAILING_RECIPIENTS,
    MESSAGE_KINDS,
    SMOKE_TEST_EMAILS,
    SMOKE_TEST_NUMBERS,
    SimulatorConfig,
    Template,
    default_templates,
    template_id,
)
from .state import Message, NotifyState

__all__ = [
    "FAILING_RECIPIENTS",
    "MESSAGE_KINDS",
    "SMOKE_TEST_EMAILS",
    "SMOKE_TEST_NUMBERS",
    "ApiKey",
    "Message",
    "NotifySimulator",
    "NotifyState",
    "SimulatorConfig",
    "Template",
    "default_templates",
    "simulate",
    "template_id",
]
