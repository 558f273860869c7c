"""Bookings per second through the real gateway, against an app doing one INSERT a request.

Everything runs on this machine, on 127.0.0.1, each server in its own process under uvicorn
(uvloop and httptools when installed, no access log). Load comes from a small asyncio HTTP/1.1
client in a process of its own (keep-alive, one connection per client, pre-built requests):

1. **The load generator's ceiling**: the same client against a trivial server (a raw asyncio
   protocol answering every request with a fixed body, no framework), at 1 and 32 clients.
   A figure near that ceiling would measure the client, not the server.
2. **Bookings**, on SQLite and on PostgreSQL, at 1 and 32 clients: ``repairs-gateway serve``
   with the demo's Northfield on the built-in calendar, its capacity raised so that no window
   fills; every request books a window (the first page's windows of the demo's three homes,
   round-robin) with an Idempotency-Key of its own. Against it, in the same run and on the
   same database, a bare FastAPI app whose one route INSERTs one row. Rounds interleave
   (baseline, gateway, baseline, ...); medians are reported, with the ratio gateway/baseline.
3. **Nothing lost or doubled**: every client stops sending at the deadline and waits for its
   last answer, so each 201 counted is a finished request. After each gateway run the repairs
   made in it are counted: as many as the 201s, each ``booked``, the calendar's load equal to
   its active bookings and to the booked repairs, and no Idempotency-Key twice. The baseline's
   rows are counted against its 201s too.

    python bench/bookings.py                                  # some 4 minutes
    python bench/bookings.py --seconds 10 --rounds 3
    python bench/bookings.py --databases postgresql --clients 32
    python bench/bookings.py --workers 2                      # both servers with 2 processes

PostgreSQL: ``--pg-admin-url`` (default the dev server at 127.0.0.1:55432) names a server on
which the bench drops and re-creates the database ``repairs_bench_bookings``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

_BENCH = Path(__file__).resolve().parent
_ROOT = _BENCH.parent
# This checkout's code, before any installed copy: the bench measures what it sits in.
sys.path.insert(0, str(_ROOT / "src"))

COUNCIL = "northfield"
UPRNS = ("100012345001", "100012345002", "100012345003")
TRIAGE = "kitchen/sink/blocked"
PG_DB = "repairs_bench_bookings"
BASELINE_TABLE = "bench_baseline"


# --------------------------------------------------------------------------- load generator


async def _client(
    host: str,
    port: int,
    requests: list[bytes],
    offset: int,
    stride: int,
    deadline: float,
    out: dict[str, Any],
) -> None:
    """One keep-alive connection sending requests one after another until the deadline, then
    waiting for its last answer (so every answer counted belongs to a finished request)."""
    reader, writer = await asyncio.open_connection(host, port)
    index = offset
    latencies: list[float] = out["latencies"]
    statuses: dict[int, int] = out["statuses"]
    try:
        while time.perf_counter() < deadline:
            request = requests[index % len(requests)] if requests else b""
            index += stride
            started = time.perf_counter()
            writer.write(request.replace(b"{KEY}", uuid.uuid4().hex.encode()))
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if length:
                await reader.readexactly(length)
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1
    finally:
        writer.close()


async def _load(host: str, port: int, requests: list[bytes], clients: int, seconds: float) -> dict[str, Any]:
    out: dict[str, Any] = {"latencies": [], "statuses": {}}
    started = time.perf_counter()
    deadline = started + seconds
    await asyncio.gather(*(_client(host, port, requests, i, clients, deadline, out) for i in range(clients)))
    elapsed = time.perf_counter() - started
    latencies = sorted(out["latencies"])
    return {
        "requests": len(latencies),
        "elapsed": elapsed,
        "statuses": out["statuses"],
        "p50_ms": 1000 * latencies[len(latencies) // 2] if latencies else 0.0,
        "p99_ms": 1000 * latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] if latencies else 0.0,
    }


def _run_load(port: int, requests: list[bytes], clients: int, seconds: float) -> dict[str, Any]:
    """The load generator in a process of its own, so it does not share the bench's loop."""
    spec = {"port": port, "requests": [r.decode() for r in requests], "clients": clients, "seconds": seconds}
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump(spec, handle)
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--as-load", handle.name], check=True, capture_output=True, text=True
        )
    finally:
        os.unlink(handle.name)
    result: dict[str, Any] = json.loads(done.stdout)
    result["statuses"] = {int(k): v for k, v in result["statuses"].items()}
    return result


def _as_load(spec_file: str) -> None:
    spec = json.loads(Path(spec_file).read_text())
    _fast_loop()
    result = asyncio.run(
        _load(
            "127.0.0.1",
            spec["port"],
            [r.encode() for r in spec["requests"]],
            spec["clients"],
            spec["seconds"],
        )
    )
    print(json.dumps(result))


def _fast_loop() -> None:
    try:
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass


# --------------------------------------------------------------------------- servers


TRIVIAL = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-type: text/plain\r\n\r\nok"


def _as_trivial(port: int) -> None:
    """A server that answers every request with a fixed body: the load generator's ceiling."""

    class Answer(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            self.transport = transport
            self.buffer = b""

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while True:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head, rest = self.buffer[:end], self.buffer[end + 4 :]
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                if len(rest) < length:
                    return
                self.buffer = rest[length:]
                self.transport.write(TRIVIAL)  # type: ignore[attr-defined]

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(Answer, "127.0.0.1", port)
        await server.serve_forever()

    _fast_loop()
    asyncio.run(serve())


def baseline_app(database_url: str) -> Any:
    """A bare FastAPI app whose one route INSERTs the posted body's size into one table."""
    from sqlalchemy import text

    from repairs_gateway.persistence.db import make_engine

    engine = make_engine(database_url)
    app = FastAPI()
    insert = text(f"INSERT INTO {BASELINE_TABLE} (idempotency_key, body) VALUES (:key, :body)")

    @app.post("/insert", status_code=201)
    async def insert_one(request: Request) -> JSONResponse:
        body = await request.body()
        async with engine.begin() as connection:
            await connection.execute(
                insert, {"key": request.headers.get("idempotency-key"), "body": body.decode()}
            )
        return JSONResponse({"stored": True}, status_code=201)

    return app


def _as_baseline(port: int, database_url: str, workers: int) -> None:
    import uvicorn

    os.environ["BENCH_BASELINE_URL"] = database_url
    uvicorn.run(
        "bookings:_baseline_from_environment",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=workers,
        log_level="warning",
        access_log=False,
        app_dir=str(_BENCH),
    )


def _baseline_from_environment() -> Any:
    return baseline_app(os.environ["BENCH_BASELINE_URL"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _wait_for(port: int, process: subprocess.Popen[bytes], seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on {port} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"server on {port} did not start")


@contextmanager
def _process(args: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[None]:
    process = subprocess.Popen(args, env={**os.environ, **(env or {})}, start_new_session=True)
    try:
        _wait_for(port, process)
        yield
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


# --------------------------------------------------------------------------- databases


def _council_document() -> dict[str, Any]:
    """The demo's Northfield, its calendar's capacity raised so that no window fills."""
    from repairs_gateway.demo.data import demo_document

    document = demo_document()
    councils = document["councils"]
    northfield = next(c for c in councils if c["id"] == COUNCIL)
    for scheduler in northfield["schedulers"]:
        for window in scheduler.get("settings", {}).get("windows", []):
            window["capacity"] = {trade: 1_000_000 for trade in window["capacity"]}
    return {"councils": [northfield]}


async def _prepare(database_url: str) -> str:
    """Migrated database with the demo's Northfield addresses, the baseline's table and an
    API key for Northfield (returned)."""
    from sqlalchemy import text

    from repairs_gateway.demo.data import demo_addresses, load_addresses
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.persistence.migrate import upgrade_async
    from repairs_gateway.services.clients import create_client

    await upgrade_async(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    try:
        serial = (
            "INTEGER PRIMARY KEY AUTOINCREMENT" if database_url.startswith("sqlite") else "SERIAL PRIMARY KEY"
        )
        async with engine.begin() as connection:
            await connection.execute(
                text(f"CREATE TABLE {BASELINE_TABLE} (id {serial}, idempotency_key VARCHAR(64), body TEXT)")
            )
        await load_addresses(sessions, demo_addresses([COUNCIL]))
        return await create_client(sessions, "bench", [COUNCIL])
    finally:
        await engine.dispose()


async def _pg_recreate(admin_url: str) -> str:
    import asyncpg  # type: ignore[import-untyped]

    dsn = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f"DROP DATABASE IF EXISTS {PG_DB} WITH (FORCE)")
        await connection.execute(f"CREATE DATABASE {PG_DB}")
    finally:
        await connection.close()
    base = admin_url.rsplit("/", 1)[0]
    return f"{base}/{PG_DB}"


async def _scalar(database_url: str, sql: str) -> Any:
    from sqlalchemy import text

    from repairs_gateway.persistence.db import make_engine

    engine = make_engine(database_url)
    try:
        async with engine.connect() as connection:
            return (await connection.execute(text(sql))).scalar_one()
    finally:
        await engine.dispose()


@dataclass
class Counts:
    repairs: int
    booked: int
    keys: int
    load: int
    active: int
    baseline: int


async def _counts(database_url: str) -> Counts:
    async def one(sql: str) -> int:
        return int(await _scalar(database_url, sql) or 0)

    return Counts(
        repairs=await one("SELECT count(*) FROM repairs"),
        booked=await one("SELECT count(*) FROM repairs WHERE status = 'booked'"),
        keys=await one("SELECT count(DISTINCT idempotency_key) FROM repairs"),
        load=await one("SELECT sum(booked) FROM calendar_load"),
        active=await one("SELECT count(*) FROM calendar_bookings WHERE active"),
        baseline=await one(f"SELECT count(*) FROM {BASELINE_TABLE}"),
    )


# --------------------------------------------------------------------------- requests


def _request(path: str, body: dict[str, Any], key: str) -> bytes:
    payload = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\n"
        "Content-Type: application/json\r\nIdempotency-Key: {KEY}\r\n"
        f"Content-Length: {len(payload)}\r\n\r\n"
    )
    return head.encode() + payload


def _booking_requests(port: int, key: str) -> list[bytes]:
    """One createRepair per (home, window of its first page), each to be sent with a fresh
    Idempotency-Key."""
    import httpx

    requests: list[bytes] = []
    with httpx.Client(
        base_url=f"http://127.0.0.1:{port}", headers={"Authorization": f"Bearer {key}"}
    ) as http:
        for uprn in UPRNS:
            page = http.get(
                f"/v1/councils/{COUNCIL}/appointments", params={"uprn": uprn, "triagePath": TRIAGE}
            )
            page.raise_for_status()
            for day in page.json()["days"]:
                for window in day["windows"]:
                    body = {
                        "uprn": uprn,
                        "repair": {"triagePath": TRIAGE},
                        "description": "The kitchen sink is blocked and will not drain.",
                        "contact": {
                            "name": "Sam Resident",
                            "phone": "07700 900123",
                            "preferredChannel": "sms",
                        },
                        "windowId": window["id"],
                    }
                    requests.append(_request(f"/v1/councils/{COUNCIL}/repairs", body, key))
    # Interleave homes, so neighbouring requests take different calendar rows.
    return requests[0::3] + requests[1::3] + requests[2::3] if len(requests) >= 3 else requests


# --------------------------------------------------------------------------- the run


def _median(runs: list[dict[str, Any]], field: str) -> float:
    return statistics.median(run[field] for run in runs)


def _rate(run: dict[str, Any]) -> float:
    return float(run["statuses"].get(201, 0)) / run["elapsed"]


def ceiling(clients: list[int], seconds: float) -> None:
    port = _free_port()
    with _process([sys.executable, __file__, "--as-trivial", str(port)], port):
        for n in clients:
            run = _run_load(port, [b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"], n, min(seconds, 5.0))
            rate = run["requests"] / run["elapsed"]
            print(
                f"  load generator ceiling at {n:>2} clients: {rate:8.0f} requests/s "
                f"(p50 {run['p50_ms']:.2f} ms) against a trivial server"
            )


def bench_database(
    name: str, database_url: str, clients: list[int], seconds: float, rounds: int, workers: int
) -> list[str]:
    key = asyncio.run(_prepare(database_url))
    env = {
        "REPAIRS_GATEWAY_DATABASE_URL": database_url,
        "REPAIRS_GATEWAY_TOKEN_SECRET": secrets.token_urlsafe(40),
        "REPAIRS_GATEWAY_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(_ROOT / "src"),
    }
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "councils.yaml"
        config.write_text(json.dumps(_council_document()))  # YAML reads JSON
        env["REPAIRS_GATEWAY_CONFIG_FILE"] = str(config)
        gw_port, base_port = _free_port(), _free_port()
        gateway_cmd = [
            sys.executable, "-m", "repairs_gateway.cli", "serve", "--port", str(gw_port),
            "--workers", str(workers), "--no-access-log",
        ]  # fmt: skip
        baseline_cmd = [sys.executable, __file__, "--as-baseline", str(base_port), database_url, str(workers)]
        lines: list[str] = []
        with _process(gateway_cmd, gw_port, env), _process(baseline_cmd, base_port, env):
            bookings = _booking_requests(gw_port, key)
            inserts = [_request("/insert", {"n": i}, key) for i in range(10)]
            _run_load(gw_port, bookings, 4, 2.0)  # warm both up (connections, caches)
            _run_load(base_port, inserts, 4, 1.0)
            for n in clients:
                gw_runs: list[dict[str, Any]] = []
                base_runs: list[dict[str, Any]] = []
                for _ in range(rounds):
                    before = asyncio.run(_counts(database_url))
                    run = _run_load(base_port, inserts, n, seconds)
                    after = asyncio.run(_counts(database_url))
                    _check(
                        run, after.baseline - before.baseline == run["statuses"].get(201, 0), "baseline rows"
                    )
                    base_runs.append({**run, "rate": _rate(run)})
                    before = after
                    run = _run_load(gw_port, bookings, n, seconds)
                    time.sleep(0.2)
                    after = asyncio.run(_counts(database_url))
                    made = run["statuses"].get(201, 0)
                    _check(run, after.repairs - before.repairs == made, "repairs stored == 201s")
                    _check(run, after.booked - before.booked == made, "booked == 201s")
                    _check(run, after.keys == after.repairs, "no Idempotency-Key twice")
                    _check(run, after.load == after.active == after.booked, "calendar load == bookings")
                    gw_runs.append({**run, "rate": _rate(run)})
                rate, base = _median(gw_runs, "rate"), _median(base_runs, "rate")
                line = (
                    f"  {name:<10} {n:>2} clients: bookings {rate:6.0f}/s "
                    f"p50 {_median(gw_runs, 'p50_ms'):6.1f} ms p99 {_median(gw_runs, 'p99_ms'):7.1f} ms | "
                    f"one-INSERT app {base:6.0f}/s p50 {_median(base_runs, 'p50_ms'):5.1f} ms "
                    f"p99 {_median(base_runs, 'p99_ms'):6.1f} ms | ratio {rate / base:.2f}"
                    f" | checked {sum(r['statuses'].get(201, 0) for r in gw_runs)} bookings"
                )
                others = {s: c for r in gw_runs for s, c in r["statuses"].items() if s != 201}
                if others:
                    line += f" | other answers {others}"
                print(line, flush=True)
                lines.append(line)
    return lines


def _check(run: dict[str, Any], ok: bool, what: str) -> None:
    if not ok or not run["statuses"].get(201):
        raise SystemExit(f"CHECK FAILED: {what} (run: {run['statuses']})")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--clients", default="1,32")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--pg-admin-url", default="postgresql+asyncpg://postgres@127.0.0.1:55432/postgres")
    parser.add_argument("--as-load", help=argparse.SUPPRESS)
    parser.add_argument("--as-trivial", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--as-baseline", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.as_load:
        return _as_load(args.as_load)
    if args.as_trivial:
        return _as_trivial(args.as_trivial)
    if args.as_baseline:
        port, url, workers = args.as_baseline
        return _as_baseline(int(port), url, int(workers))
    clients = [int(n) for n in args.clients.split(",")]
    print(
        f"bench/bookings.py: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}, code from {_ROOT}"
    )
    ceiling(clients, args.seconds)
    for name in args.databases.split(","):
        with tempfile.TemporaryDirectory() as folder:
            if name == "sqlite":
                url = f"sqlite+aiosqlite:///{Path(folder) / 'bookings.db'}"
            else:
                url = asyncio.run(_pg_recreate(args.pg_admin_url))
            bench_database(name, url, clients, args.seconds, args.rounds, args.workers)


if __name__ == "__main__":
    main()
