"""The schema of the councils file (YAML). Field names are snake_case in the file.

Adaptor settings are left as plain mappings here and validated against each adaptor's
own settings model by the loader, once the adaptor has been found.
"""

from __future__ import annotations

import re
from datetime import time
from typing import Annotated, Any, Literal, get_args
from zoneinfo import available_timezones

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from repairs_gateway.domain.triage import ExitKind
from repairs_gateway.ports import Priority

OPTION_ID = r"^[a-z0-9-]{1,40}$"
TRADE = r"^[a-z][a-z-]{0,31}$"
SOR_CODE = r"^[A-Za-z0-9]{1,16}$"
MAX_TRIAGE_TIERS = 3


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class JobSpec(_Strict):
    """A bookable job at a triage leaf or in the SoR catalogue."""

    sor_code: Annotated[str, Field(pattern=SOR_CODE)] | None = None
    trade: Annotated[str, Field(pattern=TRADE)]
    priority: Priority = Priority.NORMAL
    duration_minutes: int = Field(ge=15, le=480)


class ExitSpec(_Strict):
    """An early exit: the resident is told what to do instead of booking online."""

    kind: ExitKind
    # Defaulted so that a missing message gets the sentence below, not "Field required".
    message: str = Field(default="", max_length=500, validate_default=True)

    @field_validator("message")
    @classmethod
    def _says_something(cls, message: str) -> str:
        if not message.strip():
            raise ValueError("an early exit needs a message telling the resident what to do instead")
        return message.strip()


class TriageOptionSpec(_Strict):
    """One answer to a triage question: leads to another question, a job or an exit."""

    id: Annotated[str, Field(pattern=OPTION_ID)]
    label: str = Field(min_length=1, max_length=120)
    next: TriageNodeSpec | None = None
    job: JobSpec | None = None
    exit: ExitSpec | None = None

    @model_validator(mode="after")
    def _exactly_one_outcome(self) -> TriageOptionSpec:
        given = [name for name in ("next", "job", "exit") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(
                f"option {self.id!r} must have exactly one of next, job or exit (has {given or 'none'})"
            )
        return self


class TriageNodeSpec(_Strict):
    """A triage question and its answers."""

    question: str = Field(min_length=1, max_length=200)
    options: list[TriageOptionSpec] = Field(min_length=1)

    @field_validator("options")
    @classmethod
    def _unique_ids(cls, options: list[TriageOptionSpec]) -> list[TriageOptionSpec]:
        seen: set[str] = set()
        for option in options:
            if option.id in seen:
                raise ValueError(f"option id {option.id!r} is used twice in one question")
            seen.add(option.id)
        return options


def triage_depth(node: TriageNodeSpec) -> int:
    """The number of tiers of questions under and including ``node``."""
    return 1 + max((triage_depth(o.next) for o in node.options if o.next), default=0)


class AdapterRef(_Strict):
    """Which adaptor serves a role, and its settings (validated by the adaptor's model)."""

    adapter: str = Field(min_length=1)
    settings: dict[str, Any] = Field(default_factory=dict)


class SchedulerRoute(AdapterRef):
    """A scheduler and the trades routed to it (``"*"`` for every other trade)."""

    name: Annotated[str, Field(pattern=r"^[a-z0-9-]{1,40}$")]
    trades: list[str] = Field(min_length=1)

    @field_validator("trades")
    @classmethod
    def _trade_names(cls, trades: list[str]) -> list[str]:
        for trade in trades:
            if trade != "*" and not re.fullmatch(TRADE, trade):
                raise ValueError(f"{trade!r} is not a trade name (lower case letters and '-') or '*'")
        return trades


class WindowLabel(_Strict):
    """A named appointment window. When a council lists windows, only backend slots that
    match one of them exactly are offered, under its label."""

    label: str = Field(min_length=1, max_length=40)
    start: time
    end: time

    @model_validator(mode="after")
    def _ordered(self) -> WindowLabel:
        if self.end <= self.start:
            raise ValueError(f"window {self.label!r} ends before it starts")
        return self


class ReminderSpec(_Strict):
    """When the reminder of an appointment goes."""

    days_before: int = Field(default=1, ge=0, le=14)
    at: time = time(18, 0)


class QuietHoursSpec(_Strict):
    """Hours (local time, possibly over midnight) in which no text is sent: texts wait."""

    start: time
    end: time


MessageKindName = Literal[
    "booking_confirmed",
    "appointment_moved",
    "repair_cancelled",
    "reminder",
    "status_changed",
    "staff_new_repair",
    "staff_needs_attention",
]
MESSAGE_KINDS: tuple[MessageKindName, ...] = get_args(MessageKindName)


class NotificationsSpec(AdapterRef):
    """How a council's messages are sent: the sender (``builtin-log`` records what would be
    sent, and needs no account), its template id per kind and channel, which kinds are on
    (a council whose scheduler texts residents itself turns confirmations off), the reminder,
    quiet hours for texts and the staff's address."""

    adapter: str = Field(default="builtin-log", min_length=1)
    templates: dict[MessageKindName, dict[Literal["sms", "email"], str]] = Field(default_factory=dict)
    send: list[MessageKindName] = Field(default_factory=lambda: list(MESSAGE_KINDS))
    reminder: ReminderSpec = Field(default_factory=ReminderSpec)
    quiet_hours: QuietHoursSpec | None = None
    staff_email: Annotated[str, Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$", max_length=254)] | None = None

    @model_validator(mode="after")
    def _templates_for_what_is_sent(self) -> NotificationsSpec:
        if self.adapter == "builtin-log":
            return self
        missing = []
        for kind in self.send:
            channels = ("email",) if kind.startswith("staff_") else ("sms", "email")
            missing += [f"{kind}.{c}" for c in channels if c not in self.templates.get(kind, {})]
        if missing:
            raise ValueError(f"templates: no template id for {', '.join(missing)} (turned on in send)")
        return self


class DuplicatesSpec(_Strict):
    """How a report that repeats an open repair of the same job is treated. At a communal
    area, a report whose open repair was reported within ``communal_window_days`` joins that
    repair (0: never joined). At a home, with ``refuse_at_homes``, a repeated report is
    refused naming the open repair unless the caller says it is a new problem; off by
    default, so that front-ends written before the rule (which never say so) keep working
    until the council turns it on."""

    communal_window_days: int = Field(default=30, ge=0, le=365)
    refuse_at_homes: bool = False


class CouncilSpec(_Strict):
    """One council: its backends, its triage tree and how it presents windows."""

    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")]
    name: str = Field(min_length=1, max_length=200)
    reference_prefix: Annotated[str, Field(pattern=r"^[A-Z]{2,6}$")]
    timezone: str = "Europe/London"
    days_per_page: int = Field(default=5, ge=1, le=14)
    horizon_days: int = Field(default=60, ge=7, le=365)
    addresses: AdapterRef
    schedulers: list[SchedulerRoute] = Field(min_length=1)
    works_orders: AdapterRef | None = None
    windows: list[WindowLabel] = Field(default_factory=list)
    triage: TriageNodeSpec
    sor_codes: dict[Annotated[str, Field(pattern=SOR_CODE)], JobSpec] = Field(default_factory=dict)
    notifications: NotificationsSpec = Field(default_factory=NotificationsSpec)
    duplicates: DuplicatesSpec = Field(default_factory=DuplicatesSpec)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        if zone not in available_timezones():
            raise ValueError(f"{zone!r} is not an IANA time zone")
        return zone

    @field_validator("triage")
    @classmethod
    def _at_most_three_tiers(cls, node: TriageNodeSpec) -> TriageNodeSpec:
        if triage_depth(node) > MAX_TRIAGE_TIERS:
            raise ValueError(f"the triage tree has more than {MAX_TRIAGE_TIERS} tiers")
        return node

    @model_validator(mode="after")
    def _unique_scheduler_names(self) -> CouncilSpec:
        # Problems name schedulers by name, and routes point at them by it. Routing itself
        # (each trade to one scheduler, each job to some) is checked by ``config.routing``.
        names = [s.name for s in self.schedulers]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"scheduler names must be unique: {', '.join(twice)} used more than once")
        return self


class CouncilFile(_Strict):
    """The whole file: a list of councils."""

    councils: list[dict[str, Any]] = Field(min_length=1)


TriageOptionSpec.model_rebuild()
