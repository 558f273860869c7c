"""Process-wide settings, read from ``REPAIRS_GATEWAY_*`` environment variables."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Settings of one gateway process. Secrets come from the environment only."""

    model_config = SettingsConfigDict(env_prefix="REPAIRS_GATEWAY_", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./repairs-gateway.db"
    config_file: Path = Path("councils.yaml")
    token_secret: SecretStr = Field(
        default=SecretStr(""),
        description="Key that signs appointment window ids; at least 32 characters.",
    )
    window_ttl_seconds: int = Field(default=1800, ge=60, le=86400)
    max_body_bytes: int = Field(default=16 * 1024, ge=1024)
    backend_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    backend_retries: int = Field(default=2, ge=0, le=5)
    booking_timeout_seconds: float = Field(
        default=30.0,
        gt=0,
        le=300,
        description="Time limit of a booking or a move, which take several backend round trips.",
    )
    lease_seconds: float = Field(
        default=30.0,
        ge=1,
        le=600,
        description="How long a change holds a repair between renewals; a change whose process "
        "died is settled once this has run out.",
    )
    worker_concurrency: int = Field(
        default=8, ge=1, le=256, description="Jobs one worker runs at once (calls it makes to backends)."
    )
    worker_poll_seconds: float = Field(default=1.0, gt=0, le=60)
    retry_base_seconds: float = Field(
        default=2.0,
        gt=0,
        le=600,
        description="The first wait before a job is tried again; doubled each time.",
    )
    retry_cap_seconds: float = Field(
        default=30.0, gt=0, le=3600, description="The longest wait between tries."
    )
    api_key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        le=300,
        description="How long a process trusts what it read of an API key; a revoked key is "
        "refused within this time. 0 reads the database on every request.",
    )
    request_read_timeout_seconds: float = Field(
        default=10.0,
        gt=0,
        le=300,
        description="Time a client has to send a whole request (headers and body), from connecting "
        "or from starting the next request on a kept-alive connection; then it is disconnected.",
    )
    max_connections: int = Field(
        default=1000,
        ge=1,
        description="Connections one process holds at once; beyond it a request is answered 503 at "
        "once. Lowered to what the open-file limit leaves for them.",
    )
    max_header_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="Largest request line and headers taken; larger is answered 431.",
    )
    operator_token: SecretStr = Field(
        default=SecretStr(""),
        description="Bearer token for /metrics and the per-council detail of /readyz; empty (the "
        "default) gives them to no one. Not an API key: keep it to the monitoring system.",
    )
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="Log lines as JSON objects (``json``), readable text (``text``), or ``auto``: "
        "text when stderr is a terminal, JSON otherwise.",
    )
