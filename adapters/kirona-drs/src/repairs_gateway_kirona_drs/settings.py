"""Settings of the Kirona DRS adaptor, as a council file gives them."""

from __future__ import annotations

from typing import Any

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator
from repairs_gateway.ports import TRADE_KEYED, Priority, for_trade, priority_codes

DEFAULT_PRIORITIES: dict[Priority, str] = {
    Priority.IMMEDIATE: "I",
    Priority.EMERGENCY: "E",
    Priority.URGENT: "U",
    Priority.NORMAL: "N",
    Priority.INSPECTION: "INS",
}
"""DRS priority codes are configured per installation; these are common defaults."""


class DrsSettings(BaseModel):
    """How to reach one DRS installation and how to describe jobs to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint: AnyHttpUrl = Field(
        description="The SOAP endpoint, https://<host>/OTWebServiceGateway_<INSTANCE>/ws/soap."
    )
    login: str = Field(min_length=1, description="The Web Services Gateway user.")
    password: SecretStr = Field(description="Its password (given as {from_env: VARIABLE}).")
    contract: str = Field(min_length=1, description="The DRS contract jobs are raised under.")
    user_id: str = Field(
        default="repairs-gateway",
        min_length=1,
        description="The userId DRS records against orders and bookings.",
    )
    priorities: dict[Priority, str] = Field(
        default_factory=lambda: dict(DEFAULT_PRIORITIES),
        description="DRS priority code per job priority (1 immediate .. 5 inspection).",
    )
    window_days: int = Field(
        default=7,
        ge=1,
        le=14,
        description="Days asked for in one checkAvailability call (DRS caps at 7, or 14).",
    )
    timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Time limit of one SOAP call."
    )
    availability_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description=(
            "How long the windows of a job's day are kept for the next page view; 0 asks DRS "
            "for every page. A booking, move or cancel through the gateway drops that day."
        ),
    )
    max_connections: int = Field(
        default=200,
        ge=1,
        le=1000,
        description=(
            "HTTP connections to DRS at once (a page takes one per checkAvailability window: "
            "100 pages at once take 200)."
        ),
    )
    max_keepalive_connections: int = Field(
        default=100,
        ge=0,
        le=1000,
        description="Idle HTTP connections kept open for the next calls.",
    )
    # Keyed by trade: check-config refuses a key that is none of the council's trades
    # (a misspelt one would leave that trade's jobs unbookable) or one routed elsewhere.
    trade_sor: dict[str, str] = Field(
        default_factory=dict,
        description="SoR code to book by, per trade, for jobs that have no SoR code.",
        json_schema_extra=TRADE_KEYED,
    )
    push_token: SecretStr | None = Field(
        default=None,
        description=(
            "Turns on DRS's bookingConfirmation pushes: the secret DRS's background service "
            "sends as 'Authorization: Bearer <token>' (or as the password of Basic "
            "authentication) to the gateway's callback (given as {from_env: VARIABLE})."
        ),
    )

    @field_validator("push_token")
    @classmethod
    def _push_token_strong(cls, value: SecretStr | None) -> SecretStr | None:
        """A short token could be guessed by anyone who can reach the callback."""
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("push_token must have at least 16 characters")
        return value

    @field_validator("priorities", mode="before")
    @classmethod
    def _merge_priorities(cls, value: Any) -> Any:
        """Accept keys as numbers or names (``4``, ``"4"``, ``"normal"``) and keep the
        defaults for priorities the council does not mention."""
        return priority_codes(value, DEFAULT_PRIORITIES)

    @field_validator("priorities")
    @classmethod
    def _codes_not_blank(cls, value: dict[Priority, str]) -> dict[Priority, str]:
        """DRS rejects orders without a priority on installations scheduled by area."""
        for priority, code in value.items():
            if not code.strip():
                raise ValueError(f"priority {int(priority)} has an empty DRS code")
        return value

    def trade_sor_code(self, trade: str) -> str | None:
        """The SoR code a job of ``trade`` without one is booked by: its trade's, else the
        ``"*"`` entry's (every other trade, as check-config reads a trade-keyed field)."""
        return for_trade(self.trade_sor, trade)

    def endpoint_url(self) -> str:
        """The endpoint as a plain string."""
        return str(self.endpoint)
