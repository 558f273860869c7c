"""The built-in appointment calendar, for councils without a scheduler.

Windows repeat per weekday with a capacity per trade; booking consumes capacity with one
conditional UPDATE (``booked < capacity``), which is atomic on SQLite and PostgreSQL alike,
so racing bookings of a last place make exactly one booking. The calendar is closed on the
bank holidays of the council's region and on the council's own closed dates.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.builtin.bank_holidays import Region, region_holidays, source_version
from repairs_gateway.builtin.database_errors import typed_database_errors
from repairs_gateway.persistence.models import CalendarBooking, CalendarLoad
from repairs_gateway.persistence.upsert import insert_ignore
from repairs_gateway.ports import (
    AdapterContext,
    Booking,
    BookingRequest,
    BookingState,
    BookingStatus,
    Job,
    NotFound,
    Slot,
    SlotQuery,
    SlotUnavailable,
)
from repairs_gateway.ports.trades import ANY_TRADE, TRADE_KEYED

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
log = logging.getLogger(__name__)


class CalendarWindow(BaseModel):
    """A window that repeats on some weekdays, with a capacity per trade (``*``: any other)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: time
    end: time
    weekdays: list[Weekday] = Field(default_factory=lambda: list(WEEKDAYS[:5]), min_length=1)
    # Keyed by trade: the councils file check refuses a key that is not one of the council's.
    capacity: dict[str, int] = Field(min_length=1, json_schema_extra=TRADE_KEYED)

    @model_validator(mode="after")
    def _valid(self) -> CalendarWindow:
        if self.end <= self.start:
            raise ValueError("a window must end after it starts")
        if any(n < 0 for n in self.capacity.values()):
            raise ValueError("capacity cannot be negative")
        return self

    @property
    def key(self) -> str:
        """The window's name in the tables: ``08:00-12:00``."""
        return f"{self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def minutes(self) -> int:
        """The window's length."""
        return (self.end.hour * 60 + self.end.minute) - (self.start.hour * 60 + self.start.minute)

    def bucket(self, trade: str) -> str | None:
        """Which capacity a trade draws on, or None when this window takes no such job."""
        if trade in self.capacity:
            return trade
        return ANY_TRADE if ANY_TRADE in self.capacity else None


class CalendarSettings(BaseModel):
    """Settings of the built-in calendar."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    lead_time_days: int = Field(default=1, ge=0, le=60)
    windows: list[CalendarWindow] = Field(min_length=1)
    closed_dates: list[date] = Field(default_factory=list)
    bank_holidays: Region = Field(
        default="england-and-wales",
        description="Whose bank holidays close the calendar: england-and-wales, scotland, "
        "northern-ireland, or none.",
    )

    @model_validator(mode="after")
    def _distinct(self) -> CalendarSettings:
        for day in WEEKDAYS:
            keys = [w.key for w in self.windows if day in w.weekdays]
            if len(keys) != len(set(keys)):
                raise ValueError(f"two windows with the same times on {day}")
        return self

    def cannot_take(self, trade: str, duration_minutes: int) -> str | None:
        """Why no window of this calendar could ever be offered for such a job, or None
        (the councils file check asks, so that a job routed here is bookable)."""
        open_to = [w for w in self.windows if (b := w.bucket(trade)) is not None and w.capacity[b] > 0]
        if not open_to:
            return f'no window has capacity for {trade!r} or "*"'
        if all(duration_minutes > w.minutes for w in open_to):
            longest = max(w.minutes for w in open_to)
            return f"it takes {duration_minutes} minutes and its longest window for {trade!r} is {longest}"
        return None


def _ref(day: date, window: CalendarWindow) -> str:
    return f"{day.isoformat()}|{window.key}"


class BuiltinCalendar:
    """A ``Scheduler`` over the gateway's own tables."""

    def __init__(
        self,
        council_id: str,
        settings: CalendarSettings,
        sessions: async_sessionmaker[AsyncSession],
        timezone: str,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        """``clock`` answers the current time (aware); the system's when None."""
        self._council = council_id
        self._settings = settings
        self._sessions = sessions
        self._zone = ZoneInfo(timezone)
        self._clock = clock
        self._holidays = region_holidays(settings.bank_holidays)
        self._closed = frozenset(settings.closed_dates) | self._holidays.dates
        self._warned_unknown = False

    def _now(self) -> datetime:
        return self._clock().astimezone(self._zone) if self._clock else datetime.now(self._zone)

    def _today(self) -> date:
        return self._now().date()

    def _warn_if_unknown(self, last_day: date) -> None:
        # Dates past the shipped list are offered rather than guessed at: said once per
        # calendar so an operator can upgrade the package or list the days in closed_dates.
        if self._warned_unknown or not self._holidays.unknown_after(last_day):
            return
        self._warned_unknown = True
        log.warning(
            "builtin-calendar for %s: %s bank holidays are known only until %s (%s); windows after "
            "that are offered even on bank holidays: upgrade the package or add them to closed_dates",
            self._council,
            self._holidays.region,
            self._holidays.known_until,
            source_version(),
        )

    def _windows_on(self, day: date) -> list[CalendarWindow]:
        if day in self._closed:
            return []
        weekday = WEEKDAYS[day.weekday()]
        return [w for w in self._settings.windows if weekday in w.weekdays]

    def _slot(self, day: date, window: CalendarWindow) -> Slot:
        start = datetime.combine(day, window.start, self._zone)
        end = datetime.combine(day, window.end, self._zone)
        return Slot(start, end, _ref(day, window))

    def _locate(self, slot: Slot, job: Job) -> tuple[date, CalendarWindow, str]:
        """The day, window and capacity bucket a slot stands for; SlotUnavailable otherwise."""
        local = slot.start.astimezone(self._zone)
        day = local.date()
        first_bookable = self._today() + timedelta(days=self._settings.lead_time_days)
        for window in self._windows_on(day):
            if _ref(day, window) == slot.ref and day >= first_bookable:
                bucket = window.bucket(job.trade)
                if bucket is not None and job.duration_minutes <= window.minutes:
                    return day, window, bucket
        if day in self._closed:
            raise SlotUnavailable(f"the council is closed on {day.isoformat()}")
        raise SlotUnavailable("that window is not offered")

    @typed_database_errors
    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        """Windows with room for the job's trade on the query's days."""
        first = max(query.first_day, self._today() + timedelta(days=self._settings.lead_time_days))
        if first > query.last_day:
            return []
        self._warn_if_unknown(query.last_day)
        async with self._sessions() as session:
            rows = await session.execute(
                select(CalendarLoad.day, CalendarLoad.window, CalendarLoad.bucket, CalendarLoad.booked)
                .where(CalendarLoad.council_id == self._council)
                .where(CalendarLoad.day.between(first, query.last_day))
            )
            load = {(day, window, bucket): booked for day, window, bucket, booked in rows}
        now = self._now()
        offered: list[Slot] = []
        day = first
        while day <= query.last_day:
            for window in self._windows_on(day):
                bucket = window.bucket(query.job.trade)
                if bucket is None or query.job.duration_minutes > window.minutes:
                    continue
                slot = self._slot(day, window)
                if slot.start > now and load.get((day, window.key, bucket), 0) < window.capacity[bucket]:
                    offered.append(slot)
            day += timedelta(days=1)
        return sorted(offered, key=lambda s: (s.start, s.end))

    async def _take(self, session: AsyncSession, day: date, window: CalendarWindow, bucket: str) -> None:
        key = {"council_id": self._council, "day": day, "window": window.key, "bucket": bucket}
        # The insert comes first so that on SQLite the transaction takes the write lock at
        # once instead of failing to upgrade a read lock under contention.
        await insert_ignore(session, CalendarLoad, {**key, "booked": 0})
        result = await session.execute(
            update(CalendarLoad)
            .where(*(getattr(CalendarLoad, name) == value for name, value in key.items()))
            .where(CalendarLoad.booked < window.capacity[bucket])
            .values(booked=CalendarLoad.booked + 1)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            raise SlotUnavailable("that window is full")

    async def _release(self, session: AsyncSession, reference: str) -> bool:
        rows = (
            await session.scalars(
                select(CalendarBooking)
                .where(CalendarBooking.council_id == self._council)
                .where(CalendarBooking.reference == reference)
                .where(CalendarBooking.active.is_(True))
            )
        ).all()
        for row in rows:
            row.active = False
            await session.execute(
                update(CalendarLoad)
                .where(CalendarLoad.council_id == self._council)
                .where(CalendarLoad.day == row.day)
                .where(CalendarLoad.window == row.window)
                .where(CalendarLoad.bucket == row.bucket)
                .where(CalendarLoad.booked > 0)
                .values(booked=CalendarLoad.booked - 1)
            )
        return bool(rows)

    @typed_database_errors
    async def book(self, request: BookingRequest) -> Booking:
        """Take one place in the slot's window; SlotUnavailable when it is full."""
        day, window, bucket = self._locate(request.slot, request.job)
        async with self._sessions.begin() as session:
            await self._take(session, day, window, bucket)
            row = CalendarBooking(
                council_id=self._council,
                reference=request.reference,
                day=day,
                window=window.key,
                bucket=bucket,
                active=True,
            )
            session.add(row)
            await session.flush()
            return Booking(request.reference, {"calendarBookingId": str(row.id)})

    @typed_database_errors
    async def reschedule(self, booking: Booking, job: Job, slot: Slot) -> Booking:
        """Take the new window, then free the old one, in one transaction."""
        day, window, bucket = self._locate(slot, job)
        async with self._sessions.begin() as session:
            await self._take(session, day, window, bucket)
            await self._release(session, booking.reference)
            row = CalendarBooking(
                council_id=self._council,
                reference=booking.reference,
                day=day,
                window=window.key,
                bucket=bucket,
                active=True,
            )
            session.add(row)
            await session.flush()
            return Booking(booking.reference, {"calendarBookingId": str(row.id)})

    @typed_database_errors
    async def cancel(self, booking: Booking) -> None:
        """Free the booking's window; a second cancel does nothing."""
        async with self._sessions.begin() as session:
            await self._release(session, booking.reference)

    @typed_database_errors
    async def status(self, booking: Booking) -> BookingState:
        """Booked with its times while active; cancelled once released."""
        async with self._sessions() as session:
            rows = (
                await session.scalars(
                    select(CalendarBooking)
                    .where(CalendarBooking.council_id == self._council)
                    .where(CalendarBooking.reference == booking.reference)
                    .order_by(CalendarBooking.id.desc())
                )
            ).all()
        if not rows:
            raise NotFound("no such booking")
        latest = rows[0]
        if not latest.active:
            return BookingState(BookingStatus.CANCELLED)
        start_text, end_text = latest.window.split("-")
        start = datetime.combine(latest.day, time.fromisoformat(start_text), self._zone)
        end = datetime.combine(latest.day, time.fromisoformat(end_text), self._zone)
        return BookingState(BookingStatus.BOOKED, start, end)


def build_calendar(settings: CalendarSettings, context: AdapterContext) -> BuiltinCalendar:
    """The plugin factory."""
    if context.database is None:
        raise ValueError("the built-in calendar needs the gateway's database")
    return BuiltinCalendar(context.council_id, settings, context.database, context.timezone)
