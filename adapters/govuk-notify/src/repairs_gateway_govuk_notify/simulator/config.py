"""What the simulated Notify service holds: its templates, team and guest list, limits,
delays and callbacks. ``SimulatorConfig()`` is what ``repairs-gateway simulate`` serves."""

from __future__ import annotations

import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

TemplateType = Literal["sms", "email"]
KeyType = Literal["live", "team", "test"]
KEY_TYPES: tuple[KeyType, ...] = ("live", "team", "test")

FINAL_STATUSES = frozenset(
    {"delivered", "permanent-failure", "temporary-failure", "technical-failure"}
)
STATUSES = (
    "created",
    "sending",
    "pending",
    "sent",
    "delivered",
    "permanent-failure",
    "temporary-failure",
    "technical-failure",
)

_TEMPLATE_NAMESPACE = uuid.UUID("6f1c3a52-8a55-4d6e-9d36-2b1f0e7a4c10")


@dataclass(frozen=True, slots=True)
class Template:
    """A template as Notify's web admin would hold it; placeholders are ``((name))``."""

    id: str
    name: str
    type: TemplateType
    body: str
    subject: str | None = None
    version: int = 1


def template_id(kind: str, channel: TemplateType) -> str:
    """The stable id of the default template for a message kind and channel."""
    return str(uuid.uuid5(_TEMPLATE_NAMESPACE, f"repairs-gateway/{kind}/{channel}"))


_DEFAULT_TEXTS: dict[str, tuple[str, str, str]] = {
    # kind: (sms body, email subject, email body)
    "booking_confirmed": (
        "Dear ((name)), your repair ((reference)) is booked for ((appointment)).",
        "Repair ((reference)) booked for ((appointment))",
        "Dear ((name)),\n\nYour repair ((reference)) is booked for ((appointment)) at"
        " ((address)).\n\nWhat we will do: ((repair))",
    ),
    "appointment_moved": (
        "Dear ((name)), your repair ((reference)) is now booked for ((appointment)).",
        "Repair ((reference)): new appointment ((appointment))",
        "Dear ((name)),\n\nThe appointment for your repair ((reference)) has moved to"
        " ((appointment)).",
    ),
    "repair_cancelled": (
        "Dear ((name)), your repair ((reference)) has been cancelled.",
        "Repair ((reference)) cancelled",
        "Dear ((name)),\n\nYour repair ((reference)) has been cancelled.",
    ),
    "reminder": (
        "Reminder: your repair ((reference)) is booked for ((appointment)).",
        "Reminder: repair ((reference)) on ((appointment))",
        "Dear ((name)),\n\nA reminder that your repair ((reference)) is booked for"
        " ((appointment)). Please make sure someone is at home.",
    ),
    "status_changed": (
        "Your repair ((reference)): ((status)).",
        "Repair ((reference)): ((status))",
        "Dear ((name)),\n\nYour repair ((reference)): ((status)).",
    ),
    "staff_new_repair": (
        "New repair ((reference)) at ((address)).",
        "New repair ((reference))",
        "Repair ((reference)) was reported.\n\nAddress: ((address))\nUPRN: ((uprn))\n"
        "SoR code: ((sor_code))\nDescription: ((description))\nContact number: ((contact_number))",
    ),
    "staff_needs_attention": (
        "Repair ((reference)) needs a person: ((reason)).",
        "Repair ((reference)) needs a person",
        "Repair ((reference)) at ((address)) needs a person.\n\nWhy: ((reason))",
    ),
}
MESSAGE_KINDS = tuple(_DEFAULT_TEXTS)


def default_templates() -> tuple[Template, ...]:
    """A text and an email template for each of the gateway's message kinds."""
    templates: list[Template] = []
    for kind, (sms, subject, email) in _DEFAULT_TEXTS.items():
        label = kind.replace("_", " ")
        templates.append(Template(template_id(kind, "sms"), f"{label} (text)", "sms", sms))
        templates.append(
            Template(template_id(kind, "email"), f"{label} (email)", "email", email, subject)
        )
    return tuple(templates)


SMOKE_TEST_NUMBERS = ("07700900000", "07700900111", "07700900222")
SMOKE_TEST_EMAILS = (
    "simulate-delivered@notifications.service.gov.uk",
    "simulate-delivered-2@notifications.service.gov.uk",
    "simulate-delivered-3@notifications.service.gov.uk",
)
"""Notify's smoke-test recipients: the request is checked and answered 201, but nothing is
sent, stored or receipted (any key type may use them)."""

FAILING_RECIPIENTS: Mapping[str, str] = {
    # Published by Notify for test keys:
    "07700900003": "temporary-failure",
    "07700900002": "permanent-failure",
    "temp-fail@simulator.notify": "temporary-failure",
    "perm-fail@simulator.notify": "permanent-failure",
    # The simulator's own (Notify publishes none for technical-failure):
    "07700900004": "technical-failure",
    "tech-fail@simulator.notify": "technical-failure",
}
"""Recipients whose messages end in a failure, with every key type in the simulator."""

DEFAULT_TEAM = ("07700900123", "repairs-team@council.example")
"""Team members of the simulated service (made up)."""


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """The simulated service. Everything has a default; tests shorten the delays and the
    rate limit. ``seed`` makes the service id and API keys the same on every start."""

    service_name: str = "Repairs simulator"
    service_id: str | None = None
    seed: int | None = None
    templates: tuple[Template, ...] = field(default_factory=default_templates)
    team_members: tuple[str, ...] = DEFAULT_TEAM
    guest_list: tuple[str, ...] = (
        *SMOKE_TEST_NUMBERS,
        *SMOKE_TEST_EMAILS,
        *FAILING_RECIPIENTS,
    )
    failing_recipients: Mapping[str, str] = field(default_factory=lambda: dict(FAILING_RECIPIENTS))
    rate_limit: int = 3000
    rate_interval_seconds: float = 60.0
    daily_limit: int | None = None
    """Messages a day for live and team keys (Notify's ``TooManyRequestsError``); None: none."""
    sending_after_seconds: float = 0.5
    """From ``created`` to ``sending``."""
    final_after_seconds: float = 1.5
    """From ``sending`` to ``delivered`` (or the recipient's failure)."""
    sms_sender: str = "GOVUK"
    email_from: str = "repairs.simulator@notifications.service.gov.uk"
    inbound_number: str = "07700900500"
    callback_url: str | None = None
    callback_token: str | None = None
    inbound_callback_url: str | None = None
    inbound_callback_token: str | None = None
    callback_timeout_seconds: float = 2.0
    latency_ms: float = 0.0
    fail_rate: float = 0.0


ENVIRONMENT = {
    "GOVUK_NOTIFY_SIM_CALLBACK_URL": "callback_url",
    "GOVUK_NOTIFY_SIM_CALLBACK_TOKEN": "callback_token",
    "GOVUK_NOTIFY_SIM_INBOUND_URL": "inbound_callback_url",
    "GOVUK_NOTIFY_SIM_INBOUND_TOKEN": "inbound_callback_token",
    "GOVUK_NOTIFY_SIM_SERVICE_ID": "service_id",
}
"""Variables ``repairs-gateway simulate govuk-notify`` reads (the command has no options of
its own for them), and ``GOVUK_NOTIFY_SIM_RATE_LIMIT`` (``3000/60``),
``GOVUK_NOTIFY_SIM_DELAYS`` (``0.5,1.5``: seconds to sending, then to the final status)."""


def config_from_env(
    base: SimulatorConfig, environ: Mapping[str, str] = os.environ
) -> SimulatorConfig:
    """``base`` with what the environment variables above say; ValueError naming the variable."""
    changes: dict[str, object] = {
        attribute: environ[name] for name, attribute in ENVIRONMENT.items() if environ.get(name)
    }
    if "service_id" in changes:
        try:
            changes["service_id"] = str(uuid.UUID(str(changes["service_id"])))
        except ValueError:
            raise ValueError("GOVUK_NOTIFY_SIM_SERVICE_ID must be a UUID") from None
    if raw := environ.get("GOVUK_NOTIFY_SIM_RATE_LIMIT"):
        try:
            limit, interval = raw.split("/")
            changes["rate_limit"], changes["rate_interval_seconds"] = int(limit), float(interval)
        except ValueError:
            raise ValueError("GOVUK_NOTIFY_SIM_RATE_LIMIT must read like 3000/60") from None
    if raw := environ.get("GOVUK_NOTIFY_SIM_DELAYS"):
        try:
            sending, final = (float(part) for part in raw.split(","))
        except ValueError:
            raise ValueError("GOVUK_NOTIFY_SIM_DELAYS must read like 0.5,1.5") from None
        changes["sending_after_seconds"], changes["final_after_seconds"] = sending, final
    return replace(base, **changes)  # type: ignore[arg-type]
