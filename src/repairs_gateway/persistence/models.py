"""The gateway's tables. Migrations in ``migrations/`` must match these."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class UTCDateTime(TypeDecorator[datetime]):
    """Timestamps stored in UTC and read back timezone-aware, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    """Now, timezone-aware."""
    return datetime.now(UTC)


class Base(DeclarativeBase):
    """Declarative base of the gateway's tables."""


class ApiClient(Base):
    """A front-end allowed to call the API; only a hash of its key is kept."""

    __tablename__ = "api_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # "resident" (a front-end for residents) or "staff" (may list repairs and retry jobs).
    scope: Mapped[str] = mapped_column(String(16), default="resident")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Set by `clients revoke`: the key is refused from then on. The row stays, since repairs
    # name the client that reported them.
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class ApiClientCouncil(Base):
    """A council an API client may use."""

    __tablename__ = "api_client_councils"

    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id", ondelete="CASCADE"), primary_key=True)
    council_id: Mapped[str] = mapped_column(String(63), primary_key=True)


class RegisterAddress(Base):
    """A property in the built-in address register."""

    __tablename__ = "register_addresses"
    # The lookup by postcode filters on the first two and orders by the third, so this index
    # answers it alone at any size; without uprn here a planner with no statistics took the
    # primary key for its order and scanned the whole council.
    __table_args__ = (Index("ix_register_addresses_postcode_uprn", "council_id", "postcode", "uprn"),)

    council_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    uprn: Mapped[str] = mapped_column(String(12), primary_key=True)
    lines: Mapped[list[str]] = mapped_column(JSON)
    postcode: Mapped[str] = mapped_column(String(8))
    kind: Mapped[str] = mapped_column(String(16))
    property_ref: Mapped[str | None] = mapped_column(String(32), nullable=True)


class KnownProperty(Base):
    """The backend's own reference of a property an address source answered, kept so that
    a source that cannot look up by UPRN (UH) can be asked by that reference later, from any
    process (``PropertyLookup``). Eligibility is not kept: it is asked again each time."""

    __tablename__ = "known_properties"

    council_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    uprn: Mapped[str] = mapped_column(String(12), primary_key=True)
    property_ref: Mapped[str] = mapped_column(String(32))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Repair(Base):
    """A repair a resident reported: stored before any backend is called."""

    __tablename__ = "repairs"
    __table_args__ = (
        UniqueConstraint("council_id", "client_id", "idempotency_key", name="uq_repairs_idempotency"),
        Index("ix_repairs_council_status", "council_id", "status", "created_at"),
        # The open repairs at one property, looked up before a report is recorded (duplicates).
        Index("ix_repairs_council_uprn", "council_id", "uprn"),
        # A scheduler's push may name a repair by the works order it was filed under (DRS).
        Index("ix_repairs_council_works_order", "council_id", "works_order_ref"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    reference: Mapped[str] = mapped_column(String(16), unique=True)
    council_id: Mapped[str] = mapped_column(String(63), index=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("api_clients.id"))
    uprn: Mapped[str] = mapped_column(String(12))
    triage_path: Mapped[str | None] = mapped_column(String(200), nullable=True)
    trade: Mapped[str] = mapped_column(String(32))
    duration_minutes: Mapped[int] = mapped_column(Integer)
    priority: Mapped[int] = mapped_column(Integer)
    sor_code: Mapped[str | None] = mapped_column(String(16), nullable=True)
    description: Mapped[str] = mapped_column(Text)
    contact_name: Mapped[str] = mapped_column(String(100))
    contact_phone: Mapped[str | None] = mapped_column(String(21), nullable=True)
    contact_email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    preferred_channel: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    scheduler: Mapped[str | None] = mapped_column(String(40), nullable=True)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    window_label: Mapped[str | None] = mapped_column(String(40), nullable=True)
    backend_refs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    works_order_ref: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The backend's own handle of the window asked for or booked (Slot.ref).
    window_ref: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # A change holds the repair until ``lease_until`` (renewed while its process lives);
    # ``attempt`` names the holder, so a holder that lost its lease cannot write.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    attempt: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # What a change is about to do to a backend (domain.repair.Intent), stored before it is
    # done and cleared once its outcome is: any process can finish it after a crash.
    intent: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    # Why the last backend call failed, or why a person is needed; for staff, never residents.
    backend_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The property as it was when reported, for staff messages (never re-fetched).
    address_lines: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    # When the worker next asks the scheduler for this booking's status (None: never).
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True, index=True)
    # A message to the resident failed for good: staff must reach them another way.
    contact_failed: Mapped[bool] = mapped_column(Boolean, default=False)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    # The first answer to the request that made it with an Idempotency-Key ({"status": int,
    # "body": {...}}): a retry is answered exactly this, whatever the repair does since.
    first_answer: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class CalendarLoad(Base):
    """How many jobs the built-in calendar has booked into one window for one trade."""

    __tablename__ = "calendar_load"

    council_id: Mapped[str] = mapped_column(String(63), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    window: Mapped[str] = mapped_column(String(11), primary_key=True)  # "08:00-12:00"
    bucket: Mapped[str] = mapped_column(String(32), primary_key=True)  # a trade, or "*"
    booked: Mapped[int] = mapped_column(Integer, default=0)


class CalendarBooking(Base):
    """A booking in the built-in calendar, so cancel and reschedule free the right window."""

    __tablename__ = "calendar_bookings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    council_id: Mapped[str] = mapped_column(String(63))
    reference: Mapped[str] = mapped_column(String(16), index=True)
    day: Mapped[date] = mapped_column(Date)
    window: Mapped[str] = mapped_column(String(11))
    bucket: Mapped[str] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Job(Base):
    """Work for the worker (the durable queue): settle a crashed change, book a repair
    whose backend was down, withdraw what a failed change left behind."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claimable", "state", "run_after"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    # Unique: enqueuing the same work twice makes one job.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    council_id: Mapped[str | None] = mapped_column(String(63), nullable=True)
    repair_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    # The backend the job waits on ("council/scheduler"): a success there brings forward
    # the other jobs waiting on it.
    backend: Mapped[str | None] = mapped_column(String(120), nullable=True, index=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    state: Mapped[str] = mapped_column(String(12), default="queued")  # queued running done dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=100)
    run_after: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    claim: Mapped[str | None] = mapped_column(String(32), nullable=True)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RepairEvent(Base):
    """Something that happened to a repair, dated: its history (domain.history says which
    a resident sees and in what words)."""

    __tablename__ = "repair_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repair_id: Mapped[int] = mapped_column(ForeignKey("repairs.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))
    # What the event is about, e.g. the appointment's window; never backend error text.
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Message(Base):
    """A message to a resident or to staff: recorded before it is sent, so a crash between
    sending and recording is settled by asking the sender, never by sending again."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Unique per repair, kind and appointment (or event): one message, however often tried.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    repair_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    council_id: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(8))
    recipient: Mapped[str] = mapped_column(String(254))
    # sending (handed to the sender, outcome not yet recorded), sent, delivered, failed
    state: Mapped[str] = mapped_column(String(12), default="sending")
    sender_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class RepairContact(Base):
    """Another resident who reported the same communal repair: told of it from then on."""

    __tablename__ = "repair_contacts"
    __table_args__ = (
        # A report that joined a repair keeps its Idempotency-Key, so a retry replays the join.
        UniqueConstraint("client_id", "idempotency_key", "repair_id", name="uq_repair_contacts_idempotency"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    repair_id: Mapped[int] = mapped_column(ForeignKey("repairs.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(21), nullable=True)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    preferred_channel: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The API client and Idempotency-Key of the report that joined (None: added otherwise).
    client_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(255), nullable=True)
    request_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
