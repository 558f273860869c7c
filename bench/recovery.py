"""Time from Kirona DRS's recovery to every ``received`` repair settled, for 1,000 repairs.

The scene, each run on fresh tables:

1. The DRS simulator runs in its own process (``bench/recovery_drs.py``) on a fixed
   127.0.0.1 port, ``--latency-ms`` per SOAP call, with room in its diary for every booking.
2. Window ids are fetched through the gateway's API while DRS is up (Eastbrook, the demo's DRS
   council: 3 dwellings x 4 repairs x the first page of windows, starting 2 h ahead or later).
3. DRS is stopped (the process ends: connections are refused). ``--repairs`` repairs are made
   through the API, spread over those windows; each answers 201 ``received`` with a ``book``
   job queued.
4. The worker(s) start, as ``repairs-gateway worker`` processes, and retry against the
   stopped DRS for ``--outage-seconds``, as they would in a real outage (jobs back off).
5. DRS starts again, empty: the clock starts when it accepts connections. The run ends when
   no repair is ``received`` or ``booking``; the time is that of the last repair's update.

Reported per run: seconds to settle all (and to the first booking), repairs booked and
needing a person, DRS calls by operation, the most calls DRS held at once, CPU seconds of the
worker(s) and of DRS while settling, and checks that DRS holds exactly one order per booked
repair, scheduled in that repair's window, and nothing else.

The baseline is one worker running one job at a time (``WORKER_CONCURRENCY=1``), on
``--baseline-repairs`` repairs (1,000 would take some 15 minutes a round); its time is
scaled to ``--repairs`` linearly, and labelled so. Rounds are interleaved (baseline, then
each configuration, then again) and medians are reported: other work on the machine moves
single runs.

    python bench/recovery.py                       # 1,000 repairs, 300 ms, 3 rounds
    python bench/recovery.py --quick               # 50 repairs, 50 ms, 1 round: well under a minute
    python bench/recovery.py --ceiling-only        # what the simulator alone sustains
    python bench/recovery.py --concurrency 16 --two-workers 0 --rounds 1
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import math
import os
import secrets
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

_BENCH = Path(__file__).resolve().parent
_ROOT = _BENCH.parent
for _path in (_ROOT / "src", _ROOT / "adapters" / "kirona-drs" / "src", _BENCH):
    # This checkout's code, before any installed copy: the bench measures what it sits in.
    sys.path.insert(0, str(_path))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
import yaml  # noqa: E402
from recovery_drs import build as build_drs  # noqa: E402
from recovery_drs import listening_socket  # noqa: E402
from sqlalchemy import func, select, text  # noqa: E402

from repairs_gateway.api.app import create_app  # noqa: E402
from repairs_gateway.assembly import assembled  # noqa: E402
from repairs_gateway.config.loader import GatewayConfig, parse_config  # noqa: E402
from repairs_gateway.demo.data import demo_addresses, demo_document, load_addresses  # noqa: E402
from repairs_gateway.demo.run import DRS_PASSWORD_VARIABLE, DRS_SIMULATOR_PASSWORD  # noqa: E402
from repairs_gateway.domain.tokens import TokenSigner  # noqa: E402
from repairs_gateway.metrics import Metrics  # noqa: E402
from repairs_gateway.persistence.db import make_engine, make_sessionmaker  # noqa: E402
from repairs_gateway.persistence.migrate import upgrade_async  # noqa: E402
from repairs_gateway.persistence.models import Job, Repair  # noqa: E402
from repairs_gateway.services.clients import create_client  # noqa: E402
from repairs_gateway.settings import Settings  # noqa: E402
from repairs_gateway.worker.runner import Worker  # noqa: E402

COUNCIL = "eastbrook"
DRS_PATH = "/OTWebServiceGateway_SIM/ws/soap"
DEFAULT_DATABASE = "postgresql+asyncpg://postgres@127.0.0.1:55432/repairs_bench"
DEFAULT_PORT = 18765
REPAIR_PATHS = ("kitchen/sink", "kitchen/tap", "bathroom/toilet", "bathroom/extractor")
LEAD = timedelta(hours=2)
"""Windows starting sooner are not used: a window that begins during a run is one the
worker must (rightly) refuse, which would measure the clock rather than the gateway."""
UNSETTLED = ("received", "booking")
CREATE_CONCURRENCY = 16
POLL_SECONDS = 0.2


# ---------------------------------------------------------------------- what a run is


@dataclass(frozen=True)
class Setup:
    """One run: how many repairs, DRS's latency, and the workers that settle them."""

    database_url: str = DEFAULT_DATABASE
    repairs: int = 1000
    latency_ms: float = 300.0
    concurrency: int = 8
    """Jobs each worker runs at once (``REPAIRS_GATEWAY_WORKER_CONCURRENCY``)."""
    workers: int = 1
    outage_seconds: float = 20.0
    """How long the workers run against a stopped DRS before it comes back."""
    retry_base_seconds: float = 2.0
    retry_cap_seconds: float = 30.0
    port: int = DEFAULT_PORT
    processes: bool = True
    """DRS and the workers in processes of their own (the bench); False runs everything in
    this process's event loop (the quick test, on SQLite)."""
    settle_limit_seconds: float = 1800.0

    @property
    def label(self) -> str:
        """``1 worker x 8`` and so on."""
        return f"{self.workers} worker{'s' if self.workers > 1 else ''} x {self.concurrency}"


@dataclass
class Result:
    """What one run measured and checked."""

    setup: Setup
    settle_seconds: float
    first_booked_seconds: float | None
    create_seconds: float
    statuses: dict[str, int]
    jobs: dict[str, int]
    """Jobs by ``kind/state`` at the end (``book/done``: one per repair)."""
    drs_calls: dict[str, int]
    peak_in_flight: int
    sessions_opened: int
    cpu: dict[str, float]
    problems: list[str] = field(default_factory=list)
    load: str = ""

    @property
    def booked(self) -> int:
        """Repairs booked."""
        return self.statuses.get("booked", 0)

    @property
    def needs_attention(self) -> int:
        """Repairs left for a person."""
        return self.statuses.get("needs_attention", 0)

    @property
    def unsettled(self) -> int:
        """Repairs still received or booking when the run ended (0 unless it timed out)."""
        return sum(self.statuses.get(s, 0) for s in UNSETTLED)

    @property
    def calls(self) -> int:
        """SOAP calls DRS answered while settling."""
        return sum(self.drs_calls.values())


# ---------------------------------------------------------------------- DRS, up and down


class Drs(Protocol):
    """The simulator, started and stopped at will; ``start`` answers when (Unix time) it
    began to accept connections."""

    async def start(self) -> float: ...

    async def stop(self) -> None: ...

    def cpu_seconds(self) -> float | None: ...


class DrsProcess:
    """``bench/recovery_drs.py`` in a process of its own: a fresh, empty DRS at each start."""

    def __init__(self, port: int, latency_ms: float, capacity: int) -> None:
        self._args = [
            sys.executable,
            str(_BENCH / "recovery_drs.py"),
            f"--port={port}",
            f"--latency-ms={latency_ms}",
            f"--capacity={capacity}",
        ]
        self._process: asyncio.subprocess.Process | None = None

    async def start(self) -> float:
        self._process = await asyncio.create_subprocess_exec(*self._args, stdout=asyncio.subprocess.PIPE)
        assert self._process.stdout is not None
        line = await asyncio.wait_for(self._process.stdout.readline(), 60)
        if not line.startswith(b"READY "):
            raise RuntimeError(f"the DRS simulator did not start: {line!r}")
        return float(line.split()[1])

    async def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.returncode is None:
            process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(process.wait(), 15)
            except TimeoutError:
                process.kill()
                await process.wait()

    def cpu_seconds(self) -> float | None:
        return _cpu_seconds(self._process.pid) if self._process else None


class DrsInLoop:
    """The simulator served from this event loop (for the test): a fresh DRS at each start."""

    def __init__(self, port: int, latency_ms: float, capacity: int) -> None:
        self._port, self._latency, self._capacity = port, latency_ms, capacity
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> float:
        app = build_drs(self._latency, self._capacity)
        self._server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
        sock = listening_socket(self._port)
        self._task = asyncio.create_task(self._server.serve(sockets=[sock]))
        while not self._server.started:
            if self._task.done():
                await self._task
                raise RuntimeError("the DRS simulator did not start")
            await asyncio.sleep(0.005)
        return time.time()

    async def stop(self) -> None:
        if self._server is not None and self._task is not None:
            self._server.should_exit = True
            await self._task
        self._server = self._task = None

    def cpu_seconds(self) -> float | None:
        return None


def _cpu_seconds(pid: int) -> float | None:
    """User plus system CPU seconds of a process (Linux), or None."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def drs_stats(port: int) -> dict[str, Any]:
    """What the running simulator counted (``/_bench/stats``)."""
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
        answer = await client.get("/_bench/stats")
        answer.raise_for_status()
        stats: dict[str, Any] = answer.json()
        return stats


# ---------------------------------------------------------------------- workers


class Workers(Protocol):
    """The worker(s) that settle the queued jobs."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    def cpu_seconds(self) -> float | None: ...


class WorkerProcesses:
    """``repairs-gateway worker`` processes sharing the database."""

    def __init__(self, count: int, environ: dict[str, str], log: Path) -> None:
        self._count, self._environ, self._log = count, environ, log
        self._processes: list[asyncio.subprocess.Process] = []

    async def start(self) -> None:
        with self._log.open("ab") as log:
            for _ in range(self._count):
                self._processes.append(
                    await asyncio.create_subprocess_exec(
                        sys.executable,
                        "-m",
                        "repairs_gateway.cli",
                        "worker",
                        env=self._environ,
                        stdout=log,
                        stderr=log,
                    )
                )

    async def stop(self) -> None:
        for process in self._processes:
            if process.returncode is None:
                process.send_signal(signal.SIGTERM)
        for process in self._processes:
            try:
                await asyncio.wait_for(process.wait(), 30)
            except TimeoutError:
                process.kill()
                await process.wait()
        self._processes = []

    def cpu_seconds(self) -> float | None:
        seconds = [_cpu_seconds(p.pid) for p in self._processes]
        return sum(s for s in seconds if s is not None) if seconds else None


class WorkersInLoop:
    """Workers run as tasks of this event loop (for the test)."""

    def __init__(self, count: int, settings: Settings, config: GatewayConfig) -> None:
        self._count, self._settings, self._config = count, settings, config
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    async def _one(self, name: str) -> None:
        signer = TokenSigner(self._settings.token_secret.get_secret_value())
        async with assembled(self._settings, self._config, signer, Metrics()) as parts:
            await Worker(parts, name=name).run(self._stop)

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._one(f"worker-{n}")) for n in range(self._count)]

    async def stop(self) -> None:
        self._stop.set()
        await asyncio.gather(*self._tasks)

    def cpu_seconds(self) -> float | None:
        return None


# ---------------------------------------------------------------------- the gateway's side


def council_document(endpoint: str) -> dict[str, Any]:
    """The demo's DRS council (Eastbrook) alone, pointed at ``endpoint``."""
    document = demo_document(endpoint)
    document["councils"] = [c for c in document["councils"] if c["id"] == COUNCIL]
    return document


async def fresh_database(url: str) -> None:
    """Empty tables at the newest migration."""
    if url.startswith("sqlite"):
        path = Path(url.split("///", 1)[1])
        for suffix in ("", "-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
    else:
        engine = make_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("DROP SCHEMA public CASCADE"))
            await connection.execute(text("CREATE SCHEMA public"))
        await engine.dispose()
    await upgrade_async(url)


async def analyze(url: str) -> None:
    """Give PostgreSQL's planner statistics of the tables just filled, as a database in
    service has. Without them the job queue's claim may take every due job at once,
    whatever its limit (the planner rescans its LIMIT ... SKIP LOCKED subquery), and the
    one-at-a-time baseline would not be one at a time."""
    if url.startswith("postgresql"):
        engine = make_engine(url)
        async with engine.begin() as connection:
            await connection.execute(text("ANALYZE"))
        await engine.dispose()


@contextlib.asynccontextmanager
async def gateway(settings: Settings, config: GatewayConfig) -> AsyncIterator[httpx.AsyncClient]:
    """The app in-process (no worker), reached through ASGI."""
    app = create_app(settings, config)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway", timeout=60) as client:
            yield client


async def offered_windows(client: httpx.AsyncClient, key: str) -> list[tuple[str, str, str]]:
    """(uprn, triage path, window id) for every window on the first page of each repair at
    each dwelling, starting ``LEAD`` or more from now, ordered by day so that repairs made
    round-robin over them spread over the days."""
    headers = {"Authorization": f"Bearer {key}"}
    base = f"/v1/councils/{COUNCIL}"
    found: list[tuple[str, str, str, str]] = []
    earliest = datetime.now(UTC) + LEAD
    for line in demo_addresses([COUNCIL])[COUNCIL].splitlines()[1:]:
        uprn, kind = line.split(",")[0], line.split(",")[-2]
        if kind != "dwelling":
            continue
        for path in REPAIR_PATHS:
            answer = await client.get(
                f"{base}/appointments", params={"uprn": uprn, "triagePath": path}, headers=headers
            )
            if answer.status_code != 200:
                raise RuntimeError(f"appointments for {uprn} {path}: {answer.status_code} {answer.text}")
            for day in answer.json()["days"]:
                for window in day["windows"]:
                    if datetime.fromisoformat(window["start"]) >= earliest:
                        found.append((window["start"], uprn, path, window["id"]))
    if not found:
        raise RuntimeError("DRS offered no window far enough ahead")
    found.sort()
    return [(uprn, path, window) for _, uprn, path, window in found]


async def make_repairs(
    client: httpx.AsyncClient, key: str, windows: Sequence[tuple[str, str, str]], count: int
) -> None:
    """``count`` repairs through the API, round-robin over ``windows``; each must answer 201
    ``received`` (DRS is down)."""
    gate = asyncio.Semaphore(CREATE_CONCURRENCY)
    answers: Counter[str] = Counter()

    async def one(n: int) -> None:
        uprn, path, window = windows[n % len(windows)]
        body = {
            "uprn": uprn,
            "repair": {"triagePath": path},
            "description": f"Bench repair {n}",
            "contact": {"name": "Sam Resident", "phone": "07700 900123", "preferredChannel": "sms"},
            "windowId": window,
        }
        headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": f"bench-{n}"}
        async with gate:
            answer = await client.post(f"/v1/councils/{COUNCIL}/repairs", json=body, headers=headers)
        status = answer.json().get("status") if answer.status_code == 201 else answer.text[:200]
        answers[f"{answer.status_code} {status}"] += 1

    await asyncio.gather(*(one(n) for n in range(count)))
    if answers != Counter({"201 received": count}):
        raise RuntimeError(f"making repairs while DRS is down answered {dict(answers)}")


async def statuses(url: str) -> dict[str, int]:
    """Repairs by status."""
    engine = make_engine(url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(select(Repair.status, func.count()).group_by(Repair.status))
            return {status: int(n) for status, n in rows.all()}
    finally:
        await engine.dispose()


# ---------------------------------------------------------------------- one run


async def run_once(setup: Setup, workdir: Path | None = None) -> Result:
    """Make ``setup.repairs`` repairs while DRS is down, bring it back, and time the
    worker(s) settling them."""
    with tempfile.TemporaryDirectory(prefix="bench-recovery-") as scratch:
        folder = workdir or Path(scratch)
        return await _run(setup, folder)


async def _run(setup: Setup, folder: Path) -> Result:
    load = f"{os.getloadavg()[0]:.2f}"
    endpoint = f"http://127.0.0.1:{setup.port}{DRS_PATH}"
    document = council_document(endpoint)
    environ = {DRS_PASSWORD_VARIABLE: DRS_SIMULATOR_PASSWORD}
    config = parse_config(document, environ=environ)
    secret = secrets.token_urlsafe(48)
    settings = Settings(
        database_url=setup.database_url,
        config_file=folder / "councils.yaml",
        token_secret=secret,
        worker_concurrency=setup.concurrency,
        retry_base_seconds=setup.retry_base_seconds,
        retry_cap_seconds=setup.retry_cap_seconds,
        log_level="WARNING",
    )
    (folder / "councils.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")

    await fresh_database(setup.database_url)
    engine = make_engine(setup.database_url)
    try:
        sessions = make_sessionmaker(engine)
        await load_addresses(sessions, demo_addresses([COUNCIL]))
        key = await create_client(sessions, "bench", [COUNCIL])
    finally:
        await engine.dispose()

    kind = DrsProcess if setup.processes else DrsInLoop
    drs: Drs = kind(setup.port, setup.latency_ms, capacity=max(setup.repairs, 2))
    workers: Workers
    if setup.processes:
        worker_env = {
            **os.environ,
            **environ,
            "REPAIRS_GATEWAY_DATABASE_URL": setup.database_url,
            "REPAIRS_GATEWAY_CONFIG_FILE": str(settings.config_file),
            "REPAIRS_GATEWAY_TOKEN_SECRET": secret,
            "REPAIRS_GATEWAY_WORKER_CONCURRENCY": str(setup.concurrency),
            "REPAIRS_GATEWAY_RETRY_BASE_SECONDS": str(setup.retry_base_seconds),
            "REPAIRS_GATEWAY_RETRY_CAP_SECONDS": str(setup.retry_cap_seconds),
            "REPAIRS_GATEWAY_LOG_LEVEL": "ERROR",
            "PYTHONPATH": os.pathsep.join(
                [str(_ROOT / "src"), str(_ROOT / "adapters" / "kirona-drs" / "src")]
            ),
        }
        workers = WorkerProcesses(setup.workers, worker_env, folder / "workers.log")
    else:
        workers = WorkersInLoop(setup.workers, settings, config)

    try:
        # DRS up: the windows a resident would have been offered.
        await drs.start()
        async with gateway(settings, config) as client:
            windows = await offered_windows(client, key)
            await drs.stop()
            # DRS down: every repair is stored, answered "received", and queued.
            began = time.perf_counter()
            await make_repairs(client, key, windows, setup.repairs)
            create_seconds = time.perf_counter() - began
        await analyze(setup.database_url)
        await workers.start()
        await asyncio.sleep(setup.outage_seconds)

        # DRS back: the clock starts.
        recovered = await drs.start()
        cpu_before = (workers.cpu_seconds(), drs.cpu_seconds())
        deadline = time.monotonic() + setup.settle_limit_seconds
        while time.monotonic() < deadline:
            counts = await statuses(setup.database_url)
            if not any(counts.get(s) for s in UNSETTLED):
                break
            await asyncio.sleep(POLL_SECONDS)
        cpu_after = (workers.cpu_seconds(), drs.cpu_seconds())
        await workers.stop()
        stats = await drs_stats(setup.port)
    finally:
        await workers.stop()
        await drs.stop()

    cpu = {
        name: after - before
        for name, before, after in zip(("workers", "drs"), cpu_before, cpu_after, strict=True)
        if before is not None and after is not None
    }
    return await _judge(setup, recovered, create_seconds, stats, cpu, load)


async def _judge(
    setup: Setup,
    recovered: float,
    create_seconds: float,
    stats: dict[str, Any],
    cpu: dict[str, float],
    load: str,
) -> Result:
    """Read back what the gateway and DRS hold and check they agree."""
    engine = make_engine(setup.database_url)
    try:
        async with engine.connect() as connection:
            repairs = (
                await connection.execute(
                    select(
                        Repair.reference,
                        Repair.status,
                        Repair.window_start,
                        Repair.window_end,
                        Repair.updated_at,
                    )
                )
            ).all()
            jobs = {
                f"{kind}/{state}": int(n)
                for kind, state, n in (
                    await connection.execute(
                        select(Job.kind, Job.state, func.count()).group_by(Job.kind, Job.state)
                    )
                ).all()
            }
    finally:
        await engine.dispose()

    by_status = Counter(r.status for r in repairs)
    problems: list[str] = []
    orders: dict[str, list[list[str]]] = {}
    for order in stats["orders"]:
        if order["number"] in orders:
            problems.append(f"DRS holds two orders {order['number']}")
        orders[order["number"]] = order["scheduled"]
    booked = {r.reference: r for r in repairs if r.status == "booked"}
    for reference, repair in booked.items():
        scheduled = orders.get(reference)
        if scheduled is None:
            problems.append(f"{reference} reads booked; DRS holds no order for it")
            continue
        windows = [(datetime.fromisoformat(s), datetime.fromisoformat(e)) for s, e in scheduled]
        if windows != [(repair.window_start, repair.window_end)]:
            problems.append(f"{reference}: DRS schedules {scheduled}, the repair reads its own window")
    for number in orders.keys() - booked.keys():
        problems.append(f"DRS holds order {number}, which no booked repair owns")
    book_jobs = {key: n for key, n in jobs.items() if key.startswith("book/")}
    if book_jobs != {"book/done": setup.repairs}:
        problems.append(f"book jobs at the end: {book_jobs}")
    if len(repairs) != setup.repairs:
        problems.append(f"{len(repairs)} repairs stored of {setup.repairs} made")
    settled_at = [r.updated_at.timestamp() for r in repairs]
    booked_at = [r.updated_at.timestamp() for r in booked.values()]
    return Result(
        setup=setup,
        settle_seconds=max(settled_at) - recovered,
        first_booked_seconds=min(booked_at) - recovered if booked_at else None,
        create_seconds=create_seconds,
        statuses=dict(by_status),
        jobs=jobs,
        drs_calls=dict(stats["calls"]),
        peak_in_flight=int(stats["peak_in_flight"]),
        sessions_opened=int(stats["sessions_opened"]),
        cpu=cpu,
        problems=problems,
        load=load,
    )


# ---------------------------------------------------------------------- the simulator's ceiling

_OPEN_SESSION = (
    b'<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/"><soap:Body>'
    b'<ns:openSession xmlns:ns="http://autogenerated.OTWebServiceApi.xmbrace.com/"><openSession>'
    b"<id>1</id><login>gateway</login><password>drs-sim-password</password>"
    b"</openSession></ns:openSession></soap:Body></soap:Envelope>"
)


async def _raw_caller(port: int, calls: int, go: asyncio.Event) -> None:
    """``calls`` openSession calls one after another on one keep-alive connection, in plain
    HTTP/1.1 over asyncio streams: an HTTP client library would measure itself (httpx
    spends several ms of CPU a call once a hundred connections are open)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = (
        f"POST {DRS_PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/xml; charset=UTF-8\r\n"
        f'SOAPAction: "http://autogenerated.OTWebServiceApi.xmbrace.com/SOAP/openSession"\r\n'
        f"Content-Length: {len(_OPEN_SESSION)}\r\n\r\n"
    ).encode() + _OPEN_SESSION
    try:
        await go.wait()  # every connection is open before the clock starts
        for _ in range(calls):
            writer.write(request)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(f"the simulator answered {head[:40]!r}")
            length = next(
                int(line.split(b":", 1)[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")
            )
            await reader.readexactly(length)
    finally:
        writer.close()


async def ceiling(
    port: int, latency_ms: float, levels: Sequence[int]
) -> list[tuple[int, float, float, float]]:
    """How many trivial calls (openSession) a second the simulator answers with ``level``
    in flight, against the ideal ``level / latency``, and its CPU ms a call."""
    drs = DrsProcess(port, latency_ms, capacity=2)
    await drs.start()
    rows = []
    per_caller = 10
    try:
        for level in levels:
            go = asyncio.Event()
            callers = [asyncio.create_task(_raw_caller(port, per_caller, go)) for _ in range(level)]
            await asyncio.sleep(1.0)  # connections made (a burst of connects may wait on SYN retries)
            cpu = drs.cpu_seconds()
            began = time.perf_counter()
            go.set()
            await asyncio.gather(*callers)
            elapsed = time.perf_counter() - began
            after = drs.cpu_seconds()
            spent = (after - cpu) / (per_caller * level) * 1000 if after is not None and cpu else math.nan
            rows.append((level, per_caller * level / elapsed, level / (latency_ms / 1000), spent))
    finally:
        await drs.stop()
    return rows


# ---------------------------------------------------------------------- the table


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else math.nan


def report(baseline: list[Result], measured: dict[str, list[Result]], repairs: int, latency_ms: float) -> str:
    """The table of medians, with ratios against the baseline scaled to ``repairs``."""
    lines = []
    base_repairs = baseline[0].setup.repairs if baseline else repairs
    scale = repairs / base_repairs
    base_settle = _median([r.settle_seconds for r in baseline]) * scale
    header = (
        f"| {'configuration':<32} | {'rounds':>6} | {'settle all (median)':>19} | {'range':>13} |"
        f" {'speed-up':>8} | {'first booked':>12} | {'repairs/s':>9} | {'DRS calls':>9} |"
        f" {'peak in flight':>14} | {'CPU workers / DRS':>17} |"
    )
    lines.append(header)
    lines.append("|" + "|".join("-" * len(c) for c in header.strip("|").split("|")) + "|")

    def row(name: str, results: list[Result], settle: float, span: str) -> None:
        calls = _median([r.calls for r in results])
        peak = _median([r.peak_in_flight for r in results])
        first = _median([r.first_booked_seconds or math.nan for r in results])
        workers = _median([r.cpu.get("workers", math.nan) for r in results])
        drs = _median([r.cpu.get("drs", math.nan) for r in results])
        lines.append(
            f"| {name:<32} | {len(results):>6} | {settle:>18.1f}s | {span:>13} |"
            f" {base_settle / settle:>7.1f}x | {first:>11.1f}s | {repairs / settle:>9.1f} |"
            f" {calls:>9.0f} | {peak:>14.0f} | {workers:>7.1f}s / {drs:>5.1f}s |"
        )

    if baseline:
        low = min(r.settle_seconds for r in baseline)
        high = max(r.settle_seconds for r in baseline)
        row(
            f"baseline 1 x 1 ({base_repairs} x{scale:g})",
            baseline,
            base_settle,
            f"{low * scale:.0f}-{high * scale:.0f}s",
        )
    for name, results in measured.items():
        settle = _median([r.settle_seconds for r in results])
        span = f"{min(r.settle_seconds for r in results):.1f}-{max(r.settle_seconds for r in results):.1f}s"
        row(name, results, settle, span)
    lines.append("")
    lines.append(
        f"{repairs} repairs, DRS at {latency_ms:g} ms a call. Baseline: measured on {base_repairs} repairs,"
        f" time x{scale:g} (calls and CPU as measured on {base_repairs})."
    )
    return "\n".join(lines)


def describe(result: Result) -> str:
    """One run in a line."""
    r = result
    cpu = ", ".join(f"{k} {v:.1f}s CPU" for k, v in r.cpu.items())
    calls = ", ".join(f"{k} {v}" for k, v in sorted(r.drs_calls.items()))
    first = f"{r.first_booked_seconds:.1f}s" if r.first_booked_seconds is not None else "-"
    verdict = "checks passed" if not r.problems else f"{len(r.problems)} PROBLEMS: {r.problems[:3]}"
    return (
        f"{r.setup.label}, {r.setup.repairs} repairs: settled in {r.settle_seconds:.1f}s"
        f" (first booked {first});"
        f" booked {r.booked}, needs attention {r.needs_attention}, unsettled {r.unsettled};"
        f" jobs {r.jobs}; DRS calls {r.calls} ({calls}); peak {r.peak_in_flight} in flight;"
        f" {cpu}; made in {r.create_seconds:.1f}s; load {r.load}; {verdict}"
    )


# ---------------------------------------------------------------------- main


def _parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repairs", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument(
        "--concurrency",
        default="8,16,32",
        help="worker concurrencies to measure, one worker process each (comma separated)",
    )
    parser.add_argument(
        "--two-workers",
        type=int,
        default=16,
        help="also measure two worker processes at this concurrency each (0: not)",
    )
    parser.add_argument("--baseline-repairs", type=int, default=100, help="0: no baseline")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--outage-seconds", type=float, default=20.0)
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--quick", action="store_true", help="50 repairs, 50 ms, one round, 1 x 8 only")
    parser.add_argument("--ceiling-only", action="store_true", help="only check the simulator's ceiling")
    parser.add_argument("--no-ceiling", action="store_true")
    parser.add_argument("--json", type=Path, help="also write every run's figures here")
    args = parser.parse_args()
    if args.quick:
        args.repairs, args.latency_ms, args.rounds = 50, 50.0, 1
        args.concurrency, args.two_workers, args.baseline_repairs = "8", 0, 20
        args.outage_seconds, args.no_ceiling = 5.0, True
    return args


async def _main(args: argparse.Namespace) -> int:
    if not args.no_ceiling or args.ceiling_only:
        levels = (8, 32, 64, 128, 256)
        print(f"The simulator alone, {args.latency_ms:g} ms a call, trivial calls (openSession):", flush=True)
        for level, rate, ideal, cpu_ms in await ceiling(args.port, args.latency_ms, levels):
            print(
                f"  {level:>4} in flight: {rate:7.1f} calls/s (ideal {ideal:7.1f}, {rate / ideal:4.0%}),"
                f" {cpu_ms:.1f} ms of simulator CPU a call"
            )
        print(flush=True)
        if args.ceiling_only:
            return 0

    common = Setup(
        database_url=args.database_url,
        repairs=args.repairs,
        latency_ms=args.latency_ms,
        outage_seconds=args.outage_seconds,
        port=args.port,
    )
    base_setup = replace(common, repairs=args.baseline_repairs, concurrency=1)
    setups = [replace(common, concurrency=int(c)) for c in str(args.concurrency).split(",") if c.strip()]
    if args.two_workers:
        setups.append(replace(common, concurrency=args.two_workers, workers=2))
    baseline: list[Result] = []
    measured: dict[str, list[Result]] = {s.label: [] for s in setups}
    every: list[Result] = []
    every_setup = [base_setup, *setups] if args.baseline_repairs else setups
    for round_ in range(1, args.rounds + 1):
        for setup in every_setup:
            result = await run_once(setup)
            every.append(result)
            (baseline if setup is base_setup else measured[setup.label]).append(result)
            print(f"round {round_}: {describe(result)}", flush=True)
    print()
    print(report(baseline, measured, args.repairs, args.latency_ms))
    if args.json:
        args.json.write_text(
            json.dumps(
                [
                    {
                        "label": r.setup.label,
                        "repairs": r.setup.repairs,
                        "settle_seconds": r.settle_seconds,
                        "first_booked_seconds": r.first_booked_seconds,
                        "statuses": r.statuses,
                        "jobs": r.jobs,
                        "drs_calls": r.drs_calls,
                        "peak_in_flight": r.peak_in_flight,
                        "cpu": r.cpu,
                        "problems": r.problems,
                        "load": r.load,
                    }
                    for r in every
                ],
                indent=1,
            )
        )
    failed = [r for r in every if r.problems or r.unsettled]
    if failed:
        print(f"\n{len(failed)} run(s) failed their checks: see above.")
    return 1 if failed else 0


def main() -> None:
    """Run the benchmark and print the table."""
    args = _parse()
    # The gateway logs each call a stopped DRS fails: expected here, and noise.
    logging.basicConfig(level=logging.ERROR)
    raise SystemExit(asyncio.run(_main(args)))


def free_port() -> int:
    """A free port of 127.0.0.1 (for the test)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


if __name__ == "__main__":
    main()
