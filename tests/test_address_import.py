"""The streamed address import: bad rows reported by line and left out while good ones go
in, re-imports update, a large file imports whole on both databases, the input is read
lazily (so memory does not grow with the file), and progress is shown only on a terminal."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.builtin import address_import
from repairs_gateway.builtin.address_import import ImportReport, import_addresses
from repairs_gateway.builtin.address_register import AddressRegister, CsvImportError, import_csv
from repairs_gateway.persistence.db import make_engine, make_sessionmaker
from repairs_gateway.persistence.models import RegisterAddress
from repairs_gateway.progress import Progress

from gateway_support import empty_tables, on_both_databases

HEADER = "uprn,address_line_1,address_line_2,postcode,kind,property_ref\n"


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await empty_tables(database_url)
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def _stored(sessions: async_sessionmaker[AsyncSession], council: str = "millbrook") -> dict[str, tuple]:
    async with sessions() as session:
        rows = await session.execute(
            select(
                RegisterAddress.uprn,
                RegisterAddress.lines,
                RegisterAddress.postcode,
                RegisterAddress.kind,
                RegisterAddress.property_ref,
            ).where(RegisterAddress.council_id == council)
        )
        return {uprn: (tuple(lines), postcode, kind, ref) for uprn, lines, postcode, kind, ref in rows}


def _generated(rows: int, start: int = 100_000) -> Iterator[str]:
    yield HEADER
    for n in range(rows):
        yield f"{start + n},Flat {n % 10 + 1},{n // 10} Long Road,LR{n % 90 + 10} {n % 9 + 1}AB,dwelling,\n"


@on_both_databases
async def test_bad_rows_are_reported_by_line_and_left_out_while_good_rows_go_in(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    csv_text = (
        HEADER
        + "100,1 Mill Lane,,mr1 2ab,,P1\n"  # line 2: good
        + "12x,2 Mill Lane,,nowhere,shed,\n"  # line 3: three problems
        + "300,,,MR1 2AB,dwelling,\n"  # line 4: no address line
        + '400,"4 Mill Lane\nupstairs",,MR1 2AB,communal,\n'  # lines 5-6: one row over two lines
        + "100,1 Mill Lane again,,MR1 2AB,,\n"  # line 7: UPRN already on line 2
        + f"500,5 Mill Lane,,MR1 2AB,,{'R' * 33}\n"  # line 8: reference longer than the column
        + "\n"  # line 9: blank, skipped as before
        + "600,6 Mill Lane,,MR1 2AB,,\n"  # line 10: good
    )
    report = await import_csv(sessions, "millbrook", csv_text)
    assert isinstance(report, ImportReport)
    assert report.imported == 3
    assert report.rejected_count == 4
    assert [row.line for row in report.rejected] == [3, 4, 7, 8]
    assert report.problems == [
        "line 3: uprn: '12x' is not 1 to 12 digits",
        "line 3: postcode: 'nowhere' is not a UK postcode (for example NF1 1AA)",
        "line 3: kind: 'shed' is not one of dwelling, communal",
        "line 4: address_line_1: is empty",
        "line 7: uprn: 100 appears twice (first on line 2)",
        "line 8: property_ref: has at most 32 characters",
    ]
    stored = await _stored(sessions)
    assert stored == {
        "100": (("1 Mill Lane",), "MR1 2AB", "dwelling", "P1"),
        "400": (("4 Mill Lane\nupstairs",), "MR1 2AB", "communal", None),
        "600": (("6 Mill Lane",), "MR1 2AB", "dwelling", None),
    }
    # What was imported is what a resident's lookup finds.
    found = await AddressRegister("millbrook", sessions).addresses_at("MR1 2AB")
    assert [a.uprn for a in found] == ["100", "400", "600"]


@on_both_databases
async def test_a_re_import_updates_rows_and_keeps_the_rest(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await import_csv(
        sessions, "millbrook", HEADER + "100,1 Mill Lane,,MR1 2AB,,P1\n200,2 Mill Lane,,MR1 2AB,,\n"
    )
    await import_csv(sessions, "othertown", HEADER + "100,1 Other Road,,OT1 1AA,,\n")
    report = await import_csv(
        sessions,
        "millbrook",
        HEADER + "200,Flat 2,2 Mill Lane,MR1 3CD,communal,P2\n300,3 Mill Lane,,MR1 2AB,,\n",
    )
    assert (report.imported, report.rejected_count) == (2, 0)
    assert await _stored(sessions) == {
        "100": (("1 Mill Lane",), "MR1 2AB", "dwelling", "P1"),
        "200": (("Flat 2", "2 Mill Lane"), "MR1 3CD", "communal", "P2"),
        "300": (("3 Mill Lane",), "MR1 2AB", "dwelling", None),
    }
    assert await _stored(sessions, "othertown") == {"100": (("1 Other Road",), "OT1 1AA", "dwelling", None)}


@on_both_databases
async def test_a_large_file_imports_completely(sessions: async_sessionmaker[AsyncSession]) -> None:
    seen: list[int] = []
    report = await import_addresses(sessions, "millbrook", _generated(20_000), progress=seen.append)
    assert (report.imported, report.rejected_count) == (20_000, 0)
    assert seen[-1] == 20_000 and len(seen) > 2  # reported batch by batch
    async with sessions() as session:
        count = await session.scalar(select(func.count()).select_from(RegisterAddress))
    assert count == 20_000
    last = await AddressRegister("millbrook", sessions).address("119999")
    assert last is not None and last.lines == ("Flat 10", "1999 Long Road") and last.postcode == "LR29 2AB"


async def test_the_file_is_read_lazily_a_batch_at_a_time(sessions: async_sessionmaker[AsyncSession]) -> None:
    read = 0

    def counted() -> Iterator[str]:
        nonlocal read
        for line in _generated(10_000):
            read += 1
            yield line

    read_when_written: list[int] = []
    await import_addresses(
        sessions,
        "millbrook",
        counted(),
        batch_rows=100,
        progress=lambda _rows: read_when_written.append(read),
    )
    # The header and one batch, not the file: what is held does not grow with its size.
    assert read_when_written[0] <= 1 + 100 + 1
    assert read == 10_001


async def test_the_report_lists_a_bounded_number_of_rejected_rows(
    sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(address_import, "MAX_REPORTED", 5)
    bad = HEADER + "".join(f"x{n},Somewhere,,MR1 2AB,,\n" for n in range(50)) + "7,7 Mill Lane,,MR1 2AB,,\n"
    report = await import_csv(sessions, "millbrook", bad)
    assert report.imported == 1 and report.rejected_count == 50
    assert [row.line for row in report.rejected] == [2, 3, 4, 5, 6]


async def test_a_header_without_a_required_column_imports_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    with pytest.raises(CsvImportError, match=r"missing column\(s\) postcode"):
        await import_csv(sessions, "millbrook", "uprn,address_line_1\n100,1 Mill Lane\n")
    assert await _stored(sessions) == {}


class _Terminal(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def test_progress_shows_rate_and_eta_on_a_terminal_only() -> None:
    now = [0.0]
    position = [0]
    for tty in (True, False):
        now[0], position[0] = 0.0, 0
        stream = _Terminal(tty)
        progress = Progress(stream, total=1000, done=lambda: position[0], interval=0.5, clock=lambda: now[0])
        now[0], position[0] = 2.0, 250
        progress.update(100_000)
        now[0] = 2.1  # too soon after the last line: nothing new
        progress.update(110_000)
        now[0], position[0] = 8.0, 1000
        progress.finish(400_000)
        if tty:
            shown = stream.getvalue().split("\r")[1:]
            assert len(shown) == 2
            assert shown[0].split() == ["100,000", "rows", "50,000", "rows/s", "25%", "eta", "0:00:06"]
            assert shown[1].startswith("400,000 rows  50,000 rows/s  100%") and shown[1].endswith("\n")
        else:
            assert stream.getvalue() == ""  # a pipe or a log gets only the summary
