"""The simulated service's state: its keys, templates, messages, rate counters and received
texts, and the rules of a send. No HTTP here (see ``app``)."""

from __future__ import annotations

import random
import re
import time
import uuid
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .auth import ApiKey
from .config import (
    FINAL_STATUSES,
    KEY_TYPES,
    SMOKE_TEST_EMAILS,
    SMOKE_TEST_NUMBERS,
    STATUSES,
    KeyType,
    SimulatorConfig,
    Template,
    TemplateType,
)
from .recipients import RecipientError, canonical, email_address, uk_mobile

Clock = Callable[[], float]
"""Seconds since the epoch (``time.time``); tests may move it."""

SMS_MAX_CHARACTERS = 918
_PLACEHOLDER = re.compile(r"\(\(([^()]+?)\)\)")


class NotifyError(Exception):
    """An error answer: ``{"status_code": N, "errors": [{"error": kind, "message": ...}]}``."""

    def __init__(self, status_code: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.kind = kind
        self.message = message

    def body(self) -> dict[str, Any]:
        return {
            "status_code": self.status_code,
            "errors": [{"error": self.kind, "message": self.message}],
        }


def bad_request(message: str) -> NotifyError:
    return NotifyError(400, "BadRequestError", message)


def notify_time(moment: datetime | None) -> str | None:
    """Notify's timestamps: UTC with microseconds and a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ") if moment else None


def placeholder_key(name: str) -> str:
    """Notify matches placeholders to personalisation ignoring case, spaces, - and _."""
    return "".join(ch for ch in name.lower() if ch not in " -_\t")


def placeholders(text: str) -> list[str]:
    """The placeholder names of ``text`` in order, once each (``((a??b))`` names ``a``)."""
    seen: dict[str, str] = {}
    for match in _PLACEHOLDER.finditer(text):
        name = match.group(1).split("??")[0].strip()
        seen.setdefault(placeholder_key(name), name)
    return list(seen.values())


def render(text: str, values: Mapping[str, Any]) -> str:
    """``text`` with each ``((name))`` replaced; ``((name??shown))`` shows ``shown`` if the
    value is truthy ("yes", true, 1), as Notify's optional content does."""
    by_key = {placeholder_key(k): v for k, v in values.items()}

    def one(match: re.Match[str]) -> str:
        name, optional, shown = match.group(1).partition("??")
        value = by_key.get(placeholder_key(name.strip()))
        if optional:
            return shown if str(value).strip().lower() in {"yes", "true", "1"} else ""
        if isinstance(value, list):
            return "\n".join(f"* {item}" for item in value)
        return str(value)

    return _PLACEHOLDER.sub(one, text)


@dataclass(slots=True)
class Message:
    """A notification the service holds."""

    id: str
    key_type: KeyType
    type: TemplateType
    to: str
    recipient: str
    """Canonical form: ``447...`` or a lower-cased address."""
    template: Template
    personalisation: dict[str, Any]
    body: str
    subject: str | None
    reference: str | None
    outcome: str
    """The final status it is heading for."""
    created_at: datetime
    status: str = "created"
    sent_at: datetime | None = None
    completed_at: datetime | None = None

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES

    def as_notify(self, base_url: str, service_id: str) -> dict[str, Any]:
        """As ``GET /v2/notifications/{id}`` answers it."""
        return {
            "id": self.id,
            "reference": self.reference,
            "email_address": self.to if self.type == "email" else None,
            "phone_number": self.to if self.type == "sms" else None,
            "line_1": None,
            "line_2": None,
            "line_3": None,
            "line_4": None,
            "line_5": None,
            "line_6": None,
            "postcode": None,
            "postage": None,
            "type": self.type,
            "status": self.status,
            "template": template_ref(self.template, base_url, service_id),
            "body": self.body,
            "subject": self.subject,
            "created_at": notify_time(self.created_at),
            "created_by_name": None,
            "sent_at": notify_time(self.sent_at),
            "completed_at": notify_time(self.completed_at),
            "scheduled_for": None,
        }

    def receipt(self) -> dict[str, Any]:
        """The delivery receipt Notify POSTs to the service's callback URL."""
        return {
            "id": self.id,
            "reference": self.reference,
            "to": self.to,
            "status": self.status,
            "created_at": notify_time(self.created_at),
            "completed_at": notify_time(self.completed_at),
            "sent_at": notify_time(self.sent_at),
            "notification_type": self.type,
            "template_id": self.template.id,
            "template_version": self.template.version,
        }


@dataclass(frozen=True, slots=True)
class ReceivedText:
    """A text a resident sent to the service's inbound number."""

    id: str
    source_number: str
    destination_number: str
    message: str
    received_at: datetime

    def callback_body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "source_number": self.source_number,
            "destination_number": self.destination_number,
            "message": self.message,
            "date_received": notify_time(self.received_at),
        }


def template_ref(template: Template, base_url: str, service_id: str) -> dict[str, Any]:
    return {
        "id": template.id,
        "version": template.version,
        "uri": f"{base_url}/services/{service_id}/templates/{template.id}",
    }


@dataclass(slots=True)
class Callbacks:
    """Where the service's callbacks go (Notify's "Callbacks" settings)."""

    delivery_url: str | None = None
    delivery_token: str | None = None
    inbound_url: str | None = None
    inbound_token: str | None = None


@dataclass(slots=True)
class NotifyState:
    """Everything the simulated service holds."""

    config: SimulatorConfig
    clock: Clock = time.time
    service_id: str = ""
    keys: dict[KeyType, ApiKey] = field(default_factory=dict)
    templates: dict[str, Template] = field(default_factory=dict)
    messages: dict[str, Message] = field(default_factory=dict)
    received: list[ReceivedText] = field(default_factory=list)
    callbacks: Callbacks = field(default_factory=Callbacks)
    team: frozenset[str] = frozenset()
    """Team members and guest list (canonical forms): who a team key may send to."""
    failing: dict[str, str] = field(default_factory=dict)
    smoke: frozenset[str] = frozenset()
    _sent_times: dict[KeyType, deque[float]] = field(default_factory=dict)
    _daily: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        ids = random.Random(self.config.seed) if self.config.seed is not None else random.Random()

        def new_uuid() -> str:
            return str(uuid.UUID(int=ids.getrandbits(128), version=4))

        self.service_id = self.config.service_id or new_uuid()
        self.keys = {
            kind: ApiKey(f"repairs_sim_{kind}", kind, self.service_id, new_uuid())
            for kind in KEY_TYPES
        }
        self.templates = {t.id: t for t in self.config.templates}
        recipients = (canonical(r) for r in (*self.config.team_members, *self.config.guest_list))
        self.team = frozenset(r for r in recipients if r)
        self.failing = {
            found: status
            for raw, status in self.config.failing_recipients.items()
            if (found := canonical(raw))
        }
        self.smoke = frozenset(
            r for r in (canonical(x) for x in (*SMOKE_TEST_NUMBERS, *SMOKE_TEST_EMAILS)) if r
        )
        self.callbacks = Callbacks(
            self.config.callback_url,
            self.config.callback_token,
            self.config.inbound_callback_url,
            self.config.inbound_callback_token,
        )

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.clock(), UTC)

    def reset(self) -> None:
        """Forget every message, received text and rate count (keys and templates stay)."""
        self.messages.clear()
        self.received.clear()
        self._sent_times.clear()
        self._daily.clear()

    # ------------------------------------------------------------------ sending

    def check_rate(self, key: ApiKey) -> None:
        """Count a request of ``key``'s type; 429 past the limit (the request still counts)."""
        now = self.clock()
        window = self._sent_times.setdefault(key.type, deque())
        while window and window[0] <= now - self.config.rate_interval_seconds:
            window.popleft()
        window.append(now)
        if len(window) > self.config.rate_limit:
            raise NotifyError(
                429,
                "RateLimitError",
                f"Exceeded rate limit for key type {key.type.upper()} of"
                f" {self.config.rate_limit} requests per"
                f" {self.config.rate_interval_seconds:g} seconds",
            )
        limit = self.config.daily_limit
        if limit is not None and key.type != "test":
            day = self.now().date().isoformat()
            if self._daily.get(day, 0) >= limit:
                raise NotifyError(
                    429, "TooManyRequestsError", f"Exceeded send limits ({limit}) for today"
                )

    def send(self, key: ApiKey, kind: TemplateType, body: Any) -> tuple[Message, bool]:
        """Carry out ``POST /v2/notifications/{kind}``: the message and whether it was kept
        (smoke-test recipients are answered but not kept). Raises ``NotifyError``."""
        if not isinstance(body, dict):
            raise bad_request("Invalid JSON supplied in POST data")
        field_name = "phone_number" if kind == "sms" else "email_address"
        for name in (field_name, "template_id"):
            if name not in body:
                raise bad_request(f"{name} is a required property")
        to, template_id = body[field_name], body["template_id"]
        if not isinstance(to, str):
            raise bad_request(f"{field_name} {to!r} is not of type string")
        try:
            recipient = uk_mobile(to) if kind == "sms" else email_address(to)
        except RecipientError as exc:
            raise bad_request(str(exc)) from None
        try:
            template_id = str(uuid.UUID(str(template_id)))
        except ValueError:
            raise bad_request("template_id is not a valid UUID") from None
        personalisation = body.get("personalisation") or {}
        if not isinstance(personalisation, dict):
            raise bad_request(f"personalisation {personalisation!r} is not of type object")
        reference = body.get("reference")
        if reference is not None and not isinstance(reference, str):
            raise bad_request(f"reference {reference!r} is not of type string")
        self.check_rate(key)
        template = self.templates.get(template_id)
        if template is None:
            raise bad_request("Template not found")
        if template.type != kind:
            raise bad_request(f"{template.type} template is not suitable for {kind} notification")
        given = {placeholder_key(k) for k, v in personalisation.items() if v is not None}
        texts = [template.body, template.subject or ""]
        missing = [n for n in placeholders("\n".join(texts)) if placeholder_key(n) not in given]
        if missing:
            raise bad_request(f"Missing personalisation: {', '.join(missing)}")
        rendered = render(template.body, personalisation)
        if kind == "sms" and len(rendered) > SMS_MAX_CHARACTERS:
            raise bad_request(
                f"Text messages cannot be longer than {SMS_MAX_CHARACTERS} characters."
                f" Your message is {len(rendered)} characters"
            )
        smoke = recipient in self.smoke
        if key.type == "team" and recipient not in self.team and not smoke:
            raise bad_request("Can't send to this recipient using a team-only API key")
        message = Message(
            id=str(uuid.uuid4()),
            key_type=key.type,
            type=kind,
            to=to,
            recipient=recipient,
            template=template,
            personalisation=dict(personalisation),
            body=rendered,
            subject=render(template.subject, personalisation) if template.subject else None,
            reference=reference,
            outcome=self.failing.get(recipient, "delivered"),
            created_at=self.now(),
        )
        if smoke:
            return message, False
        self.messages[message.id] = message
        if key.type != "test":
            day = message.created_at.date().isoformat()
            self._daily[day] = self._daily.get(day, 0) + 1
        return message, True

    def set_status(self, message: Message, status: str) -> bool:
        """Move ``message`` to ``status``; True if it has just become final."""
        was_final = message.final
        now = self.now()
        if status != "created" and message.sent_at is None:
            message.sent_at = now
        message.status = status
        if message.final and message.completed_at is None:
            message.completed_at = now
        return message.final and not was_final

    # ------------------------------------------------------------------ reading

    def find(self, key: ApiKey, notification_id: str) -> Message:
        try:
            wanted = str(uuid.UUID(notification_id))
        except ValueError:
            raise bad_request("notification_id is not a valid UUID") from None
        message = self.messages.get(wanted)
        if message is None:
            raise NotifyError(404, "NoResultFound", "No result found")
        return message

    def listed(
        self,
        key: ApiKey,
        *,
        reference: str | None,
        statuses: list[str],
        template_type: str | None,
        older_than: str | None,
    ) -> list[Message]:
        """``GET /v2/notifications``: newest first; a test key sees only test messages, a
        live or team key only live and team ones (as Notify does)."""
        allowed = (*STATUSES, "failed")
        for status in statuses:
            if status not in allowed:
                raise bad_request(f"status {status} is not one of [{', '.join(allowed)}]")
        if template_type is not None and template_type not in ("sms", "email", "letter"):
            raise bad_request(f"template_type {template_type} is not one of [sms, email, letter]")
        wanted = set(statuses)
        if "failed" in wanted:
            wanted |= {"permanent-failure", "temporary-failure", "technical-failure"}
        found = [
            m
            for m in self.messages.values()
            if (m.key_type == "test") == (key.type == "test")
            and (reference is None or m.reference == reference)
            and (not wanted or m.status in wanted)
            and (template_type is None or m.type == template_type)
        ]
        found.sort(key=lambda m: m.created_at, reverse=True)
        if older_than is not None:
            pivot = self.find(key, older_than)
            found = [m for m in found if m.created_at < pivot.created_at]
        return found

    def receive_text(self, source_number: str, message: str) -> ReceivedText:
        text = ReceivedText(
            id=str(uuid.uuid4()),
            source_number=uk_mobile(source_number),
            destination_number=uk_mobile(self.config.inbound_number),
            message=message,
            received_at=self.now(),
        )
        self.received.append(text)
        return text
