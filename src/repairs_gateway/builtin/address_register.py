"""The built-in address register: a table of eligible properties, filled from CSV."""

from __future__ import annotations

import io
import json
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict
from sqlalchemy import Select, bindparam, select, text
from sqlalchemy.dialects import sqlite
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from repairs_gateway.builtin.database_errors import typed_database_errors
from repairs_gateway.persistence.models import RegisterAddress
from repairs_gateway.ports import AdapterContext, Address, PropertyKind

CSV_COLUMNS = (
    "uprn",
    "address_line_1",
    "address_line_2",
    "address_line_3",
    "address_line_4",
    "postcode",
    "kind",
    "property_ref",
)
KINDS = ("dwelling", "communal")


class RegisterSettings(BaseModel):
    """The register has no settings: its rows are loaded with ``addresses import``."""

    model_config = ConfigDict(extra="forbid")


_COLUMNS = (
    RegisterAddress.uprn,
    RegisterAddress.lines,
    RegisterAddress.postcode,
    RegisterAddress.kind,
    RegisterAddress.property_ref,
)


def _address(row: Any) -> Address:
    """An Address from a row of ``_COLUMNS``."""
    kind: PropertyKind = "communal" if row.kind == "communal" else "dwelling"
    return Address(row.uprn, tuple(row.lines), row.postcode, kind, row.property_ref)


if TYPE_CHECKING:  # subscripted only for the type checker: SQLAlchemy 2.0's Select takes one tuple
    _Lookup = Select[str, list[str], str, str, str | None]

# Built once, values bound at execution: building a statement costs more CPU than running
# this one, and a constant statement's cache key is computed once.
_AT_POSTCODE: _Lookup = (
    select(*_COLUMNS)
    .where(RegisterAddress.council_id == bindparam("council"))
    .where(RegisterAddress.postcode == bindparam("postcode"))
    .order_by(RegisterAddress.uprn)
)
_BY_UPRN: _Lookup = (
    select(*_COLUMNS)
    .where(RegisterAddress.council_id == bindparam("council"))
    .where(RegisterAddress.uprn == bindparam("uprn"))
)


def addresses_at_query(council_id: str, postcode: str) -> _Lookup:
    """The statement that finds a council's properties at a postcode, in UPRN order (the
    register runs it with these values bound).

    It is answered by the index on (council_id, postcode, uprn): two equalities and then the
    order, so no sort and no scan of the council. SQLite's planner takes that index with or
    without statistics; PostgreSQL's needs current ones (statistics from before an import
    make it read the primary key for the order), hence ``analyze_register`` after imports.
    Plain columns, not ORM entities: nothing is changed here, so an identity map is waste.
    """
    return _AT_POSTCODE.params(council=council_id, postcode=postcode)


def _sqlite_sql(statement: _Lookup) -> str:
    """The statement as SQLite runs it, with ``?`` for its parameters in order."""
    return str(statement.compile(dialect=sqlite.dialect()))


# The same SQL as the async path (and the plan test); the council is the first parameter.
_AT_POSTCODE_SQL = _sqlite_sql(_AT_POSTCODE)
_BY_UPRN_SQL = _sqlite_sql(_BY_UPRN)


class _SqliteReader:
    """Reads of the register on a SQLite file, run on the calling thread.

    An indexed read of a few rows takes SQLite tens of microseconds; the async driver hands
    each step of it (checkout, cursor, execute, fetch, close, reset) to the connection's
    thread and back, which costs a millisecond of CPU a lookup and was most of a request's
    time. In WAL mode (db.py sets it) a reader never waits for a writer, and busy_timeout 0
    makes any lock a reader could meet fail at once, so a read never blocks the event loop:
    ``None`` is answered instead and the caller takes the async path.
    """

    _shared: ClassVar[dict[str, _SqliteReader]] = {}
    _lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, path: str) -> None:
        self._path = path
        self._connection: sqlite3.Connection | None = None
        self._mutex = threading.Lock()

    def _connect(self) -> sqlite3.Connection:
        # Opened at the first read, never creating the file (mode=rw): a database that is
        # missing is the async path's to report, as BackendUnavailable.
        connection = sqlite3.connect(
            Path(self._path).absolute().as_uri() + "?mode=rw",
            uri=True,
            isolation_level=None,  # autocommit: each SELECT sees the latest commit (imports)
            check_same_thread=False,
        )
        connection.execute("PRAGMA busy_timeout=0")
        connection.execute("PRAGMA query_only=1")
        return connection

    @classmethod
    def for_sessions(cls, sessions: async_sessionmaker[AsyncSession]) -> _SqliteReader | None:
        """The process's reader of the SQLite file behind ``sessions``; None for any other
        database (or an in-memory one, which another connection would not see)."""
        bind = sessions.kw.get("bind")
        url = getattr(bind, "url", None)
        if url is None or url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
            return None
        path = str(url.database)
        with cls._lock:
            if path not in cls._shared:
                cls._shared[path] = cls(path)
            return cls._shared[path]

    def rows(self, sql: str, parameters: tuple[str, str]) -> list[tuple[Any, ...]] | None:
        """The rows, or None when SQLite would have had to wait (or the schema differs)."""
        # Not blocking: a second thread (a test's, say) takes the async path instead.
        if not self._mutex.acquire(blocking=False):
            return None
        try:
            if self._connection is None:
                self._connection = self._connect()
            return self._connection.execute(sql, parameters).fetchall()
        except sqlite3.Error:
            return None
        finally:
            self._mutex.release()


def _from_sqlite(row: tuple[Any, ...]) -> Address:
    uprn, lines, postcode, kind, property_ref = row
    kind_of: PropertyKind = "communal" if kind == "communal" else "dwelling"
    return Address(uprn, tuple(json.loads(lines)), postcode, kind_of, property_ref)


class AddressRegister:
    """An ``AddressSource`` over the ``register_addresses`` table."""

    def __init__(self, council_id: str, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._council = council_id
        self._sessions = sessions
        self._sqlite = _SqliteReader.for_sessions(sessions)
        bind = sessions.kw.get("bind")
        # A read needs no transaction: in autocommit the driver sends no BEGIN before it and
        # no ROLLBACK when the connection goes back to the pool, two of its four round trips
        # on PostgreSQL (the pool's ping is the other).
        self._reads = (
            bind.execution_options(isolation_level="AUTOCOMMIT") if isinstance(bind, AsyncEngine) else None
        )

    @typed_database_errors
    async def addresses_at(self, postcode: str) -> Sequence[Address]:
        """Eligible properties at a normalised postcode, in UPRN order."""
        if self._sqlite is not None:
            found = self._sqlite.rows(_AT_POSTCODE_SQL, (self._council, postcode))
            if found is not None:
                return [_from_sqlite(row) for row in found]
        rows = await self._rows(_AT_POSTCODE, {"council": self._council, "postcode": postcode})
        return [_address(row) for row in rows]

    @typed_database_errors
    async def address(self, uprn: str) -> Address | None:
        """The property with this UPRN, or None."""
        if self._sqlite is not None:
            found = self._sqlite.rows(_BY_UPRN_SQL, (self._council, uprn))
            if found is not None:
                return _from_sqlite(found[0]) if found else None
        rows = await self._rows(_BY_UPRN, {"council": self._council, "uprn": uprn})
        return _address(rows[0]) if rows else None

    async def _rows(self, statement: _Lookup, values: dict[str, str]) -> Sequence[Any]:
        if self._reads is not None:
            async with self._reads.connect() as connection:
                return (await connection.execute(statement, values)).all()
        async with self._sessions() as session:
            return (await session.execute(statement, values)).all()


@dataclass(frozen=True, slots=True)
class ImportResult:
    """What an import did."""

    imported: int


class CsvImportError(ValueError):
    """A CSV that cannot be imported; ``problems`` has one line per bad row, nothing was stored."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


async def import_csv(sessions: async_sessionmaker[AsyncSession], council_id: str, text: str) -> ImportResult:
    """Add or replace the register rows in ``text`` for one council; rows that break a rule
    are left out and listed in the answer (an ``ImportReport``) with their line numbers.

    Streamed and written in bulk by ``address_import``, which also refreshes the planner's
    statistics (``analyze_register``) afterwards; CsvImportError for a bad header.
    """
    # Imported here: address_import builds on this module's rules and result type.
    from repairs_gateway.builtin.address_import import import_addresses

    return await import_addresses(sessions, council_id, io.StringIO(text, newline=""))


async def analyze_register(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Refresh the planner's statistics of the register after its rows changed in bulk.

    The lookup's index does not depend on them, but the planners choose between indexes by
    them, and a table imported but never analysed is planned as if it were empty. The same
    statement on SQLite and on PostgreSQL; on PostgreSQL it samples, so it stays cheap.
    """
    async with sessions.begin() as session:
        await session.execute(text("ANALYZE register_addresses"))


def build_register(settings: RegisterSettings, context: AdapterContext) -> AddressRegister:
    """The plugin factory."""
    if context.database is None:
        raise ValueError("the built-in register needs the gateway's database")
    return AddressRegister(context.council_id, context.database)
