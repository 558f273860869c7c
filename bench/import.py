"""Address import: rows a second and peak memory of ``addresses import``'s importer against
a plain ``executemany`` of the same rows into the same table, in the same run (issue 11).

    .venv/bin/python bench/import.py                    # 200k rows, SQLite (+ PostgreSQL if configured)
    .venv/bin/python bench/import.py --rows 1000000     # 1M rows
    .venv/bin/python bench/import.py --pg postgresql+asyncpg://postgres@127.0.0.1:55432/importbench

PostgreSQL is measured when ``--pg`` or REPAIRS_GATEWAY_TEST_DATABASE_URL names a database;
the bench migrates it and deletes only its own councils' rows. Every measure runs in a child
process of its own, so its peak RSS (``ru_maxrss``) is its own; the importer is measured at
two file sizes (a fifth of ``--rows`` and ``--rows``) to show its memory does not grow.
Rows per CPU-second count this process's CPU only (on SQLite, all the work; on PostgreSQL,
not the server's): on a shared, busy machine they say more than the wall clock.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

IMPORTED = "bench-import"
BASELINE = "bench-baseline"
BATCH = 5_000


def write_csv(path: Path, rows: int) -> None:
    """``rows`` distinct, valid properties: ten a postcode, two address lines, some references."""
    with path.open("w", newline="", encoding="utf-8") as out:
        out.write("uprn,address_line_1,address_line_2,address_line_3,postcode,kind,property_ref\n")
        for n in range(rows):
            area = n // 10
            inward = f"{area % 10}{'ABDEFGHJLN'[area // 10 % 10]}{'PQRSTUWXYZ'[area // 100 % 10]}"
            postcode = f"ZB{area // 1000 % 100} {inward}"
            ref = f"P{n}" if n % 3 == 0 else ""
            kind = "communal" if n % 50 == 0 else "dwelling"
            lines = f"Flat {n % 10 + 1},{area % 500 + 1} Bench Road,Northfield"
            out.write(f"{10_000_000 + n},{lines},{postcode},{kind},{ref}\n")


def _peak_kb() -> int:
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)  # KiB on Linux


async def _prepare(url: str, council: str) -> Any:
    from sqlalchemy import delete

    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.persistence.migrate import upgrade_async
    from repairs_gateway.persistence.models import RegisterAddress

    await upgrade_async(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:
        await session.execute(delete(RegisterAddress).where(RegisterAddress.council_id == council))
    return engine, sessions


async def _child_import(url: str, csv_path: Path) -> dict[str, Any]:
    from repairs_gateway.builtin.address_import import import_addresses

    engine, sessions = await _prepare(url, IMPORTED)
    before = _peak_kb()
    started, cpu = time.perf_counter(), time.process_time()
    with csv_path.open(encoding="utf-8", newline="") as lines:
        report = await import_addresses(sessions, IMPORTED, lines)
    seconds = time.perf_counter() - started
    await engine.dispose()
    assert report.rejected_count == 0, report.problems[:5]
    cpu = time.process_time() - cpu
    return {
        "rows": report.imported,
        "seconds": seconds,
        "cpu": cpu,
        "peak_kb": _peak_kb(),
        "before_kb": before,
    }


async def _child_baseline(url: str, csv_path: Path) -> dict[str, Any]:
    """The same rows, read with csv and no checks, by the driver's executemany in batches
    of the same size into an emptied council, in one transaction: no staging, no upsert."""
    engine, _sessions = await _prepare(url, BASELINE)
    postgres = engine.dialect.name == "postgresql"
    marks = ", ".join(f"${i}" if postgres else "?" for i in range(1, 7))
    columns = "council_id, uprn, lines, postcode, kind, property_ref"
    sql = f"INSERT INTO register_addresses ({columns}) VALUES ({marks})"
    before = _peak_kb()
    started, cpu = time.perf_counter(), time.process_time()
    rows = 0
    async with engine.begin() as connection:
        with csv_path.open(encoding="utf-8", newline="") as lines:
            reader = csv.reader(lines)
            next(reader)
            batch: list[tuple[Any, ...]] = []
            for uprn, one, two, three, postcode, kind, ref in reader:
                batch.append((BASELINE, uprn, json.dumps([one, two, three]), postcode, kind, ref or None))
                if len(batch) == BATCH:
                    await connection.exec_driver_sql(sql, batch)
                    rows += len(batch)
                    batch = []
            if batch:
                await connection.exec_driver_sql(sql, batch)
                rows += len(batch)
    seconds = time.perf_counter() - started
    await engine.dispose()
    cpu = time.process_time() - cpu
    return {"rows": rows, "seconds": seconds, "cpu": cpu, "peak_kb": _peak_kb(), "before_kb": before}


def _child(kind: str, url: str, csv_path: Path) -> dict[str, Any]:
    output = subprocess.run(
        [sys.executable, __file__, "--child", kind, "--url", url, "--csv", str(csv_path)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    figures: dict[str, Any] = json.loads(output)
    return figures


def _line(label: str, figures: dict[str, Any]) -> str:
    rate = figures["rows"] / figures["seconds"]
    grown = (figures["peak_kb"] - figures["before_kb"]) / 1024
    return (
        f"  {label:<28} {figures['rows']:>9,} rows {figures['seconds']:7.2f} s {rate:>9,.0f} rows/s"
        f"  {figures['rows'] / figures['cpu']:>9,.0f} rows/CPU-s"
        f"   peak RSS {figures['peak_kb'] / 1024:6.1f} MiB (+{grown:5.1f} during)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--pg", default=os.environ.get("REPAIRS_GATEWAY_TEST_DATABASE_URL"))
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds; the median is kept")
    parser.add_argument("--child", choices=("import", "baseline"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--csv", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        run = _child_import if args.child == "import" else _child_baseline
        print(json.dumps(asyncio.run(run(args.url, args.csv))))
        return

    with tempfile.TemporaryDirectory(prefix="import-bench-") as tmp:
        small, large = Path(tmp) / "small.csv", Path(tmp) / "large.csv"
        write_csv(small, args.rows // 5)
        write_csv(large, args.rows)
        print(
            f"files: {args.rows // 5:,} rows ({small.stat().st_size / 2**20:.1f} MiB), "
            f"{args.rows:,} rows ({large.stat().st_size / 2**20:.1f} MiB); cpus: {os.cpu_count()}"
        )
        databases = [("SQLite", f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}")]
        if args.pg:
            databases.append(("PostgreSQL", args.pg))
        for name, url in databases:
            rounds: list[tuple[dict[str, Any], dict[str, Any]]] = []
            for _ in range(args.rounds):
                rounds.append((_child("baseline", url, large), _child("import", url, large)))
            rounds.sort(key=lambda pair: pair[1]["rows"] / pair[1]["seconds"])
            baseline, imported = rounds[len(rounds) // 2]
            small_import = _child("import", url, small)
            print(f"{name}:")
            print(_line("baseline executemany", baseline))
            print(_line("import", imported))
            print(_line(f"import, {args.rows // 5:,} rows", small_import))
            ratio = (imported["rows"] / imported["seconds"]) / (baseline["rows"] / baseline["seconds"])
            print(
                f"  import / baseline: {ratio:.2f}; peak RSS {args.rows // 5:,} -> {args.rows:,} rows: "
                f"{small_import['peak_kb'] / 1024:.1f} -> {imported['peak_kb'] / 1024:.1f} MiB"
            )


if __name__ == "__main__":
    main()
