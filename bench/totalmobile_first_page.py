"""Time to the first page of five bookable days through Totalmobile, and tokens fetched.

Runs the Totalmobile simulator at 300 ms per call (token, jobs and offer calls alike)
behind real HTTP on 127.0.0.1, then compares, side by side:

* the adapter: the fortnight's offers in one appointment-offers call (14 days a call,
  parallel when more), on a fresh adapter (a token to fetch, the quote job to make) and
  on a warm one (both in hand: what every later resident sees);
* a baseline as earlier integrations did it: one day per offers call, one call after
  another, until five days with a free band are found;

and counts the tokens fetched by 50 concurrent slot requests.

    python bench/totalmobile_first_page.py [--latency-ms 300] [--in-process]
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
for _path in (_ROOT / "src", _ROOT / "adapters" / "totalmobile" / "src"):
    if str(_path) not in sys.path:  # run from a checkout without installing
        sys.path.append(str(_path))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from pydantic import SecretStr  # noqa: E402
from repairs_gateway_totalmobile import TotalmobileScheduler, TotalmobileSettings  # noqa: E402
from repairs_gateway_totalmobile.simulator import (  # noqa: E402
    SimulatorConfig,
    TotalmobileSimulator,
)

from repairs_gateway.ports import AdapterContext, Address, Job, Slot, SlotQuery  # noqa: E402

LONDON = ZoneInfo("Europe/London")
WEDNESDAY = date(2025, 6, 4)
# No free bands on Thursday (a bank holiday) and the next Monday (the team's day off):
# with the weekend, the first five bookable days span nine calendar days.
CLOSED = frozenset({date(2025, 6, 5), date(2025, 6, 9)})
PAGE_DAYS = 5
HORIZON_DAYS = 14
CONCURRENT = 50

ADDRESS = Address(uprn="100023336956", lines=("1 High Street",), postcode="NF1 1AA")
JOB = Job(trade="plumbing", duration_minutes=60, sor_code="20060020")

Row = tuple[str, int, int, float]
"""What was run, offers calls, calls of any kind one after another, seconds."""


def _clock() -> datetime:
    # Early on the Wednesday: every band of the fortnight is still ahead.
    return datetime(2025, 6, 4, 7, 0, tzinfo=LONDON)


def _query(first: date, last: date) -> SlotQuery:
    return SlotQuery("northfield", ADDRESS, JOB, first, last)


def _first_page(slots: Sequence[Slot]) -> list[date]:
    return sorted({s.start.date() for s in slots})[:PAGE_DAYS]


@contextlib.asynccontextmanager
async def _serve(sim: TotalmobileSimulator, in_process: bool) -> AsyncIterator[str]:
    """The simulator's base URL: over 127.0.0.1, or in-process (``asgi://``)."""
    if in_process:
        yield "asgi://"
        return
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(sim.app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


def _adapter(sim: TotalmobileSimulator, base: str) -> TotalmobileScheduler:
    config = sim.config
    settings = TotalmobileSettings(
        base_url="http://tm.bench" if base.startswith("asgi") else base,
        instance=config.instance,
        world_id=config.world_id,
        client_id=config.client_id,
        client_secret=SecretStr(config.client_secret),
        offer_days=HORIZON_DAYS,
        timeout_seconds=30,
        max_connections=CONCURRENT + 10,
    )
    transport = httpx.ASGITransport(app=sim.app) if base.startswith("asgi") else None
    return TotalmobileScheduler(settings, AdapterContext("northfield"), transport=transport, clock=_clock)


async def _adapter_rows(config: SimulatorConfig, in_process: bool) -> tuple[Row, Row, list[date]]:
    sim = TotalmobileSimulator(config, clock=_clock)
    async with _serve(sim, in_process) as base:
        adapter = _adapter(sim, base)
        fortnight = _query(WEDNESDAY, WEDNESDAY + timedelta(HORIZON_DAYS - 1))
        began = time.perf_counter()
        page = _first_page(await adapter.slots(fortnight))
        cold_time = time.perf_counter() - began
        cold_calls = sum(sim.world.calls.values())
        cold_offers = sim.world.calls["offers"]
        # The next resident: token and quote job in hand.
        began = time.perf_counter()
        again = _first_page(await adapter.slots(fortnight))
        warm_time = time.perf_counter() - began
        warm_offers = sim.world.calls["offers"] - cold_offers
        warm_calls = sum(sim.world.calls.values()) - cold_calls
        await adapter.aclose()
    assert len(page) == PAGE_DAYS and again == page, page
    return (
        # token, offers (404: no quote job yet), the quote job, offers: one after another
        ("adapter, fresh: 14 days a call", cold_offers, cold_calls, cold_time),
        ("adapter, warm: 14 days a call", warm_offers, warm_calls, warm_time),
        page,
    )


async def _baseline_rows(config: SimulatorConfig, in_process: bool, page: list[date]) -> tuple[Row, Row]:
    sim = TotalmobileSimulator(config, clock=_clock)
    rows: list[Row] = []
    async with _serve(sim, in_process) as base:
        adapter = _adapter(sim, base)
        for name in ("baseline, fresh: 1 day a call", "baseline, warm: 1 day a call"):
            offers_before, calls_before = sim.world.calls["offers"], sum(sim.world.calls.values())
            began = time.perf_counter()
            found: list[Slot] = []
            day = WEDNESDAY
            while len(_first_page(found)) < PAGE_DAYS:
                found += await adapter.slots(_query(day, day))
                day += timedelta(days=1)
            elapsed = time.perf_counter() - began
            assert _first_page(found) == page
            rows.append(
                (
                    name,
                    sim.world.calls["offers"] - offers_before,
                    sum(sim.world.calls.values()) - calls_before,
                    elapsed,
                )
            )
        await adapter.aclose()
    return rows[0], rows[1]


async def _concurrent(config: SimulatorConfig, in_process: bool) -> tuple[int, int, float]:
    sim = TotalmobileSimulator(config, clock=_clock)
    async with _serve(sim, in_process) as base:
        adapter = _adapter(sim, base)
        began = time.perf_counter()
        query = _query(WEDNESDAY, WEDNESDAY + timedelta(6))
        await asyncio.gather(*(adapter.slots(query) for _ in range(CONCURRENT)))
        elapsed = time.perf_counter() - began
        await adapter.aclose()
    return sim.world.token_requests, sim.world.calls["create_job"], elapsed


async def _run(latency_ms: float, in_process: bool) -> None:
    config = SimulatorConfig(latency_ms=latency_ms, holidays=CLOSED)
    cold, warm, page = await _adapter_rows(config, in_process)
    base_cold, base_warm = await _baseline_rows(config, in_process, page)
    tokens, quotes, seconds = await _concurrent(config, in_process)

    transport = "in-process ASGI" if in_process else "HTTP on 127.0.0.1"
    print(f"Totalmobile simulator, {latency_ms:g} ms per call, {transport}")
    print(f"First page of {PAGE_DAYS} bookable days from Wed {WEDNESDAY} (Thu and Mon closed)")
    print()
    print(f"| {'how':<32} | {'offers calls':>12} | {'calls in all':>12} | {'time':>7} |")
    print(f"|{'-' * 34}|{'-' * 14}|{'-' * 14}|{'-' * 9}|")
    for name, offers, calls, elapsed in (cold, base_cold, warm, base_warm):
        print(f"| {name:<32} | {offers:>12} | {calls:>12} | {elapsed:>6.2f}s |")
    print()
    print(f"Speed-up over the baseline, fresh: {base_cold[3] / cold[3]:.1f}x")
    print(f"Speed-up over the baseline, warm:  {base_warm[3] / warm[3]:.1f}x")
    print(
        f"{CONCURRENT} concurrent first pages on a fresh adapter: {tokens} token(s) fetched, "
        f"{quotes} quote job(s) made, {seconds:.2f}s for all"
    )


def main() -> None:
    """Run the benchmark and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--in-process", action="store_true", help="no HTTP server, ASGI in-process")
    args = parser.parse_args()
    asyncio.run(_run(args.latency_ms, args.in_process))


if __name__ == "__main__":
    main()
