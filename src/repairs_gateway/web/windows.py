"""Appointment windows, five days (the council's page) at a time, for a new repair and for
moving one. The API's cursors stay in the session: the page's URL holds only its number."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from repairs_gateway.web.display import RESIDENTS_ZONE, short_day_text, slot_text, uk_time
from repairs_gateway.web.site import site_of

# Each page's cursor is kept in the session cookie, which browsers cap at 4 KB: ten pages
# (fifty bookable days, beyond most councils' booking horizon) leave room for the rest.
MAX_PAGES = 10

TAKEN = "The time you chose has just been booked by someone else. Choose another time."


@dataclass(frozen=True)
class WindowSearch:
    """Which windows a page shows: the property, the repair (in one of the spec's forms) and
    where in the session the pages' cursors are kept."""

    uprn: str
    repair: dict[str, str]
    cursors_key: str


def page_number(request: Request) -> int:
    """The ``page`` query parameter, 1 when absent or not a number in range."""
    raw = request.query_params.get("page", "1")
    return int(raw) if raw.isdigit() and 1 <= int(raw) <= MAX_PAGES else 1


async def fetch_page(request: Request, search: WindowSearch, page: int) -> tuple[int, dict[str, Any]]:
    """The page of windows numbered ``page`` (or the first, when its cursor is not known),
    keeping the next page's cursor for "Later dates"."""
    cursors = request.session.get(search.cursors_key)
    if not isinstance(cursors, list) or not cursors:
        cursors = [None]
    if page > len(cursors):
        page = 1
    found = await site_of(request).api.appointments(search.uprn, search.repair, cursors[page - 1])
    cursors = cursors[:page]
    if found.get("nextCursor"):
        cursors.append(found["nextCursor"])
    request.session[search.cursors_key] = cursors
    return page, found


def window_key(window: dict[str, Any]) -> str:
    """What names a window on the page: its times and label. Its id cannot: the API issues a
    new one (with a later expiry) at every listing, and ids are not to be parsed."""
    return f"{window.get('start')}|{window.get('end')}|{window.get('label')}"


async def find_window(request: Request, search: WindowSearch, page: int, key: str) -> dict[str, Any] | None:
    """The window ``key`` names, as the API offers it now on that page, with a fresh id;
    None when it is not offered (taken meanwhile, or never one of ours)."""
    if not key:
        return None
    _, found = await fetch_page(request, search, page)
    for day in found.get("days", []):
        for window in day.get("windows", []):
            if window_key(window) == key:
                chosen: dict[str, Any] = window
                return chosen
    return None


def days_of(found: dict[str, Any]) -> list[dict[str, Any]]:
    """The page's windows grouped by their day on the UK clock, in the API's order: each day
    a heading and its radios. A radio's label starts with its day, hidden but read out, so a
    screen reader moving from radio to radio hears which day each "Morning" is on."""
    today = datetime.now(RESIDENTS_ZONE).date()
    days: list[dict[str, Any]] = []
    number = 0
    for day in found.get("days", []):
        for window in day.get("windows", []):
            heading = short_day_text(uk_time(window["start"]).date(), today)
            if not days or days[-1]["heading"] != heading:
                days.append({"heading": heading, "items": []})
            number += 1
            days[-1]["items"].append(
                {
                    "value": window_key(window),
                    "html": Markup('<span class="govuk-visually-hidden">{}, </span>{}').format(
                        heading, slot_text(window)
                    ),
                    # One group of radios across the days: the first is "windowId", which
                    # the error summary links to.
                    "id": "windowId" if number == 1 else f"windowId-{number}",
                }
            )
    return days


async def show_windows(
    request: Request,
    search: WindowSearch,
    *,
    page: int,
    url: str,
    button: str,
    back_href: str,
    errors: dict[str, str] | None = None,
    chosen: str | None = None,
    without_window: bool = False,
) -> Response:
    """The windows page: one radio per window under a heading per day, "Later dates" while
    the API has more, and, for a new report, the choice to go on without a time when none
    suits."""
    page, found = await fetch_page(request, search, page)
    return await site_of(request).render(
        request,
        "windows.html",
        status=400 if errors else 200,
        errors=errors or {},
        title="When can we come?",
        days=days_of(found),
        chosen=chosen,
        page=page,
        action=url,
        button=button,
        later_href=f"{url}?page={page + 1}" if found.get("nextCursor") and page < MAX_PAGES else None,
        earlier_href=(f"{url}?page={page - 1}" if page > 2 else url) if page > 1 else None,
        without_window=without_window,
        back_href=back_href,
    )
