"""The rules of messages and history, without sending: which events a change makes, when a
reminder goes, and when quiet hours hold a text."""

from __future__ import annotations

from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

import pytest

from repairs_gateway.domain.history import RESIDENT_EVENTS, EventKind, describe, events_for
from repairs_gateway.domain.messages import (
    FOR_RESIDENTS,
    FOR_STAFF,
    STAFF_KINDS,
    MessageKind,
    channel_for,
    quiet_until,
    reminder_at,
)

LONDON = ZoneInfo("Europe/London")
MON_8 = datetime(2026, 12, 7, 8, tzinfo=UTC)
MON_12 = datetime(2026, 12, 7, 12, tzinfo=UTC)
TUE_8 = datetime(2026, 12, 8, 8, tzinfo=UTC)
TUE_12 = datetime(2026, 12, 8, 12, tzinfo=UTC)
NONE = (None, None)


@pytest.mark.parametrize(
    ("before", "after", "old", "new", "expected"),
    [
        ("booking", "booked", NONE, (MON_8, MON_12), [EventKind.BOOKED]),
        ("received", "booked", NONE, (MON_8, MON_12), [EventKind.BOOKED]),
        ("booked", "booked", (MON_8, MON_12), (TUE_8, TUE_12), [EventKind.MOVED]),
        ("booked", "booked", (MON_8, MON_12), (MON_8, MON_12), []),
        ("booked", "in_progress", (MON_8, MON_12), (MON_8, MON_12), [EventKind.IN_PROGRESS]),
        ("in_progress", "completed", (MON_8, MON_12), (MON_8, MON_12), [EventKind.COMPLETED]),
        ("booked", "cancelled", (MON_8, MON_12), (MON_8, MON_12), [EventKind.CANCELLED]),
        ("booking", "needs_attention", NONE, (MON_8, MON_12), [EventKind.NEEDS_ATTENTION]),
        ("booking", "received", NONE, (MON_8, MON_12), []),  # the backend was down: nothing to tell yet
        ("received", "booking", NONE, (MON_8, MON_12), []),
    ],
)
def test_each_change_makes_the_events_a_resident_or_staff_would_expect(
    before: str,
    after: str,
    old: tuple[datetime | None, datetime | None],
    new: tuple[datetime, datetime],
    expected: list[EventKind],
) -> None:
    assert [kind for kind, _ in events_for(before, after, old, new, "Morning")] == expected


def test_a_booked_event_names_its_window_in_the_residents_words() -> None:
    [(kind, detail)] = events_for("booking", "booked", NONE, (MON_8, MON_12), "Morning")
    assert (
        describe(kind, detail, LONDON)
        == "An appointment was booked for Monday 7 December between 8am and midday."
    )
    assert EventKind.NEEDS_ATTENTION not in RESIDENT_EVENTS


def test_residents_and_staff_get_their_own_messages() -> None:
    assert FOR_RESIDENTS[EventKind.BOOKED] == MessageKind.BOOKING_CONFIRMED
    assert FOR_STAFF[EventKind.REPORTED] == MessageKind.STAFF_NEW_REPAIR
    assert FOR_STAFF[EventKind.MESSAGE_FAILED] == MessageKind.STAFF_NEEDS_ATTENTION
    assert not set(FOR_RESIDENTS.values()) & STAFF_KINDS
    assert (channel_for("email"), channel_for("sms"), channel_for("phone")) == ("email", "sms", "sms")


def test_the_reminder_goes_the_day_before_at_six_local_time_in_summer_and_winter() -> None:
    winter = reminder_at(datetime(2026, 12, 7, 8, tzinfo=UTC), LONDON, 1, time(18, 0))
    assert winter == datetime(2026, 12, 6, 18, tzinfo=UTC)
    summer = reminder_at(datetime(2026, 7, 7, 7, tzinfo=UTC), LONDON, 1, time(18, 0))
    assert summer == datetime(2026, 7, 6, 17, tzinfo=UTC)  # 18:00 BST


@pytest.mark.parametrize(
    ("now_local", "start", "end", "until"),
    [
        ("22:30", "21:00", "08:00", "next 08:00"),
        ("07:59", "21:00", "08:00", "08:00"),
        ("08:00", "21:00", "08:00", None),
        ("20:59", "21:00", "08:00", None),
        ("13:00", "12:00", "14:00", "14:00"),
        ("14:00", "12:00", "14:00", None),
    ],
)
def test_quiet_hours_hold_texts_until_they_end_even_over_midnight(
    now_local: str, start: str, end: str, until: str | None
) -> None:
    hour, minute = map(int, now_local.split(":"))
    now = datetime(2026, 12, 7, hour, minute, tzinfo=LONDON)
    found = quiet_until(now, LONDON, time.fromisoformat(start), time.fromisoformat(end))
    if until is None:
        assert found is None
        return
    day = 8 if until.startswith("next") else 7
    at = time.fromisoformat(until.removeprefix("next "))
    assert found == datetime(2026, 12, day, at.hour, at.minute, tzinfo=LONDON)
