"""The adaptor's settings, as a council file gives them under ``addresses.settings``."""

from __future__ import annotations

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr


class ExampleHmsSettings(BaseModel):
    """How to reach one council's Example HMS.

    ``api_key`` is a ``SecretStr``: the gateway refuses a council file that writes it out,
    and takes it from the environment when written ``{from_env: VARIABLE}``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    base_url: AnyHttpUrl = Field(description="Where the HMS API lives, e.g. https://hms.example.gov.uk")
    api_key: SecretStr = Field(description="The gateway's API key (given as {from_env: VARIABLE}).")
    timeout_seconds: float = Field(default=5.0, gt=0, le=60, description="Time limit of one call.")
