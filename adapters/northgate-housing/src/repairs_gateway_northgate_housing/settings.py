"""Settings of the Northgate/NEC Housing adaptor, as a council file gives them."""

from __future__ import annotations

from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from repairs_gateway.ports import TRADE_KEYED, Priority, for_trade, priority_codes

DEFAULT_PRIORITIES: dict[Priority, str] = {priority: str(int(priority)) for priority in Priority}
"""HACT numbers its work priorities 1 (immediate) to 5 (inspection); an installation that
uses the standard's codes needs no mapping. Others give their own per council."""

DEFAULT_DWELLING_TYPES = ("HOUSE", "FLAT", "BUNGALOW", "MAISONETTE")
DEFAULT_COMMUNAL_TYPES = ("BLOCK", "ESTATE")


class NorthgateSettings(BaseModel):
    """How to reach one council's Northgate/NEC Housing API, and how that council's
    properties and priorities are coded in it.

    Secrets (``client_secret``) are ``SecretStr``: a council file gives them as
    ``{from_env: VARIABLE}``, never written out.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: AnyHttpUrl = Field(
        description="Root of the housing API, e.g. https://housing.council.gov.uk/northgate/api/v1."
    )
    token_url: AnyHttpUrl | None = Field(
        default=None,
        description="The OAuth 2 token endpoint; by default <base_url>/oauth/token.",
    )
    client_id: str = Field(min_length=1, description="The gateway's OAuth 2 client id.")
    client_secret: SecretStr = Field(description="Its secret (given as {from_env: VARIABLE}).")
    scope: str = Field(default="housing.repairs", min_length=1, description="The OAuth 2 scope asked for.")
    timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="Time limit of one call.")
    dwelling_types: tuple[str, ...] = Field(
        default=DEFAULT_DWELLING_TYPES,
        description="Property type codes that are homes residents report repairs in.",
    )
    communal_types: tuple[str, ...] = Field(
        default=DEFAULT_COMMUNAL_TYPES,
        description="Property type codes that are communal areas (blocks, estates).",
    )
    priorities: dict[Priority, str] = Field(
        default_factory=lambda: dict(DEFAULT_PRIORITIES),
        description="The installation's priority code per job priority (1 immediate .. 5 inspection).",
    )
    # Keyed by trade: check-config refuses a key that is none of the council's trades (a
    # misspelt one would leave that trade's jobs without a works order).
    trade_sor: dict[str, str] = Field(
        default_factory=dict,
        description="SoR code to raise works orders by, per trade, for jobs that have none.",
        json_schema_extra=TRADE_KEYED,
    )
    channel: str = Field(
        default="WEB", min_length=1, description="The source channel service requests are recorded under."
    )
    allocated_by: str = Field(
        default="repairs-gateway",
        min_length=1,
        description="The AllocatedBy of the references the gateway gives Northgate (the repair's).",
    )

    @field_validator("dwelling_types", "communal_types")
    @classmethod
    def _upper_codes(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        """Type codes are compared without regard to case or surrounding spaces."""
        codes = tuple(code.strip().upper() for code in value)
        if any(not code for code in codes):
            raise ValueError("a property type code is empty")
        return codes

    @field_validator("priorities", mode="before")
    @classmethod
    def _merge_priorities(cls, value: Any) -> Any:
        """Accept keys as numbers or names (``4``, ``"4"``, ``"normal"``) and keep the
        defaults for priorities the council does not mention."""
        merged = priority_codes(value, DEFAULT_PRIORITIES)
        return {k: str(code) for k, code in merged.items()} if isinstance(merged, dict) else merged

    @field_validator("priorities")
    @classmethod
    def _codes_not_blank(cls, value: dict[Priority, str]) -> dict[Priority, str]:
        """An order without a priority would be refused by the housing system."""
        for priority, code in value.items():
            if not code.strip():
                raise ValueError(f"priority {int(priority)} has an empty code")
        return value

    @model_validator(mode="after")
    def _types_do_not_overlap(self) -> NorthgateSettings:
        """A property type cannot be both a home and a communal area."""
        both = sorted(set(self.dwelling_types) & set(self.communal_types))
        if both:
            raise ValueError(f"property types {both} are both dwelling_types and communal_types")
        return self

    def trade_sor_code(self, trade: str) -> str | None:
        """The SoR code a works order for a job of ``trade`` without one is raised by: its
        trade's, else the ``"*"`` entry's (every other trade, as check-config reads it)."""
        return for_trade(self.trade_sor, trade)

    def api_url(self) -> str:
        """The API root as a plain string, without a trailing slash."""
        return str(self.base_url).rstrip("/")

    def token_endpoint(self) -> str:
        """Where tokens are asked for."""
        return str(self.token_url) if self.token_url else self.api_url() + "/oauth/token"
