"""The Kirona DRS simulator as ``bench/recovery.py`` runs it: its own process, a fixed port,
enough capacity for every booking, and a count of the SOAP calls in flight.

    python bench/recovery_drs.py --port 18765 --latency-ms 300 --capacity 1000

Prints ``READY <unix time>`` once it accepts connections (the moment "DRS is back"), and
serves, besides DRS's SOAP endpoint, ``GET /_bench/stats``: the calls per operation, the
most SOAP calls it held at once, and the window each order's booking is scheduled in.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import sys
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "src", _ROOT / "adapters" / "kirona-drs" / "src"):
    # This checkout's code, before any installed copy: the bench measures what it sits in.
    sys.path.insert(0, str(_path))

import uvicorn  # noqa: E402
from repairs_gateway_kirona_drs.simulator import DrsSimulator, SimulatorConfig  # noqa: E402
from starlette.responses import JSONResponse  # noqa: E402

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
STATS_PATH = "/_bench/stats"


class CountingDrs:
    """Wraps the simulator's ASGI app: counts SOAP calls in flight (from the request's
    arrival to the end of its answer, so the simulated latency is inside) and answers
    ``/_bench/stats``."""

    def __init__(self, simulator: DrsSimulator) -> None:
        self.simulator = simulator
        self.in_flight = 0
        self.peak = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.simulator.app(scope, receive, send)  # type: ignore[arg-type]
            return
        if scope["path"] == STATS_PATH:
            await JSONResponse(self.stats())(scope, receive, send)  # type: ignore[arg-type]
            return
        soap = scope["method"] == "POST" and scope["path"] == self.simulator.config.path
        if soap:
            self.in_flight += 1
            self.peak = max(self.peak, self.in_flight)
        try:
            await self.simulator.app(scope, receive, send)  # type: ignore[arg-type]
        finally:
            if soap:
                self.in_flight -= 1

    def stats(self) -> dict[str, Any]:
        """What the bench checks once the run is over."""
        state = self.simulator.state
        orders = []
        for order in state.orders.values():
            windows = [
                [b.window[0].isoformat(), b.window[1].isoformat()]
                for b in order.bookings
                if b.window is not None
            ]
            orders.append({"number": order.primary_order_number, "scheduled": windows})
        return {
            "calls": dict(state.calls),
            "peak_in_flight": self.peak,
            "sessions_opened": state.sessions_opened,
            "orders": orders,
        }


def build(latency_ms: float, capacity: int) -> CountingDrs:
    """The simulator with ``latency_ms`` per call and ``capacity`` jobs per window and trade."""
    return CountingDrs(DrsSimulator(SimulatorConfig(latency_ms=latency_ms, capacity=capacity)))


def listening_socket(port: int) -> socket.socket:
    """127.0.0.1:``port``, reusable at once after a stop, with Nagle off (as ``serve_asgi``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind(("127.0.0.1", port))
    return sock


async def serve(port: int, latency_ms: float, capacity: int) -> None:
    """Serve until SIGTERM or SIGINT."""
    app = build(latency_ms, capacity)
    config = uvicorn.Config(app, log_level="warning", lifespan="off", backlog=4096, timeout_keep_alive=60)
    server = uvicorn.Server(config)  # stops on SIGTERM or SIGINT
    sock = listening_socket(port)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            raise SystemExit(f"the DRS simulator could not start on 127.0.0.1:{port}")
        await asyncio.sleep(0.005)
    print(f"READY {time.time():.6f}", flush=True)
    await task


def main() -> None:
    """Run the simulator process."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--capacity", type=int, default=1000)
    args = parser.parse_args()
    asyncio.run(serve(args.port, args.latency_ms, args.capacity))


if __name__ == "__main__":
    main()
