"""Settings of the GOV.UK Notify sender, as a council file gives them."""

from __future__ import annotations

import re

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator

NOTIFY_API_URL = "https://api.notifications.service.gov.uk"
"""Notify's public API. Only a default: tests and the demo point ``base_url`` at the simulator."""

_UUID = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
API_KEY_SHAPE = re.compile(rf"^.+-(?P<service_id>{_UUID})-(?P<secret>{_UUID})$")
"""``{key_name}-{service_id}-{secret_key}``, the last two UUIDs of 36 characters."""


class NotifySettings(BaseModel):
    """One council's GOV.UK Notify service."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    api_key: SecretStr = Field(
        description="The service's API key, {key_name}-{service_id}-{secret_key}"
        " (given as {from_env: VARIABLE})."
    )
    base_url: AnyHttpUrl = Field(
        default=AnyHttpUrl(NOTIFY_API_URL),
        description="Notify's API; the simulator's URL in tests and the demo.",
    )
    timeout_seconds: float = Field(
        default=10.0, gt=0, le=120, description="Time limit for one call to Notify."
    )
    receipt_token: SecretStr | None = Field(
        default=None,
        description="The bearer token Notify sends with delivery receipts (set beside the"
        " callback URL in Notify's settings; given as {from_env: VARIABLE}). Without it,"
        " receipts are refused.",
    )

    @field_validator("api_key")
    @classmethod
    def _key_shape(cls, value: SecretStr) -> SecretStr:
        # The message never repeats the key: it is a secret.
        if not API_KEY_SHAPE.match(value.get_secret_value().strip()):
            raise ValueError(
                "not a GOV.UK Notify API key: expected {key_name}-{service_id}-{secret_key},"
                " the last two being UUIDs (copy the whole key from Notify's API integration page)"
            )
        return SecretStr(value.get_secret_value().strip())

    @property
    def service_id(self) -> str:
        """The service id inside the key (not a secret)."""
        match = API_KEY_SHAPE.match(self.api_key.get_secret_value())
        assert match is not None  # checked by the validator
        return match.group("service_id")
