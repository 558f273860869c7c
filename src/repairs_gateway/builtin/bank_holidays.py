"""UK bank holidays for the built-in calendar, per region, from the list GOV.UK publishes.

The list is the one shipped inside the ``govuk-bank-holidays`` package: it is never fetched,
so the gateway reaches no network at run time and answers the same whether GOV.UK is up or
not. A newer list comes with a newer release of the package (decision 17).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from importlib.metadata import version
from typing import Literal, get_args

from govuk_bank_holidays.bank_holidays import BankHolidays  # type: ignore[import-untyped]

Region = Literal["england-and-wales", "scotland", "northern-ireland", "none"]
REGIONS: tuple[Region, ...] = get_args(Region)
SOURCE = "govuk-bank-holidays"


@dataclass(frozen=True, slots=True)
class RegionHolidays:
    """The bank holidays of one region, and the last day the shipped list speaks for."""

    region: Region
    dates: frozenset[date]
    known_until: date | None
    """31 December of the last year the list has dates for; None for region ``none``."""

    def unknown_after(self, day: date) -> bool:
        """True when ``day`` is past the list's last year, so a bank holiday then is not known."""
        return self.known_until is not None and day > self.known_until


@functools.cache
def _shipped() -> BankHolidays:
    # use_cached_holidays: the package's bundled copy; without it the package downloads.
    return BankHolidays(use_cached_holidays=True)


@functools.cache
def region_holidays(region: Region) -> RegionHolidays:
    """The bank holidays of ``region`` (``none``: no bank holidays)."""
    if region == "none":
        return RegionHolidays(region, frozenset(), None)
    dates = frozenset(holiday["date"] for holiday in _shipped().get_holidays(division=region))
    return RegionHolidays(region, dates, date(max(day.year for day in dates), 12, 31))


def source_version() -> str:
    """Which release of the list is installed, for messages that tell an operator to upgrade."""
    return f"{SOURCE} {version(SOURCE)}"
