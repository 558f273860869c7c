"""Time to the first page of five bookable days through Kirona DRS, and sessions opened.

Runs the DRS simulator at 300 ms per call (a real installation takes about 1.7 s) behind
real HTTP on 127.0.0.1, then compares:

* the adapter: the days are asked for in 7-day checkAvailability windows, all at once;
* a baseline as earlier integrations did it: one day per checkAvailability call, one
  call after another, until five days with a free slot are found;

and counts the DRS sessions opened by 100 concurrent slot requests.

    python bench/drs_first_page.py [--latency-ms 300] [--in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import AsyncIterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
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


@contextlib.asynccontextmanager
async def _serve(sim: DrsSimulator, in_process: bool) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client reaching the simulator: over 127.0.0.1, or in-process."""
    if in_process:
        transport = httpx.ASGITransport(app=sim.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://drs.bench") as c:
            yield c
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(sim.app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    try:
        limits = httpx.Limits(max_connections=CONCURRENT + 10)
        async with httpx.AsyncClient(
            base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30
        ) as client:
            yield client
    finally:
        server.should_exit = True
        await task


def _adapter(sim: DrsSimulator, http: httpx.AsyncClient) -> DrsScheduler:
    settings = DrsSettings(
        endpoint=sim.endpoint(str(http.base_url)),
        login=sim.config.login,
        password=sim.config.password,
        contract=next(iter(sim.config.contracts)),
        window_days=7,
        timeout_seconds=30,
    )
    return DrsScheduler(settings, AdapterContext("northfield"), http_client=http, clock=_clock)


async def _run(latency_ms: float, in_process: bool) -> list[tuple[str, int, int, float]]:
    rows = []
    config = SimulatorConfig(latency_ms=latency_ms, holidays=CLOSED)

    # The adapter: a fortnight in two 7-day windows, fetched together.
    sim = DrsSimulator(config, clock=_clock)
    async with _serve(sim, in_process) as http:
        adapter = _adapter(sim, http)
        began = time.perf_counter()
        page = _first_page(await adapter.slots(_query(WEDNESDAY, WEDNESDAY + timedelta(HORIZON_DAYS - 1))))
        elapsed = time.perf_counter() - began
        await adapter.aclose()
    assert len(page) == PAGE_DAYS, page
    calls = sim.state.calls["checkAvailability"]
    # openSession, then both windows at once: two round trips one after the other.
    rows.append(("adapter: 7-day windows in parallel", calls, 2, elapsed))

    # The baseline: one day at a time, one call after another, until the page is full.
    sim = DrsSimulator(config, clock=_clock)
    async with _serve(sim, in_process) as http:
        adapter = _adapter(sim, http)
        began = time.perf_counter()
        found: list[Slot] = []
        day = WEDNESDAY
        while len(_first_page(found)) < PAGE_DAYS:
            found += await adapter.slots(_query(day, day))
            day += timedelta(days=1)
        elapsed = time.perf_counter() - began
        await adapter.aclose()
    calls = sim.state.calls["checkAvailability"]
    assert _first_page(found) == page
    rows.append(("baseline: 1-day windows in sequence", calls, calls + 1, elapsed))

    # Sessions: a hundred residents asking at the same moment.
    sim = DrsSimulator(config, clock=_clock)
    async with _serve(sim, in_process) as http:
        adapter = _adapter(sim, http)
        began = time.perf_counter()
        query = _query(WEDNESDAY, WEDNESDAY + timedelta(6))
        await asyncio.gather(*(adapter.slots(query) for _ in range(CONCURRENT)))
        elapsed = time.perf_counter() - began
        await adapter.aclose()
    rows.append(
        (
            f"{CONCURRENT} concurrent requests",
            sim.state.calls["checkAvailability"],
            sim.state.sessions_opened,
            elapsed,
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
    adapter, baseline, concurrent = rows
    transport = "in-process ASGI" if args.in_process else "HTTP on 127.0.0.1"
    print(f"Kirona DRS simulator, {args.latency_ms:g} ms per call, {transport}")
    print(f"First page of {PAGE_DAYS} bookable days from Wed {WEDNESDAY} (Thu and Mon closed)")
    print()
    print(f"| {'how':<38} | {'checkAvailability calls':>23} | {'round trips':>11} | {'time':>7} |")
    print(f"|{'-' * 40}|{'-' * 25}|{'-' * 13}|{'-' * 9}|")
    for name, calls, trips, seconds in (adapter, baseline):
        print(f"| {name:<38} | {calls:>23} | {trips:>11} | {seconds:>6.2f}s |")
    print()
    print(f"Speed-up of the adapter over the baseline: {baseline[3] / adapter[3]:.1f}x")
    name, calls, sessions, seconds = concurrent
    print(
        f"{name}: {sessions} DRS session(s) opened, {calls} checkAvailability calls, {seconds:.2f}s for all"
    )


if __name__ == "__main__":
    main()
