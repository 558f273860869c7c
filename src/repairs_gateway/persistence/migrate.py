"""Run Alembic migrations programmatically (``repairs-gateway db upgrade``)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(database_url: str) -> Config:
    """An Alembic configuration for ``database_url``, with no alembic.ini needed."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at ``database_url`` up to ``revision``."""
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    """``upgrade`` from inside a running event loop (the migration env runs its own loop)."""
    await asyncio.to_thread(upgrade, database_url, revision)


def head_revision() -> str:
    """The newest migration this version of the gateway ships."""
    head = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    assert head is not None, "the gateway ships at least one migration"
    return head


async def current_revision(engine: AsyncEngine) -> str | None:
    """The migration the database at ``engine`` is at; None when it has never been upgraded."""
    async with engine.connect() as connection:
        return await connection.run_sync(lambda sync: MigrationContext.configure(sync).get_current_revision())


async def behind_by(engine: AsyncEngine) -> str | None:
    """Why the database cannot be used by this version yet (never upgraded, or at an older
    migration), or None when it is at the newest: commands say so instead of failing on a
    missing table or column with an SQL traceback."""
    current, head = await current_revision(engine), head_revision()
    if current == head:
        return None
    if current is None:
        return "the database has no tables yet"
    return f"the database is at migration {current}, this version needs {head}"
