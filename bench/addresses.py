"""GET addresses against a bare FastAPI app returning the same body, and at 1k/100k/1M rows.

Everything runs on this machine, each server in its own process under the same uvicorn
(uvloop and httptools when installed, no access log), and load comes from ``wrk`` (keep-alive,
one thread):

1. **The load generator's ceiling**: wrk against a trivial server (a raw asyncio protocol that
   answers every request with a fixed 2-byte body, no framework), at 1 and 64 connections.
   A figure below near that ceiling would measure wrk, not the server.
2. **The request path**: ``repairs-gateway serve`` on a register of the demo's addresses and
   ``--rows`` more, against a bare FastAPI app whose one route returns the gateway's own
   answer as bytes; at 1 and 64 connections, rounds interleaved (bare, gateway, bare, ...),
   medians reported. The ratio is gateway / bare requests per second; "p50 added" is the
   gateway's median latency less the bare app's, at 1 connection.
3. **Register size**: the gateway at 1 connection on registers of 1k and 100k rows (and 1M
   with ``--million``), each its own SQLite file, rows loaded with ``executemany`` and the
   statistics refreshed as an import does.

    python bench/addresses.py                        # some 3 minutes
    python bench/addresses.py --million              # also 1M rows (a minute or two more)
    python bench/addresses.py --seconds 10 --rounds 5
    python bench/addresses.py --workers 2            # both servers with 2 processes
    python bench/addresses.py --no-sizes             # parts 1 and 2 only
    python bench/addresses.py --database-url postgresql+asyncpg://.../scratch   # part 2 on PG

With ``--database-url`` part 2 runs on that database, whose register rows of Northfield are
replaced (use a scratch database); part 3 always uses SQLite files.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

_BENCH = Path(__file__).resolve().parent
_ROOT = _BENCH.parent
# This checkout's code, before any installed copy: the bench measures what it sits in.
sys.path.insert(0, str(_ROOT / "src"))

COUNCIL = "northfield"
POSTCODE = "NF1 1AA"
PATH = f"/v1/councils/{COUNCIL}/addresses"
QUERY = "?postcode=nf11aa"
TRIVIAL_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"


# --- the servers, each run as `python bench/addresses.py --serve-... PORT` in its own process


def _serve_trivial(port: int) -> None:
    """A server with no framework: each request read is answered with a fixed response."""

    class Answer(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.pending = b""

        def data_received(self, data: bytes) -> None:
            self.pending += data
            count = self.pending.count(b"\r\n\r\n")
            if count:
                self.pending = self.pending[self.pending.rindex(b"\r\n\r\n") + 4 :]
                self.transport.write(TRIVIAL_RESPONSE * count)

    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(Answer, "127.0.0.1", port)
        async with server:
            await server.serve_forever()

    try:
        import uvloop

        uvloop.run(main())
    except ImportError:
        asyncio.run(main())


def bare_app() -> Any:
    """The baseline: FastAPI with one route at the gateway's path, returning the body in
    REPAIRS_BENCH_BODY as it is (built in each uvicorn process, hence a factory)."""
    from fastapi import FastAPI, Query, Response

    body = os.environ["REPAIRS_BENCH_BODY"].encode()
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get(PATH.replace(COUNCIL, "{councilId}"))
    async def addresses(councilId: str, postcode: str = Query(min_length=5)) -> Response:  # noqa: N803
        return Response(body, media_type="application/json")

    return app


def _serve_bare(port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "addresses:bare_app",
        factory=True,
        app_dir=str(_BENCH),
        host="127.0.0.1",
        port=port,
        workers=workers,
        access_log=False,
        log_level="warning",
    )


# --- running servers and wrk


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(url: str, headers: dict[str, str], seconds: float = 120) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=5) as response:
                body: bytes = response.read()
                return body
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


@contextmanager
def _process(command: list[str], env: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    process = subprocess.Popen(command, env=env, start_new_session=True)
    try:
        yield process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


@dataclass(frozen=True)
class Run:
    """What wrk measured."""

    rps: float
    p50_ms: float
    p99_ms: float
    errors: int


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def wrk(url: str, connections: int, seconds: float, key: str | None = None) -> Run:
    """One wrk run: requests/s, p50 and p99 in ms, and non-2xx or socket errors."""
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--latency", "--timeout", "10s"]
    if key:
        command += ["-H", f"Authorization: Bearer {key}"]
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: (.*)", output)
    if socket_errors:
        errors += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return Run(rps, p50, p99, errors)


def median_run(runs: list[Run]) -> Run:
    """The median of each figure over rounds."""
    return Run(
        statistics.median(r.rps for r in runs),
        statistics.median(r.p50_ms for r in runs),
        statistics.median(r.p99_ms for r in runs),
        sum(r.errors for r in runs),
    )


# --- the databases


async def _prepare(url: str, rows: int) -> str:
    """Migrate ``url``, load the demo's Northfield addresses and ``rows`` more, refresh the
    statistics and create a key; answers the key."""
    from sqlalchemy import delete, insert

    from repairs_gateway.builtin.address_register import analyze_register, import_csv
    from repairs_gateway.demo.data import demo_addresses
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.persistence.migrate import upgrade_async
    from repairs_gateway.persistence.models import RegisterAddress
    from repairs_gateway.services.clients import create_client

    await upgrade_async(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions.begin() as session:
            await session.execute(delete(RegisterAddress).where(RegisterAddress.council_id == COUNCIL))
        await import_csv(sessions, COUNCIL, demo_addresses([COUNCIL])[COUNCIL])
        batch: list[dict[str, Any]] = []
        for n in range(rows):
            # Ten properties a postcode, none at the one asked for; UPRNs far from the demo's.
            area = n // 10
            batch.append(
                {
                    "council_id": COUNCIL,
                    "uprn": str(900_000_000_000 + n),
                    "lines": [f"Flat {n % 10 + 1}", f"{area % 500 + 1} Bench Road", "Northfield"],
                    "postcode": f"ZB{area // 1000 % 100} {area % 10}{'ABDEFGHJLN'[area // 10 % 10]}"
                    f"{'PQRSTUWXYZ'[area // 100 % 10]}",
                    "kind": "dwelling",
                    "property_ref": None,
                }
            )
            if len(batch) == 20_000 or n == rows - 1:
                async with sessions.begin() as session:
                    await session.execute(insert(RegisterAddress), batch)
                batch = []
        await analyze_register(sessions)
        return await create_client(sessions, "bench", [COUNCIL])
    finally:
        await engine.dispose()


def _env(url: str) -> dict[str, str]:
    from repairs_gateway.demo.data import demo_config_path

    return {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(_ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "REPAIRS_GATEWAY_DATABASE_URL": url,
        "REPAIRS_GATEWAY_CONFIG_FILE": str(demo_config_path()),
        "REPAIRS_GATEWAY_TOKEN_SECRET": secrets.token_urlsafe(40),
        "REPAIRS_GATEWAY_LOG_LEVEL": "WARNING",
    }


@contextmanager
def gateway(url: str, key: str, workers: int) -> Iterator[tuple[str, bytes]]:
    """``repairs-gateway serve`` on ``url``; yields its addresses URL and its answer."""
    port = _free_port()
    command = [sys.executable, "-m", "repairs_gateway.cli", "serve", "--port", str(port)]
    command += ["--workers", str(workers), "--no-access-log"]
    with _process(command, _env(url)):
        target = f"http://127.0.0.1:{port}{PATH}{QUERY}"
        body = _wait_for(target, {"Authorization": f"Bearer {key}"})
        yield target, body


@contextmanager
def bare(body: bytes, workers: int) -> Iterator[str]:
    """The bare FastAPI app answering ``body``; yields its URL."""
    port = _free_port()
    env = {**os.environ, "REPAIRS_BENCH_BODY": body.decode()}
    with _process([sys.executable, __file__, "--serve-bare", str(port), "--workers", str(workers)], env):
        target = f"http://127.0.0.1:{port}{PATH}{QUERY}"
        _wait_for(target, {})
        yield target


@contextmanager
def trivial() -> Iterator[str]:
    """The trivial server; yields its URL."""
    port = _free_port()
    with _process([sys.executable, __file__, "--serve-trivial", str(port)], dict(os.environ)):
        target = f"http://127.0.0.1:{port}/"
        _wait_for(target, {})
        yield target


# --- the report


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"load {one:.1f}/{five:.1f}"


def main() -> None:
    """Run the three parts and print their tables."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=5.0, help="length of each wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="interleaved rounds; medians are reported")
    parser.add_argument("--workers", type=int, default=1, help="processes of each server")
    parser.add_argument("--rows", type=int, default=1000, help="register rows beside the demo's (part 2)")
    parser.add_argument("--million", action="store_true", help="part 3 at 1M rows too")
    parser.add_argument("--no-sizes", action="store_true", help="skip part 3")
    parser.add_argument("--database-url", help="part 2 on this (scratch) database instead of SQLite")
    parser.add_argument("--serve-bare", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--serve-trivial", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_trivial:
        _serve_trivial(args.serve_trivial)
        return
    if args.serve_bare:
        _serve_bare(args.serve_bare, args.workers)
        return
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed (Debian: apt-get install wrk)")

    import platform

    print(f"# {platform.node()}: {os.cpu_count()} CPUs, Python {platform.python_version()}, {_load()}")
    try:
        import uvloop  # noqa: F401

        print("# uvloop installed")
    except ImportError:
        print("# uvloop NOT installed: uvicorn uses asyncio's loop")
    clients = (1, 64)

    print("\n## 1. wrk's ceiling, against a trivial server")
    with trivial() as url:
        for c in clients:
            run = wrk(url, c, args.seconds)
            print(f"c={c:<3} {run.rps:>9,.0f} req/s  p50 {run.p50_ms:.3f} ms")

    with tempfile.TemporaryDirectory(prefix="bench-addresses-") as scratch:
        url = args.database_url or f"sqlite+aiosqlite:///{scratch}/path.db"
        key = asyncio.run(_prepare(url, args.rows))

        print(f"\n## 2. GET addresses vs bare FastAPI, {args.workers} process(es) each, {_load()}")
        runs: dict[tuple[str, int], list[Run]] = {}
        with gateway(url, key, args.workers) as (gateway_url, body):
            print(f"# body: {len(body)} bytes; register: demo + {args.rows:,} rows on {url.split(':')[0]}")
            with bare(body, args.workers) as bare_url:
                for c in clients:  # warm both: imports, caches, the key
                    wrk(bare_url, c, 1)
                    wrk(gateway_url, c, 1, key)
                for _ in range(args.rounds):
                    for c in clients:
                        runs.setdefault(("bare", c), []).append(wrk(bare_url, c, args.seconds))
                        runs.setdefault(("gateway", c), []).append(wrk(gateway_url, c, args.seconds, key))
        print(
            "| clients | bare req/s | gateway req/s | ratio | bare p50 | gateway p50 | p50 added "
            "| gateway p99 |"
        )
        print("|---:|---:|---:|---:|---:|---:|---:|---:|")
        for c in clients:
            b, g = median_run(runs[("bare", c)]), median_run(runs[("gateway", c)])
            print(
                f"| {c} | {b.rps:,.0f} | {g.rps:,.0f} | {g.rps / b.rps:.2f} | {b.p50_ms:.2f} ms "
                f"| {g.p50_ms:.2f} ms | {g.p50_ms - b.p50_ms:+.2f} ms | {g.p99_ms:.2f} ms |"
            )
            if b.errors or g.errors:
                print(f"  errors: bare {b.errors}, gateway {g.errors}")

        if args.no_sizes:
            return
        sizes = [1_000, 100_000] + ([1_000_000] if args.million else [])
        print(f"\n## 3. GET addresses by register size, 1 client, SQLite, {_load()}")
        keys = {}
        for size in sizes:
            started = time.monotonic()
            keys[size] = asyncio.run(_prepare(f"sqlite+aiosqlite:///{scratch}/rows-{size}.db", size))
            print(f"# loaded {size:,} rows in {time.monotonic() - started:.1f} s")
        by_size: dict[int, list[Run]] = {}
        for _ in range(args.rounds):
            for size in sizes:
                with gateway(f"sqlite+aiosqlite:///{scratch}/rows-{size}.db", keys[size], args.workers) as (
                    target,
                    _body,
                ):
                    wrk(target, 1, 1, keys[size])
                    by_size.setdefault(size, []).append(wrk(target, 1, args.seconds, keys[size]))
        print("| rows | req/s | p50 | p99 | p50 vs 1k |")
        print("|---:|---:|---:|---:|---:|")
        first = median_run(by_size[sizes[0]])
        for size in sizes:
            run = median_run(by_size[size])
            print(
                f"| {size:,} | {run.rps:,.0f} | {run.p50_ms:.2f} ms | {run.p99_ms:.2f} ms "
                f"| {run.p50_ms / first.p50_ms:.2f}x |"
            )
    print(f"\n# done, {_load()}")


if __name__ == "__main__":
    main()
