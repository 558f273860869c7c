"""Connection limits: a burst of pages must not queue for HTTP connections to DRS.

These tests run the simulator behind uvicorn on 127.0.0.1, and the adaptor with its own
HTTP client (as the gateway builds it), so that httpx's real connection pool is used."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import uvicorn
from repairs_gateway.ports import AdapterContext, Address, Job, Priority, SlotQuery

from drs_helpers import CONTRACT, LOGIN, MONDAY, PASSWORD, FakeClock
from repairs_gateway_kirona_drs import DrsScheduler, DrsSettings
from repairs_gateway_kirona_drs.simulator import DrsSimulator

PAGES = 100
DAYS = 14  # two 7-day checkAvailability windows a page


class _Peak:
    """ASGI middleware: the most requests the simulator had in hand at once."""

    def __init__(self, app: Any) -> None:
        self._app = app
        self.now = 0
        self.peak = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        self.now += 1
        self.peak = max(self.peak, self.now)
        try:
            await self._app(scope, receive, send)
        finally:
            self.now -= 1


@asynccontextmanager
async def _served(app: Any) -> AsyncIterator[str]:
    """``app`` served on a free port of 127.0.0.1; answers its base URL."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            app, log_level="warning", lifespan="off", backlog=1024, timeout_keep_alive=120
        )
    )
    task = asyncio.create_task(server.serve(sockets=[sock]))
    for _ in range(1000):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


def _adaptor(sim: DrsSimulator, base: str, clock: FakeClock, **settings: Any) -> DrsScheduler:
    drs = DrsSettings(
        endpoint=sim.endpoint(base),
        login=LOGIN,
        password=PASSWORD,
        contract=CONTRACT,
        timeout_seconds=30,
        **settings,
    )
    # No http_client: the adaptor builds its own, with the pool its settings give.
    return DrsScheduler(drs, AdapterContext("northfield"), clock=clock)


def _pages(count: int, days: int) -> list[SlotQuery]:
    """One page each for ``count`` residents at different properties (so that no two
    share a fetch or a cache entry)."""
    job = Job(trade="plumbing", duration_minutes=60, priority=Priority.NORMAL, sor_code="20060020")
    return [
        SlotQuery(
            "northfield",
            Address(uprn=f"1000{n:08d}", lines=(f"{n} High Street",), postcode="NF1 1AA"),
            job,
            MONDAY,
            MONDAY + timedelta(days=days - 1),
        )
        for n in range(count)
    ]


async def test_a_hundred_pages_send_their_two_hundred_calls_at_once(clock: FakeClock) -> None:
    sim = DrsSimulator(clock=clock)
    async with _served(sim.app) as base:
        adaptor = _adaptor(sim, base, clock)  # the default limits
        try:
            await adaptor.prepare()
            sim.holds.arm("checkAvailability", "before", count=2 * PAGES)
            pages = [asyncio.create_task(adaptor.slots(q)) for q in _pages(PAGES, DAYS)]
            # Every call reaches DRS while none has been answered: none waits for a
            # connection. (httpx's default pool of 100 would stop at 100.)
            for _ in range(3000):
                if len(sim.holds.held) >= 2 * PAGES:
                    break
                await asyncio.sleep(0.01)
            held = len(sim.holds.held)
            await sim.holds.release(drop=False)
            answered = await asyncio.gather(*pages)
        finally:
            await adaptor.aclose()
    assert held == 2 * PAGES
    assert all(len(page) == 40 for page in answered)


async def test_the_connection_limit_is_a_setting(clock: FakeClock) -> None:
    sim = DrsSimulator(clock=clock)
    peak = _Peak(sim.app)
    async with _served(peak) as base:
        adaptor = _adaptor(sim, base, clock, max_connections=4, max_keepalive_connections=4)
        try:
            await adaptor.prepare()
            answered = await asyncio.gather(*(adaptor.slots(q) for q in _pages(20, 7)))
        finally:
            await adaptor.aclose()
    assert all(len(page) == 20 for page in answered)
    assert sim.state.calls["checkAvailability"] == 20
    assert peak.peak <= 4
