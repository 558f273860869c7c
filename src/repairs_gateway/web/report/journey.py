"""The report in progress, kept in the session between its pages, and what each page
needs of it before it is shown."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

# The session key of the API's paging cursors for the report's times.
CURSORS = "report_cursors"


def journey(request: Request) -> dict[str, Any]:
    """The report in progress, kept in the session."""
    report = request.session.get("report")
    if not isinstance(report, dict):
        report = {}
        request.session["report"] = report
    return report


def ready_for(request: Request, *needs: str) -> bool:
    """Whether the report has an answer for each of ``needs`` (else the page starts over)."""
    report = journey(request)
    return all(report.get(need) for need in needs)


def forget_window(request: Request) -> None:
    """Drop the chosen window and the times' cursors: windows are offered for one property
    and one job, so another of either needs its own."""
    journey(request).pop("window", None)
    request.session.pop(CURSORS, None)
