"""How often the worker asks a scheduler about a booking (domain/polling.py): often near the
appointment, rarely weeks ahead or long after it, never once the repair is closed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from repairs_gateway.domain.polling import FAR, NEAR, SOON, next_poll_at, retry_poll_at

NOW = datetime(2025, 6, 2, 9, 0, tzinfo=UTC)


def after(**delta: float) -> datetime:
    return NOW + timedelta(**delta)


@pytest.mark.parametrize(
    ("start", "wait"),
    [
        (after(days=30), FAR),  # weeks ahead: once a day
        (after(days=7, minutes=1), FAR),
        (after(days=7), SOON),  # within the week: every three hours
        (after(days=2), SOON),
        (after(days=1, minutes=1), SOON),
        (after(days=1), NEAR),  # from the day before: every quarter of an hour
        (after(hours=2), NEAR),
        (NOW, NEAR),
        (after(hours=-6), NEAR),  # the day itself, and the day after
        (after(days=-1), NEAR),
        (after(days=-2), SOON),  # forgotten: the scheduler never closed it
        (after(days=-7), SOON),
        (after(days=-8), FAR),
    ],
)
def test_a_booked_repair_is_asked_about_more_often_as_its_appointment_nears(
    start: datetime, wait: timedelta
) -> None:
    assert next_poll_at(NOW, "booked", start) == NOW + wait


@pytest.mark.parametrize(
    ("start", "wait"),
    [
        (after(hours=-2), NEAR),  # work under way today
        (after(hours=1), NEAR),  # started early
        (after(days=5), NEAR),  # whatever the window said, the operative is there
        (after(days=-3), SOON),  # "in progress" for days: asked less often
        (after(days=-10), FAR),
        (None, NEAR),
    ],
)
def test_work_under_way_is_asked_about_often_until_it_has_gone_on_for_days(
    start: datetime | None, wait: timedelta
) -> None:
    assert next_poll_at(NOW, "in_progress", start) == NOW + wait


def test_a_booking_without_a_window_is_asked_about_every_few_hours() -> None:
    assert next_poll_at(NOW, "booked", None) == NOW + SOON


@pytest.mark.parametrize("status", ["completed", "cancelled", "received", "booking", "needs_attention"])
def test_closed_or_unbooked_repairs_are_never_polled(status: str) -> None:
    assert next_poll_at(NOW, status, after(hours=2)) is None
    assert retry_poll_at(NOW, status, after(hours=2)) is None


def test_a_poll_that_failed_is_tried_again_at_the_usual_time_but_within_a_few_hours() -> None:
    assert retry_poll_at(NOW, "booked", after(hours=2)) == NOW + NEAR
    assert retry_poll_at(NOW, "booked", after(days=3)) == NOW + SOON
    assert retry_poll_at(NOW, "booked", after(days=30)) == NOW + SOON  # not a day later


def test_the_cadence_follows_the_clock_as_an_appointment_comes_and_goes() -> None:
    start = after(days=10)
    now, waits = NOW, []
    while now < start + timedelta(days=10):
        due = next_poll_at(now, "booked", start)
        assert due is not None and due > now  # never at once: the worker cannot spin
        waits.append(due - now)
        now = due
    assert waits[0] == FAR and waits[-1] == FAR
    # Every quarter of an hour for the day before and the day after (both ends included)...
    assert waits.count(NEAR) == 2 * 24 * 4 + 1
    # ... every three hours for the rest of the week either side, once a day beyond.
    assert waits.count(SOON) == 2 * 6 * 8
    assert waits.count(FAR) == 2 * 3
