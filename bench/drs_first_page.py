"""Time to the first page of five bookable days through Kirona DRS, cold and warm.

Runs the DRS simulator at 300 ms per call (a real installation takes about 1.7 s) behind
real HTTP on 127.0.0.1, then compares, in one run:

* a baseline as earlier integrations did it: one day per checkAvailability call, one
  call after another, until five days with a free slot are found;
* the adapter cold, with no session yet: openSession, then 7-day windows all at once;
* the adapter after start-up (``prepare`` has opened the day's session): one round trip;
* the same page again within ``availability_cache_seconds``: no DRS call;
* 100 residents' pages at once (200 checkAvailability calls), through httpx's default
  connection pool (100) and through the adapter's own (``max_connections``, 200).

    python bench/drs_first_page.py [--latency-ms 300] [--in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import socket
import sys
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "src", _ROOT / "adapters" / "kirona-drs" / "src"):
    if str(_path) not in sys.path:  # run from a checkout without installing
        sys.path.append(str(_path))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from repairs_gateway_kirona_drs import DrsScheduler, DrsSettings  # noqa: E402
from repairs_gateway_kirona_drs.simulator import DrsSimulator, SimulatorConfig  # noqa: E402

from repairs_gateway.ports import (  # noqa: E402
    AdapterContext,
    Address,
    Job,
    Slot,
    SlotQuery,
)

LONDON = ZoneInfo("Europe/London")
WEDNESDAY = date(2025, 6, 4)
# No free slots on Thursday (a bank holiday) and the next Monday (the team's day off):
# with the weekend, the first five bookable days span nine calendar days.
CLOSED = frozenset({date(2025, 6, 5), date(2025, 6, 9)})
PAGE_DAYS = 5
HORIZON_DAYS = 14
CONCURRENT = 100

ADDRESS = Address(uprn="100023336956", lines=("1 High Street",), postcode="NF1 1AA")
JOB = Job(trade="plumbing", duration_minutes=60, sor_code="20060020")


def _clock() -> datetime:
    # Early on the Wednesday: every slot of the fortnight is still ahead.
    return datetime(2025, 6, 4, 7, 0, tzinfo=LONDON)


def _query(first: date, last: date) -> SlotQuery:
    return SlotQuery("northfield", ADDRESS, JOB, first, last)


def _first_page(slots: Sequence[Slot]) -> list[date]:
    return sorted({s.start.date() for s in slots})[:PAGE_DAYS]


@dataclass
class _Row:
    name: str
    calls: int
    trips: str
    seconds: float
    note: str = ""


class _Peak:
    """ASGI middleware: the most SOAP calls the simulator had in hand at once."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.now = 0
        self.peak = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await self.app(scope, receive, send)
        finally:
            self.now -= 1


@contextlib.asynccontextmanager
async def _serve(app: Any, in_process: bool) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client reaching the simulator: over 127.0.0.1, or in-process."""
    if in_process:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://drs.bench") as c:
            yield c
        return
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # A CPU-bound burst can leave pooled connections idle past uvicorn's 5 s keep-alive.
    config = uvicorn.Config(app, log_level="warning", lifespan="off", backlog=2048, timeout_keep_alive=120)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    try:
        limits = httpx.Limits(max_connections=2 * CONCURRENT + 10)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=60
        ) as client:
            yield client
    finally:
        server.should_exit = True
        await task
        sock.close()


def _adapter(
    sim: DrsSimulator, http: httpx.AsyncClient | None, base_url: str, **settings: Any
) -> DrsScheduler:
    drs = DrsSettings(
        endpoint=sim.endpoint(base_url),
        login=sim.config.login,
        password=sim.config.password,
        contract=next(iter(sim.config.contracts)),
        window_days=7,
        timeout_seconds=60,
        **settings,
    )
    return DrsScheduler(drs, AdapterContext("northfield"), http_client=http, clock=_clock)


def _residents(count: int) -> list[SlotQuery]:
    """One page each for residents at ``count`` different properties: no two share a
    fetch or a cache entry, so every page costs its own two calls."""
    return [
        SlotQuery(
            "northfield",
            Address(uprn=f"1000{n:08d}", lines=(f"{n} High Street",), postcode="NF1 1AA"),
            JOB,
            WEDNESDAY,
            WEDNESDAY + timedelta(HORIZON_DAYS - 1),
        )
        for n in range(count)
    ]


async def _run(latency_ms: float, in_process: bool) -> list[_Row]:
    rows: list[_Row] = []
    config = SimulatorConfig(latency_ms=latency_ms, holidays=CLOSED)
    fortnight = _query(WEDNESDAY, WEDNESDAY + timedelta(HORIZON_DAYS - 1))

    # The baseline: one day at a time, one call after another, until the page is full.
    sim = DrsSimulator(config, clock=_clock)
    async with _serve(sim.app, in_process) as http:
        adapter = _adapter(sim, http, str(http.base_url))
        began = time.perf_counter()
        found: list[Slot] = []
        day = WEDNESDAY
        while len(_first_page(found)) < PAGE_DAYS:
            found += await adapter.slots(_query(day, day))
            day += timedelta(days=1)
        elapsed = time.perf_counter() - began
        await adapter.aclose()
    calls = sim.state.calls["checkAvailability"]
    page = _first_page(found)
    rows.append(_Row("baseline: 1-day windows in sequence", calls, str(calls + 1), elapsed))

    # The adapter with no session yet: openSession, then both windows at once.
    sim = DrsSimulator(config, clock=_clock)
    async with _serve(sim.app, in_process) as http:
        adapter = _adapter(sim, http, str(http.base_url))
        began = time.perf_counter()
        assert _first_page(await adapter.slots(fortnight)) == page
        elapsed = time.perf_counter() - began
        await adapter.aclose()
    calls = sim.state.calls["checkAvailability"]
    rows.append(_Row("adapter, no session yet", calls, "2", elapsed, "openSession + windows"))

    # After start-up: prepare() has opened the session; then the same page twice.
    sim = DrsSimulator(config, clock=_clock)
    async with _serve(sim.app, in_process) as http:
        adapter = _adapter(sim, http, str(http.base_url))
        await adapter.prepare()
        began = time.perf_counter()
        assert _first_page(await adapter.slots(fortnight)) == page
        elapsed = time.perf_counter() - began
        calls = sim.state.calls["checkAvailability"]
        rows.append(_Row("adapter after prepare: first page", calls, "1", elapsed))
        began = time.perf_counter()
        assert _first_page(await adapter.slots(fortnight)) == page
        elapsed = time.perf_counter() - began
        again = sim.state.calls["checkAvailability"] - calls
        rows.append(_Row("adapter: same page again (cache)", again, str(again), elapsed))
        await adapter.aclose()

    # A hundred residents at once: 200 checkAvailability calls.
    for pool in ("httpx default pool (100)", "adapter's pool (max_connections 200)"):
        sim = DrsSimulator(config, clock=_clock)
        peak = _Peak(sim.app)
        async with _serve(peak, in_process) as http:
            own = pool.startswith("adapter") and not in_process
            base = str(http.base_url)
            client = None if own else http
            if not own and not in_process:
                client = httpx.AsyncClient(base_url=base, timeout=60)  # httpx's own limits
            adapter = _adapter(sim, client, base)
            await adapter.prepare()
            cpu, began = time.process_time(), time.perf_counter()
            pages = await asyncio.gather(*(adapter.slots(q) for q in _residents(CONCURRENT)))
            elapsed, cpu = time.perf_counter() - began, time.process_time() - cpu
            await adapter.aclose()
            if client is not None and client is not http:
                await client.aclose()
        assert all(_first_page(p) == page for p in pages)
        rows.append(
            _Row(
                f"{CONCURRENT} pages at once, {pool}",
                sim.state.calls["checkAvailability"],
                f"{elapsed * 1000 / latency_ms:.1f}" if latency_ms else "-",
                elapsed,
                f"peak {peak.peak} calls in DRS at once; CPU {cpu:.1f} s",
            )
        )
    return rows


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--in-process", action="store_true", help="no HTTP server, ASGI in-process")
    args = parser.parse_args()
    rows = asyncio.run(_run(args.latency_ms, args.in_process))
    transport = "in-process ASGI" if args.in_process else "HTTP on 127.0.0.1"
    print(f"Kirona DRS simulator, {args.latency_ms:g} ms per call, {transport}, {os.cpu_count()} cores,")
    print(f"load average {os.getloadavg()[0]:.1f} at the end")
    print(f"First page of {PAGE_DAYS} bookable days from Wed {WEDNESDAY} (Thu and Mon closed)")
    print("(round trips: one after another; for the 100 pages, wall time / one call)")
    print()
    print(f"| {'how':<58} | {'DRS calls':>9} | {'round trips':>11} | {'time':>9} | note")
    print(f"|{'-' * 60}|{'-' * 11}|{'-' * 13}|{'-' * 11}|------")
    for r in rows:
        shown = f"{r.seconds * 1000:.1f} ms" if r.seconds < 0.1 else f"{r.seconds:.2f} s"
        print(f"| {r.name:<58} | {r.calls:>9} | {r.trips:>11} | {shown:>9} | {r.note}")
    print()
    baseline, _, prepared, cached = rows[:4]
    print(f"After start-up, first page {baseline.seconds / prepared.seconds:.1f}x faster than the baseline")
    print(f"Same page again: {cached.seconds * 1000:.1f} ms, {cached.calls} DRS calls")


if __name__ == "__main__":
    main()
