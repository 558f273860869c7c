"""Importing a council's address register from CSV: streamed, written in bulk, and a
report of the rows that were rejected with their line numbers.

The file is read one batch at a time and never held whole, so memory stays the same
whatever its size. Each batch of valid rows goes into a temporary staging table (one
``executemany`` on SQLite; ``COPY`` on PostgreSQL, through asyncpg), and one
``INSERT ... SELECT ... ON CONFLICT`` then adds or replaces them in ``register_addresses``.
A UPRN that appears twice in a file is found in the staging table by the database, not
in a set in memory that would grow with the file; the first occurrence is kept.

A rejected row is not stored and the import goes on with the others. Everything happens
in one transaction: if the import fails part way (the database goes away, the file turns
out not to be UTF-8), the register is as it was before.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring_ascii
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession, async_sessionmaker

from repairs_gateway.builtin.address_register import (
    CSV_COLUMNS,
    KINDS,
    CsvImportError,
    ImportResult,
    analyze_register,
)
from repairs_gateway.ports import InvalidPostcode, normalise_postcode

# Rows a batch: large enough that a statement's overhead is spread thin, small enough that
# a batch is a few megabytes at most.
BATCH_ROWS = 5_000
# Rejected rows kept for the report; beyond it they are only counted, so a file where
# every row is wrong cannot fill memory with messages.
MAX_REPORTED = 1_000
MAX_LINE_LENGTH = 120
MAX_PROPERTY_REF = 32  # the column's size: a longer one would fail the whole import on PostgreSQL
REQUIRED = ("uprn", "address_line_1", "postcode")

_STAGING = "register_import"
_STAGED_COLUMNS = ("line", "uprn", "lines", "postcode", "kind", "property_ref")
# One row as staged: line number, uprn, lines as JSON text, postcode, kind, property_ref.
StagedRow = tuple[int, str, str, str, str, str | None]


@dataclass(frozen=True, slots=True)
class RejectedRow:
    """A row that was not imported: its line in the file and every problem found in it."""

    line: int
    problems: tuple[str, ...]

    def messages(self) -> list[str]:
        """One ``line N: field: what is wrong`` a problem, as the CLI prints them."""
        return [f"line {self.line}: {problem}" for problem in self.problems]


@dataclass(frozen=True, slots=True)
class ImportReport(ImportResult):
    """What an import did: ``imported`` rows added or replaced, ``rejected_count`` rows
    refused, and the first ``MAX_REPORTED`` of those in ``rejected``, in line order."""

    rejected_count: int = 0
    rejected: tuple[RejectedRow, ...] = ()

    @property
    def problems(self) -> list[str]:
        """Every reported problem, one a line."""
        return [message for row in self.rejected for message in row.messages()]


@dataclass(frozen=True, slots=True)
class _Columns:
    """Where each field is in a row, from the header; None for an absent optional column."""

    uprn: int
    lines: tuple[int, ...]
    postcode: int
    kind: int | None
    property_ref: int | None

    @classmethod
    def from_header(cls, header: Sequence[str]) -> _Columns:
        names = [name.strip("\ufeff") if i == 0 else name for i, name in enumerate(header)]
        missing = set(REQUIRED) - set(names)
        if missing:
            raise CsvImportError([f"header: missing column(s) {', '.join(sorted(missing))}"])
        # The first of two columns with the same name wins, as the header is read left to right.
        where = {name: i for i, name in reversed(list(enumerate(names)))}
        return cls(
            uprn=where["uprn"],
            lines=tuple(where[name] for name in CSV_COLUMNS[1:5] if name in where),
            postcode=where["postcode"],
            kind=where.get("kind"),
            property_ref=where.get("property_ref"),
        )


@functools.lru_cache(maxsize=4096)
def _postcode(raw: str) -> str:
    # A register lists a postcode's properties together, a dozen or so each: a bounded cache
    # checks each once instead of per row, and cannot grow with the file.
    return normalise_postcode(raw)


def _json_lines(lines: list[str]) -> str:
    """Exactly ``json.dumps(lines)``, the text the ORM's JSON column stores (so reads cannot
    tell the paths apart), without its per-call set-up, which cost more than the encoding."""
    return "[" + ", ".join(map(encode_basestring_ascii, lines)) + "]"


def check_row(values: Sequence[str], line: int, columns: _Columns) -> StagedRow | RejectedRow:
    """The row ready to stage, or what is wrong with it (the rules the register's import has always
    applied, checked one row at a time; a repeated UPRN is found later, in the database)."""
    width = len(values)
    # Inline rather than a helper a field: this runs for every row of the file.
    index = columns.uprn
    uprn = values[index].strip() if index < width else ""
    problems: list[str] = []
    if not (uprn.isascii() and uprn.isdigit() and 1 <= len(uprn) <= 12):
        problems.append(f"uprn: {uprn!r} is not 1 to 12 digits")
    index = columns.postcode
    postcode = ""
    try:
        postcode = _postcode(values[index] if index < width else "")
    except InvalidPostcode as exc:
        problems.append(f"postcode: {exc}")
    kind_at = columns.kind
    kind = values[kind_at].strip().lower() if kind_at is not None and kind_at < width else ""
    if not kind:
        kind = "dwelling"
    elif kind not in KINDS:
        problems.append(f"kind: {kind!r} is not one of {', '.join(KINDS)}")
    lines = [stripped for i in columns.lines if i < width and (stripped := values[i].strip())]
    if not lines:
        problems.append("address_line_1: is empty")
    elif any(len(each) > MAX_LINE_LENGTH for each in lines):
        problems.append(f"address lines have at most {MAX_LINE_LENGTH} characters")
    ref_at = columns.property_ref
    property_ref = (values[ref_at].strip() if ref_at is not None and ref_at < width else "") or None
    if property_ref is not None and len(property_ref) > MAX_PROPERTY_REF:
        problems.append(f"property_ref: has at most {MAX_PROPERTY_REF} characters")
    if problems:
        return RejectedRow(line, tuple(problems))
    return (line, uprn, _json_lines(lines), postcode, kind, property_ref)


class _Batches:
    """The valid rows of a CSV in batches, read lazily; rejected rows are counted and the
    first ``MAX_REPORTED`` kept."""

    def __init__(self, lines: Iterable[str], batch_rows: int) -> None:
        self._reader = csv.reader(lines)
        header = next(self._reader, None)
        if header is None:
            raise CsvImportError(["header: the file is empty"])
        self._columns = _Columns.from_header(header)
        self._batch_rows = batch_rows
        self.rows_read = 0
        self.rejected_count = 0
        self.rejected: list[RejectedRow] = []

    def __iter__(self) -> Iterator[list[StagedRow]]:
        batch: list[StagedRow] = []
        reader, columns = self._reader, self._columns
        for values in reader:
            if not values or (len(values) == 1 and not values[0].strip()):
                continue  # a blank line, as csv.DictReader has always skipped them
            self.rows_read += 1
            # line_num is the file's line where this row ended: what an editor shows.
            checked = check_row(values, reader.line_num, columns)
            if isinstance(checked, RejectedRow):
                self.rejected_count += 1
                if len(self.rejected) < MAX_REPORTED:
                    self.rejected.append(checked)
                continue
            batch.append(checked)
            if len(batch) >= self._batch_rows:
                yield batch
                batch = []
        if batch:
            yield batch


class _Staging:
    """The temporary table the rows go through, on one connection in one transaction."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection
        self._postgres = connection.dialect.name == "postgresql"

    async def create(self) -> None:
        if self._postgres:
            # Dropped at commit or rollback: nothing is left on a pooled connection.
            await self._execute(
                f"CREATE TEMPORARY TABLE {_STAGING} (line bigint NOT NULL, uprn varchar(12) NOT NULL, "
                "lines text NOT NULL, postcode varchar(8) NOT NULL, kind varchar(16) NOT NULL, "
                "property_ref varchar(32)) ON COMMIT DROP"
            )
        else:
            # SQLite has no ON COMMIT DROP: drop one a failed import may have left on this
            # pooled connection. A temporary table is written outside the main file, so
            # the gateway's writers are not held up until the final statement.
            await self._execute(f"DROP TABLE IF EXISTS temp.{_STAGING}")
            await self._execute(
                f"CREATE TEMPORARY TABLE {_STAGING} (line INTEGER NOT NULL, uprn TEXT NOT NULL, "
                "lines TEXT NOT NULL, postcode TEXT NOT NULL, kind TEXT NOT NULL, property_ref TEXT)"
            )

    async def write(self, batch: list[StagedRow]) -> None:
        if self._postgres:
            raw = await self._connection.get_raw_connection()
            # COPY on the same asyncpg connection, inside the transaction SQLAlchemy began.
            await raw.driver_connection.copy_records_to_table(  # type: ignore[union-attr]
                _STAGING, records=batch, columns=_STAGED_COLUMNS
            )
        else:
            await self._connection.exec_driver_sql(
                f"INSERT INTO {_STAGING} VALUES (?, ?, ?, ?, ?, ?)",
                batch,
            )

    async def index(self) -> None:
        # Built once after loading, which is cheaper than keeping it up to date row by row;
        # it answers both "is there an earlier row with this UPRN" and the UPRN order.
        await self._execute(f"CREATE INDEX {_STAGING}_uprn ON {_STAGING} (uprn, line)")

    async def repeated(self, limit: int) -> list[RejectedRow]:
        rows = await self._connection.execute(
            text(
                f"SELECT s.line, s.uprn, (SELECT min(f.line) FROM {_STAGING} f WHERE f.uprn = s.uprn) "
                f"FROM {_STAGING} s WHERE EXISTS (SELECT 1 FROM {_STAGING} f "
                "WHERE f.uprn = s.uprn AND f.line < s.line) ORDER BY s.line LIMIT :limit"
            ),
            {"limit": limit},
        )
        return [
            RejectedRow(int(line), (f"uprn: {uprn} appears twice (first on line {first})",))
            for line, uprn, first in rows
        ]

    async def upsert(self, council_id: str) -> int:
        lines = "CAST(s.lines AS JSON)" if self._postgres else "s.lines"
        result = await self._connection.execute(
            text(
                "INSERT INTO register_addresses (council_id, uprn, lines, postcode, kind, property_ref) "
                f"SELECT :council, s.uprn, {lines}, s.postcode, s.kind, s.property_ref FROM {_STAGING} s "
                f"WHERE NOT EXISTS (SELECT 1 FROM {_STAGING} f WHERE f.uprn = s.uprn AND f.line < s.line) "
                # In key order, so the register's indexes are written page after page.
                "ORDER BY s.uprn "
                "ON CONFLICT (council_id, uprn) DO UPDATE SET lines = excluded.lines, "
                "postcode = excluded.postcode, kind = excluded.kind, property_ref = excluded.property_ref"
            ),
            {"council": council_id},
        )
        return int(result.rowcount)

    async def drop(self) -> None:
        if not self._postgres:
            await self._execute(f"DROP TABLE temp.{_STAGING}")

    async def _execute(self, sql: str) -> Any:
        return await self._connection.execute(text(sql))


async def import_addresses(
    sessions: async_sessionmaker[AsyncSession],
    council_id: str,
    lines: Iterable[str],
    *,
    progress: Callable[[int], None] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> ImportReport:
    """Add or replace one council's register rows from CSV ``lines`` (a text file opened
    with ``newline=""``, or any iterable of its lines), read lazily, in one transaction.

    Rows that break a rule are left out and reported with their line numbers; the others
    are imported. Raises CsvImportError, importing nothing, when the header lacks a
    required column. ``progress`` is called with the rows read so far after each batch.
    The planner's statistics are refreshed afterwards (``analyze_register``).
    """
    batches = _Batches(lines, batch_rows)
    staged = 0
    async with sessions() as session:
        connection = await session.connection()
        staging = _Staging(connection)
        await staging.create()
        for batch in batches:
            await staging.write(batch)
            staged += len(batch)
            if progress is not None:
                progress(batches.rows_read)
        await staging.index()
        repeated = await staging.repeated(MAX_REPORTED)
        imported = await staging.upsert(council_id)
        await staging.drop()
        await session.commit()
    if progress is not None:
        progress(batches.rows_read)
    await analyze_register(sessions)
    # Every staged row not imported was a repeat of an earlier UPRN.
    rejected = sorted([*batches.rejected, *repeated], key=lambda row: row.line)[:MAX_REPORTED]
    return ImportReport(
        imported=imported,
        rejected_count=batches.rejected_count + (staged - imported),
        rejected=tuple(rejected),
    )
