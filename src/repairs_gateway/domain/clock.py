"""Times and days as a resident reads them, in GOV.UK's style: 8am, 12:30pm, midday,
Monday 7 December. The API's own words (next steps, history, messages) use these, so that
every front-end and every text message says times the same way.

The resident site (``web/display.py``) has its own copy: it may import nothing of the gateway,
as it must work against any implementation of the standard."""

from __future__ import annotations

from datetime import datetime, time


def clock_time(moment: datetime | time) -> str:
    """A time of day: 8am, 12:30pm, midday, midnight."""
    if (moment.hour, moment.minute) == (12, 0):
        return "midday"
    if (moment.hour, moment.minute) == (0, 0):
        return "midnight"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def day(moment: datetime) -> str:
    """A day without its year: Monday 7 December."""
    return f"{moment:%A} {moment.day} {moment:%B}"


def between(start: datetime, end: datetime) -> str:
    """A window with its day: Monday 7 December between 8am and midday."""
    return f"{day(start)} between {clock_time(start)} and {clock_time(end)}"


def span(start: datetime | time, end: datetime | time) -> str:
    """A window's times alone: 8am to midday."""
    return f"{clock_time(start)} to {clock_time(end)}"
