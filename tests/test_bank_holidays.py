"""The built-in calendar is closed on the bank holidays of the council's region (from the list
shipped in govuk-bank-holidays, never fetched) as well as on the council's own closed dates.

The calendar is driven with a fixed clock, so what is offered does not depend on today."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import govuk_bank_holidays.bank_holidays as shipped_list  # type: ignore[import-untyped]
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.builtin import bank_holidays
from repairs_gateway.builtin.calendar import WEEKDAYS, BuiltinCalendar, CalendarSettings
from repairs_gateway.config.loader import ConfigError, parse_config
from repairs_gateway.demo.data import demo_document
from repairs_gateway.persistence.db import make_engine, make_sessionmaker
from repairs_gateway.ports import Address, BookingRequest, Contact, Job, SlotQuery, SlotUnavailable
from repairs_gateway.registry import discover_plugins

LONDON = ZoneInfo("Europe/London")
COUNCIL = "holiday-test"
JOB = Job(trade="plumbing", duration_minutes=60)
HOME = Address("100099000001", ("1 Test Street",), "NF1 1AA")
# Mondays of 2027 that are bank holidays in some regions only (GOV.UK's list).
SUMMER_ENGLAND = date(2027, 8, 30)  # Summer bank holiday in England, Wales and Northern Ireland
SUMMER_SCOTLAND = date(2027, 8, 2)  # Summer bank holiday in Scotland only
SECOND_JANUARY = date(2027, 1, 4)  # 2 January (substitute day), Scotland only
BATTLE_OF_THE_BOYNE = date(2027, 7, 12)  # Northern Ireland only
EARLY_MAY = date(2027, 5, 3)  # every region


def _clock_on(day: date) -> Callable[[], datetime]:
    return lambda: datetime.combine(day, time(9), LONDON)


@pytest.fixture
async def sessions(sqlite_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the migrated test database."""
    engine = make_engine(sqlite_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


CalendarFactory = Callable[..., BuiltinCalendar]


@pytest.fixture
def calendar(sessions: async_sessionmaker[AsyncSession]) -> CalendarFactory:
    """Builds a calendar open every day of the week, as of ``today``."""

    def build(today: date = date(2026, 12, 1), **settings: Any) -> BuiltinCalendar:
        window = {"start": "08:00", "end": "12:00", "weekdays": list(WEEKDAYS), "capacity": {"*": 2}}
        validated = CalendarSettings.model_validate({"windows": [window], **settings})
        return BuiltinCalendar(COUNCIL, validated, sessions, "Europe/London", clock=_clock_on(today))

    return build


async def offered_days(calendar: BuiltinCalendar, first: date, last: date) -> set[date]:
    slots = await calendar.slots(SlotQuery(COUNCIL, HOME, JOB, first, last))
    return {slot.start.astimezone(LONDON).date() for slot in slots}


@pytest.mark.parametrize(
    ("day", "closed_in", "open_in"),
    [
        (SUMMER_ENGLAND, "england-and-wales", "scotland"),
        (SUMMER_SCOTLAND, "scotland", "england-and-wales"),
        (SECOND_JANUARY, "scotland", "northern-ireland"),
        (BATTLE_OF_THE_BOYNE, "northern-ireland", "england-and-wales"),
    ],
)
async def test_a_window_on_a_regions_bank_holiday_is_offered_only_in_other_regions(
    calendar: CalendarFactory, day: date, closed_in: str, open_in: str
) -> None:
    week = (day - timedelta(days=1), day + timedelta(days=1))
    closed = await offered_days(calendar(bank_holidays=closed_in), *week)
    opened = await offered_days(calendar(bank_holidays=open_in), *week)
    assert closed == {week[0], week[1]}
    assert opened == {week[0], day, week[1]}


async def test_england_and_wales_is_the_default_region(calendar: CalendarFactory) -> None:
    assert await offered_days(calendar(), SUMMER_ENGLAND, SUMMER_ENGLAND) == set()
    assert await offered_days(calendar(), SUMMER_SCOTLAND, SUMMER_SCOTLAND) == {SUMMER_SCOTLAND}


async def test_a_council_with_no_bank_holidays_is_open_on_them(calendar: CalendarFactory) -> None:
    assert await offered_days(calendar(bank_holidays="none"), EARLY_MAY, EARLY_MAY) == {EARLY_MAY}
    for region in ("england-and-wales", "scotland", "northern-ireland"):
        assert await offered_days(calendar(bank_holidays=region), EARLY_MAY, EARLY_MAY) == set()


async def test_the_councils_own_closed_dates_close_it_too(calendar: CalendarFactory) -> None:
    own = EARLY_MAY + timedelta(days=1)
    offered = await offered_days(calendar(closed_dates=[own]), EARLY_MAY, own + timedelta(days=1))
    assert offered == {own + timedelta(days=1)}


async def test_booking_a_window_on_a_bank_holiday_is_refused_as_unavailable(
    calendar: CalendarFactory,
) -> None:
    english, scottish = calendar(), calendar(bank_holidays="scotland")
    [slot] = await scottish.slots(SlotQuery(COUNCIL, HOME, JOB, SUMMER_ENGLAND, SUMMER_ENGLAND))
    request = BookingRequest(COUNCIL, "HT-BANKHOL1", HOME, JOB, slot, "A dripping tap", Contact("Sam"))
    with pytest.raises(SlotUnavailable, match="closed on 2027-08-30"):
        await english.book(request)
    with pytest.raises(SlotUnavailable):
        await english.reschedule(await scottish.book(request), JOB, slot)


async def test_beyond_the_shipped_list_windows_are_offered_and_the_log_says_so_once(
    calendar: CalendarFactory, caplog: pytest.LogCaptureFixture
) -> None:
    known_until = bank_holidays.region_holidays("england-and-wales").known_until
    assert known_until is not None
    after = known_until + timedelta(days=1)  # New Year's Day, unknown to the list: not guessed at
    late = calendar(today=known_until - timedelta(days=10))
    with caplog.at_level(logging.WARNING, logger="repairs_gateway.builtin.calendar"):
        assert after in await offered_days(late, after, after + timedelta(days=3))
        await offered_days(late, after, after + timedelta(days=3))
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, warnings
    assert str(known_until) in warnings[0] and "closed_dates" in warnings[0]
    assert "govuk-bank-holidays" in warnings[0]


async def test_days_within_the_shipped_list_log_no_warning(
    calendar: CalendarFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="repairs_gateway.builtin.calendar"):
        await offered_days(calendar(), EARLY_MAY, EARLY_MAY + timedelta(days=7))
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_the_list_is_read_from_the_package_never_downloaded(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the bank holiday list was fetched from the network")

    monkeypatch.setattr(shipped_list.requests, "get", no_network)
    bank_holidays._shipped.cache_clear()
    bank_holidays.region_holidays.cache_clear()
    try:
        assert SECOND_JANUARY in bank_holidays.region_holidays("scotland").dates
        assert SECOND_JANUARY not in bank_holidays.region_holidays("england-and-wales").dates
    finally:
        bank_holidays._shipped.cache_clear()
        bank_holidays.region_holidays.cache_clear()


def test_the_regions_are_the_divisions_gov_uk_publishes() -> None:
    divisions = set(shipped_list.BankHolidays.ALL_DIVISIONS)
    assert set(bank_holidays.REGIONS) == {*divisions, "none"}


def test_an_unknown_region_is_refused_naming_the_field_and_the_choices() -> None:
    document = demo_document()
    document["councils"][0]["schedulers"][0]["settings"]["bank_holidays"] = "wales"
    with pytest.raises(ConfigError) as caught:
        parse_config(document, discover_plugins(), {})
    [problem] = caught.value.problems
    assert problem.startswith("council 'northfield':"), problem
    assert "bank_holidays" in problem
    for choice in ("england-and-wales", "scotland", "northern-ireland", "none"):
        assert choice in problem
