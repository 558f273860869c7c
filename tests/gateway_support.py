"""What the gateway's tests share: the app under test and the database helpers."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

from repairs_gateway.config.loader import GatewayConfig
from repairs_gateway.demo.data import demo_addresses, load_addresses
from repairs_gateway.persistence.db import make_engine
from repairs_gateway.persistence.queue import ClaimedJob, JobQueue
from repairs_gateway.services.clients import create_client
from repairs_gateway.settings import Settings

TABLES = (
    "calendar_bookings",
    "calendar_load",
    "jobs",
    "known_properties",
    "messages",
    "repair_contacts",
    "repair_events",
    "repairs",
    "api_client_councils",
    "api_clients",
    "register_addresses",
)

# What the make_gateway fixture (tests/conftest.py) is: called with options, it builds a Gateway.
# Here, not in conftest.py, so test modules can import it: tests/browser has a conftest.py
# too, and a plain `from conftest import` may meet that one.
GatewayFactory = Callable[..., Any]


async def empty_tables(url: str) -> None:
    """Delete every row, keeping the schema."""
    engine = make_engine(url)
    async with engine.begin() as connection:
        for table in TABLES:
            await connection.execute(text(f"DELETE FROM {table}"))
    await engine.dispose()


def worker_database_url(url: str | None, worker: str | None) -> str | None:
    """The database a pytest-xdist ``worker`` (``gw0``, ...) uses instead of ``url``: one
    of its own, named after it (``repairs_test`` -> ``repairs_test_gw0``). Unchanged when
    not under xdist, and for SQLite (every SQLite file of the tests is under tmp_path)."""
    if not url or not worker or url.startswith("sqlite"):
        return url
    parsed = make_url(url)
    return parsed.set(database=f"{parsed.database}_{worker}").render_as_string(hide_password=False)


async def create_database_if_missing(url: str, via: str) -> None:
    """Create the PostgreSQL database of ``url``, connecting to the existing ``via`` to do so
    (same server and user), unless it exists already."""
    name = make_url(url).database
    engine = create_async_engine(via, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            exists = text("SELECT 1 FROM pg_database WHERE datname = :name")
            if (await connection.execute(exists, {"name": name})).first() is None:
                quoted = connection.dialect.identifier_preparer.quote(str(name))
                await connection.execute(text(f"CREATE DATABASE {quoted}"))
    finally:
        await engine.dispose()


@dataclass
class Gateway:
    """A running app, its HTTP client, a key for every demo council and the database."""

    client: httpx.AsyncClient
    key: str
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    app: Any

    def auth(self, key: str | None = None) -> dict[str, str]:
        """The Authorization header for ``key`` (default: the all-councils key)."""
        return {"Authorization": f"Bearer {key or self.key}"}

    async def new_key(self, *councils: str) -> str:
        """A key scoped to ``councils``."""
        return await create_client(self.sessions, "test", list(councils))

    async def new_staff_key(self, *councils: str) -> str:
        """A staff key scoped to ``councils`` (default: every demo council)."""
        return await create_client(
            self.sessions, "staff", list(councils or ("northfield", "southmoor")), scope="staff"
        )

    async def count(self, table: str = "repairs") -> int:
        """Rows in a table."""
        async with self.sessions() as session:
            return int((await session.execute(text(f"SELECT count(*) FROM {table}"))).scalar_one())


async def make_dead(queue: JobQueue, key: str, error: str) -> ClaimedJob:
    """Claim the job with ``key`` and make it dead, as a worker that gave up would; other
    jobs due meanwhile (a test has no worker) are claimed with it and marked done."""
    claimed = await queue.claim(500, timedelta(seconds=30))
    mine = next(job for job in claimed if job.key == key)
    await queue.dead(mine, error)
    for job in claimed:
        if job is not mine:
            await queue.done(job)
    return mine


async def prepare_without_migrating(
    settings: Settings, config: GatewayConfig, sessions: async_sessionmaker[AsyncSession]
) -> str:
    """Load the demo addresses and create a key for every council (the schema exists)."""
    await load_addresses(sessions, demo_addresses(config.councils))
    return await create_client(sessions, "tests", sorted(config.councils))


def _backends() -> list[Any]:
    return ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


# Runs a test on SQLite and on PostgreSQL (the latter needs REPAIRS_GATEWAY_TEST_DATABASE_URL).
on_both_databases = pytest.mark.parametrize("database_url", _backends(), indirect=True)
