"""How the API's values read on the page: addresses, times and triage answers."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

# History times and windows may come in UTC; residents read them on UK clocks, and every
# council the standard serves is in the UK.
RESIDENTS_ZONE = ZoneInfo("Europe/London")

# A time on the 24-hour clock in the API's free text ("between 08:00 and 12:00"); not part of
# a longer number or a date-time (a colon, digit or "T" either side).
TWENTY_FOUR_HOUR = re.compile(r"(?<![\d:T])([01]\d|2[0-3]):([0-5]\d)(?![\d:])")


def address_text(address: dict[str, Any]) -> str:
    """An address on one line, with its postcode."""
    return ", ".join([*address.get("addressLines", []), str(address.get("postcode", ""))])


def clock(moment: datetime) -> str:
    """A time as GOV.UK writes it: 8am, 12:30pm, midday."""
    if moment.hour == 12 and moment.minute == 0:
        return "midday"
    if moment.hour == 0 and moment.minute == 0:
        return "midnight"
    hour = moment.hour % 12 or 12
    suffix = "am" if moment.hour < 12 else "pm"
    return f"{hour}{suffix}" if moment.minute == 0 else f"{hour}:{moment.minute:02d}{suffix}"


def day_text(moment: datetime | date) -> str:
    """A date as GOV.UK writes it: Monday 11 January 2027."""
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def short_day_text(day: date, today: date) -> str:
    """A day among the next few weeks': Monday 7 December, with the year only when it is
    not this year's (so that a January day offered in December is not read as last one's)."""
    return f"{day:%A} {day.day} {day:%B}" + (f" {day.year}" if day.year != today.year else "")


def uk_time(value: object) -> datetime:
    """A timestamp from the API on the UK clock (one without an offset is taken as it is)."""
    moment = datetime.fromisoformat(str(value))
    return moment.astimezone(RESIDENTS_ZONE) if moment.tzinfo is not None else moment


def slot_text(window: dict[str, Any]) -> str:
    """A window's label and times, without its day: Morning (8am to midday)."""
    start, end = uk_time(window["start"]), uk_time(window["end"])
    return f"{window.get('label', '')} ({clock(start)} to {clock(end)})"


def window_text(window: dict[str, Any]) -> str:
    """An appointment window in words, on the UK clock: the API may send it in UTC, which
    from March to October is an hour behind the resident's."""
    return f"{day_text(uk_time(window['start']))}, {slot_text(window)}"


def clock_words(text: str) -> str:
    """The API's free text with its 24-hour times written as GOV.UK writes times (08:00 as
    8am, 12:00 as midday); nothing else in it changes."""
    return TWENTY_FOUR_HOUR.sub(
        lambda found: clock(datetime(2000, 1, 1, int(found.group(1)), int(found.group(2)))), text
    )


def moment_text(value: str) -> str:
    """A timestamp in words."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(RESIDENTS_ZONE)
    return f"{day_text(moment)} at {clock(moment)}"


def triage_node(tree: dict[str, Any], path: list[str]) -> dict[str, Any] | None:
    """The question reached by answering ``path`` (option ids) from the first; None when
    the path leaves the tree or ends at an outcome."""
    node: dict[str, Any] | None = tree
    for step in path:
        option = find_option(node, step) if node else None
        node = option.get("next") if option else None
    return node


def find_option(node: dict[str, Any] | None, option_id: str) -> dict[str, Any] | None:
    """The option of ``node`` with ``option_id``."""
    for option in (node or {}).get("options", []):
        if option.get("id") == option_id:
            found: dict[str, Any] = option
            return found
    return None


def triage_labels(tree: dict[str, Any], path: str) -> list[str]:
    """The answers' labels along a leaf path (``kitchen/sink/blocked``)."""
    labels: list[str] = []
    node: dict[str, Any] | None = tree
    for step in path.split("/"):
        option = find_option(node, step)
        if option is None:
            break
        labels.append(str(option.get("label", step)))
        node = option.get("next")
    return labels
