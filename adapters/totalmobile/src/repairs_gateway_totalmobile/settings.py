"""Settings of the Totalmobile adaptor, as a council file gives them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import time

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator
from repairs_gateway.ports import ANY_TRADE, TRADE_KEYED

_BAND = re.compile(r"^\s*(\d{1,2}):(\d\d)\s*-\s*(\d{1,2}):(\d\d)\s*$")

DEFAULT_TIME_BANDS: dict[str, str] = {
    "AM": "08:00-12:00",
    "PM": "12:00-16:00",
    "AD": "08:00-16:00",
}
"""Totalmobile offers appointments as named time-of-day bands; these are common ones (the
morning, the afternoon, all day). Each installation names and times its own."""


@dataclass(frozen=True, slots=True)
class Band:
    """A named time-of-day band in local wall-clock time."""

    name: str
    start: time
    end: time


def parse_band(name: str, text: str) -> Band:
    """``"08:00-12:00"`` as a ``Band``; raises ``ValueError`` for anything else."""
    match = _BAND.match(text)
    if match is None:
        raise ValueError(f"time band {name!r}: {text!r} is not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    try:
        start, end = time(h1, m1), time(h2, m2)
    except ValueError as exc:
        raise ValueError(f"time band {name!r}: {text!r}: {exc}") from None
    if end <= start:
        raise ValueError(f"time band {name!r}: {text!r} ends before it starts")
    return Band(name, start, end)


class TotalmobileSettings(BaseModel):
    """How to reach one Totalmobile instance and world, and how to describe jobs to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: AnyHttpUrl = Field(
        description="The tenant's base URL, e.g. https://council.tmcloud.example."
    )
    instance: str = Field(
        min_length=1, pattern=r"^[A-Za-z0-9._-]+$", description="The instance under the base URL."
    )
    world_id: str = Field(
        min_length=1, pattern=r"^[A-Za-z0-9._-]+$", description="The Optimise world jobs go into."
    )
    client_id: str = Field(min_length=1, description="The OAuth 2 client id of the gateway.")
    client_secret: SecretStr = Field(description="Its secret (given as {from_env: VARIABLE}).")
    scope: str = Field(
        default="optimiseApi", min_length=1, description="The OAuth scope asked for."
    )
    origin: str = Field(
        default="repairs-gateway", min_length=1, description="The job's origin, as planners see it."
    )
    # Both keyed by trade: check-config refuses a key that is none of the council's trades
    # or one routed to another scheduler; a misspelt one would silently fall back to the
    # default (the trade's own name), which the world may not know.
    work_types: dict[str, str] = Field(
        default_factory=dict,
        description="Totalmobile workType per trade (default: the trade).",
        json_schema_extra=TRADE_KEYED,
    )
    skills: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Skill references per trade (default: one skill named as the trade).",
        json_schema_extra=TRADE_KEYED,
    )
    time_bands: dict[str, str] = Field(
        default_factory=lambda: dict(DEFAULT_TIME_BANDS),
        description="The installation's time-of-day bands, name -> 'HH:MM-HH:MM' local time.",
    )
    offer_days: int = Field(
        default=14, ge=1, le=31, description="Days asked for in one appointment-offers call."
    )
    timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Time limit of one HTTP call, answer included."
    )
    max_connections: int = Field(
        default=20, ge=1, le=200, description="HTTP connections kept to Totalmobile at most."
    )
    token_refresh_margin_seconds: float = Field(
        default=60.0, ge=0, le=3600, description="Fetch a new token this long before expiry."
    )

    @field_validator("time_bands")
    @classmethod
    def _bands_readable(cls, value: dict[str, str]) -> dict[str, str]:
        """Every band must be a real window, or offers in it could not be shown."""
        if not value:
            raise ValueError("at least one time band is needed")
        for name, text in value.items():
            parse_band(name, text)
        return value

    def bands(self) -> dict[str, Band]:
        """The time bands by name (upper-cased: band names are compared without case)."""
        return {name.upper(): parse_band(name, text) for name, text in self.time_bands.items()}

    def root(self) -> str:
        """``{base}/{instance}``, without a trailing slash."""
        return f"{str(self.base_url).rstrip('/')}/{self.instance}"

    def token_url(self) -> str:
        """The identity server's token endpoint."""
        return f"{self.root()}/identity/connect/token"

    def jobs_url(self) -> str:
        """The world's jobs collection."""
        return f"{self.root()}/api/optimise/worlds/{self.world_id}/jobs"

    def work_type(self, trade: str) -> str:
        """The workType of a trade's jobs: its own, else the ``"*"`` entry's (every other
        trade, as check-config reads a trade-keyed field), else the trade's name."""
        return self.work_types.get(trade, self.work_types.get(ANY_TRADE, trade))

    def skills_for(self, trade: str) -> list[str]:
        """The skill references a trade's jobs need: its own, else the ``"*"`` entry's,
        else one skill named as the trade."""
        return list(self.skills.get(trade) or self.skills.get(ANY_TRADE) or [trade])
