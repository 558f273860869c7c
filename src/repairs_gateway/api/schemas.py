"""Request and response bodies of the Repairs API, camelCase on the wire."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    WithJsonSchema,
    model_validator,
)
from pydantic.alias_generators import to_camel

from repairs_gateway.domain.postcodes import MAX_INPUT, InvalidPostcode, normalise_postcode, not_a_postcode

UPRN_PATTERN = r"^[0-9]{1,12}$"
Uprn = Annotated[str, StringConstraints(pattern=UPRN_PATTERN)]


def _postcode(value: object) -> object:
    """A postcode as given, once it reads as one; every way of not being one gets one wording."""
    # Checked before pydantic's own type and length checks, whose messages say other things.
    if not isinstance(value, str):
        raise ValueError(not_a_postcode(value))
    try:
        normalise_postcode(value)
    except InvalidPostcode as exc:
        raise ValueError(str(exc)) from None
    return value


Postcode = Annotated[
    str,
    BeforeValidator(_postcode),
    WithJsonSchema({"type": "string", "minLength": 5, "maxLength": MAX_INPUT}),
]
"""A UK postcode in a query or a body, in any case and spacing (normalised by the service)."""


class Wire(BaseModel):
    """camelCase aliases; unknown fields are refused, so a typo is named, not ignored."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


# ------------------------------------------------------------------ requests


def _integral(value: object) -> object:
    """JSON Schema counts 60.0 as an integer; strings and booleans stay refused."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _stripped(value: str) -> str:
    """Leading and trailing spaces dropped; nothing but spaces is refused."""
    if "\x00" in value:
        raise ValueError("must not contain the NUL character")
    if not value.strip():
        raise ValueError("must contain more than spaces")
    return value.strip()


class RepairSpecIn(Wire):
    """The repair, named in exactly one of three ways."""

    triage_path: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    sor_code: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9]{1,16}$")] | None = None
    trade: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z-]{0,31}$")] | None = None
    duration_minutes: Annotated[int, BeforeValidator(_integral), Field(ge=15, le=480, strict=True)] | None = (
        None
    )

    @model_validator(mode="after")
    def _one_form(self) -> RepairSpecIn:
        forms = [
            self.triage_path is not None,
            self.sor_code is not None,
            self.trade is not None or self.duration_minutes is not None,
        ]
        if sum(forms) != 1:
            raise ValueError("give exactly one of triagePath, sorCode, or trade with durationMinutes")
        if forms[2] and (self.trade is None or self.duration_minutes is None):
            raise ValueError("trade and durationMinutes go together")
        return self


class ContactIn(Wire):
    """How to reach the resident."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=100), AfterValidator(_stripped)]
    phone: Annotated[str, StringConstraints(pattern=r"^\+?[0-9][0-9 ()-]{6,19}$")] | None = None
    email: (
        Annotated[str, StringConstraints(max_length=254, pattern=r"^[^@\s\x00]+@[^@\s\x00]+\.[^@\s\x00]+$")]
        | None
    ) = None
    preferred_channel: Literal["phone", "sms", "email"]

    @model_validator(mode="after")
    def _reachable(self) -> ContactIn:
        if self.phone is None and self.email is None:
            raise ValueError("give a phone number or an email address")
        return self

    def missing_for_channel(self) -> str | None:
        """The field the preferred channel needs and lacks (checked after the schema, so that
        the error names ``contact.phone`` or ``contact.email``)."""
        if self.preferred_channel in ("phone", "sms") and self.phone is None:
            return "phone"
        if self.preferred_channel == "email" and self.email is None:
            return "email"
        return None


class RepairIn(Wire):
    """A createRepair body."""

    uprn: Uprn
    repair: RepairSpecIn
    description: Annotated[str, StringConstraints(min_length=1, max_length=2000), AfterValidator(_stripped)]
    contact: ContactIn
    window_id: Annotated[str, StringConstraints(min_length=1, max_length=2048)] | None = None
    new_problem: Annotated[bool, Field(strict=True)] = False


class RescheduleIn(Wire):
    """A rescheduleRepair body."""

    window_id: Annotated[str, StringConstraints(min_length=1, max_length=2048)]


# ------------------------------------------------------------------ responses


class Council(Wire):
    """A council the caller may use."""

    id: str
    name: str


class CouncilList(Wire):
    """listCouncils."""

    councils: list[Council]


class AddressOut(Wire):
    """An eligible property."""

    uprn: str
    address_lines: list[str]
    postcode: str
    kind: Literal["dwelling", "communal"]


class AddressList(Wire):
    """listAddresses."""

    postcode: str
    addresses: list[AddressOut]


class JobOut(Wire):
    """What will be booked."""

    sor_code: str | None
    trade: str
    priority: int
    duration_minutes: int


class WindowOut(Wire):
    """A free window; ``id`` is what createRepair and rescheduleRepair take."""

    id: str
    label: str
    start: datetime
    end: datetime


class AppointmentDay(Wire):
    """The free windows of one day."""

    date: date
    windows: list[WindowOut]


class AppointmentPage(Wire):
    """listAppointments."""

    days: list[AppointmentDay]
    next_cursor: str | None


class AppointmentOut(Wire):
    """A booked window."""

    start: datetime
    end: datetime
    label: str


HistoryType = Literal[
    "reported",
    "joined",
    "booked",
    "moved",
    "reminder_sent",
    "in_progress",
    "completed",
    "cancelled",
    "message_failed",
]


class HistoryEventOut(Wire):
    """Something that happened to a repair, in the resident's words; ``appointment`` only
    where the event names one (left out otherwise, never null)."""

    at: datetime
    type: HistoryType
    description: str
    appointment: AppointmentOut | None = Field(default=None, exclude_if=lambda v: v is None)


class RepairOut(Wire):
    """A repair, as createRepair, getRepair, cancelRepair and rescheduleRepair answer it."""

    reference: str
    council_id: str
    uprn: str
    status: Literal["received", "booked", "in_progress", "completed", "cancelled"]
    job: JobOut
    triage_path: str | None
    description: str
    appointment: AppointmentOut | None
    next_steps: str
    history: list[HistoryEventOut]
    created_at: datetime
    updated_at: datetime


# ------------------------------------------------------------------ staff

LifecycleStatus = Literal[
    "received", "booking", "booked", "in_progress", "completed", "cancelled", "needs_attention"
]


class QueueStateOut(Wire):
    """The newest job of a repair: the work the gateway does for it without a request."""

    kind: str
    state: Literal["queued", "running", "done", "dead"]
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None


class StaffRepairOut(Wire):
    """A repair as listRepairs and retryRepair answer it, for a council's staff."""

    reference: str
    council_id: str
    uprn: str
    status: LifecycleStatus
    public_status: Literal["received", "booked", "in_progress", "completed", "cancelled"]
    job: JobOut
    triage_path: str | None
    appointment: AppointmentOut | None
    requested_window: AppointmentOut | None
    last_error: str | None
    contact_failed: bool
    queue: QueueStateOut | None
    age_minutes: int
    created_at: datetime
    updated_at: datetime


class StaffRepairPage(Wire):
    """listRepairs."""

    repairs: list[StaffRepairOut]
    next_cursor: str | None
