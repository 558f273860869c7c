"""Dialect-aware inserts: the same statement on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession


def _insert(session: AsyncSession, model: Any) -> Any:
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model)


async def insert_ignore(session: AsyncSession, model: Any, values: Mapping[str, Any]) -> None:
    """Insert a row unless one with the same primary key exists."""
    await session.execute(_insert(session, model).values(**values).on_conflict_do_nothing())


async def upsert(session: AsyncSession, model: Any, values: Mapping[str, Any], keys: Iterable[str]) -> None:
    """Insert a row, or update every other column of the row with the same ``keys``."""
    keys = tuple(keys)
    statement = _insert(session, model).values(**values)
    changes = {name: statement.excluded[name] for name in values if name not in keys}
    await session.execute(statement.on_conflict_do_update(index_elements=keys, set_=changes))


async def insert_ignore_on(
    session: AsyncSession, model: Any, values: Mapping[str, Any], keys: Iterable[str]
) -> None:
    """Insert a row unless one with the same ``keys`` (a unique constraint) exists."""
    statement = _insert(session, model).values(**values)
    await session.execute(statement.on_conflict_do_nothing(index_elements=list(keys)))
