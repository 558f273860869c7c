"""How the API's values read on the page: addresses, times and triage answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

# History times come in UTC; residents read them on UK clocks, and every council the
# standard serves is in the UK.
RESIDENTS_ZONE = ZoneInfo("Europe/London")


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


def day_text(moment: datetime) -> str:
    """A date as GOV.UK writes it: Monday 11 January 2027."""
    return f"{moment:%A} {moment.day} {moment:%B %Y}"


def window_text(window: dict[str, Any]) -> str:
    """An appointment window in words, in the council's time the API gives."""
    start = datetime.fromisoformat(str(window["start"]))
    end = datetime.fromisoformat(str(window["end"]))
    return f"{day_text(start)}, {window.get('label', '')} ({clock(start)} to {clock(end)})"


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
