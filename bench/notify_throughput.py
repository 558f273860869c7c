"""The worker sends 10,000 queued messages to the GOV.UK Notify simulator at its rate limit:
how fast, against the limit, and whether any message went twice or not at all.

The scene, each run on fresh tables:

1. The Notify simulator runs in its own process (``repairs-gateway simulate govuk-notify``)
   with the rate limit ``--rate`` (Notify's live one, ``3000/60``, by default) and its
   default templates.
2. ``--messages`` repairs of Northfield (the demo council, sending through the simulator:
   booking confirmations only, by text) are stored as booked, each with its ``booked`` event
   and the ``notify`` job that sends its confirmation, as a booking would leave them.
3. ``--workers`` ``repairs-gateway worker`` processes start (``WORKER_CONCURRENCY``
   ``--concurrency``) and the clock with them. The run ends when every message is recorded
   ``sent`` and no message job is left.

Reported: messages per second overall and after the simulator's first window (a rate limit of
3000 per 60 s lets the first 3000 go at once; the limit proper is the sustained rate), the most
messages the simulator accepted in any window of the limit's length (never above the limit),
429s the workers met (counted from their logs), duplicates (a reference the simulator holds more
than once) and losses (a message not recorded sent, or not at the simulator), both 0.

    python bench/notify_throughput.py                          # 10,000 at 3000/60, 1 worker
    python bench/notify_throughput.py --quick                  # 600 at 150/3: the same 50/s, ~15 s
    python bench/notify_throughput.py --workers 2 --database-url postgresql+asyncpg://...

SQLite (the default, a temporary file) serves one worker; several need PostgreSQL.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

_BENCH = Path(__file__).resolve().parent
_ROOT = _BENCH.parent
for _path in (_ROOT / "src", _ROOT / "adapters" / "govuk-notify" / "src"):
    # This checkout's code, before any installed copy: the bench measures what it sits in.
    sys.path.insert(0, str(_path))

import httpx  # noqa: E402
import yaml  # noqa: E402
from repairs_gateway_govuk_notify.simulator import template_id  # noqa: E402
from sqlalchemy import func, inspect, select, text  # noqa: E402

from repairs_gateway.demo.data import demo_document  # noqa: E402
from repairs_gateway.domain.history import EventKind  # noqa: E402
from repairs_gateway.persistence.db import make_engine, make_sessionmaker  # noqa: E402
from repairs_gateway.persistence.migrate import upgrade_async  # noqa: E402
from repairs_gateway.persistence.models import Job, Message, Repair, utcnow  # noqa: E402
from repairs_gateway.persistence.repair_store import record_events  # noqa: E402
from repairs_gateway.services.clients import create_client  # noqa: E402

CLI = [sys.executable, "-m", "repairs_gateway.cli"]
COUNCIL = "northfield"
KEY_VARIABLE = "BENCH_NOTIFY_API_KEY"
KIND = "booking_confirmed"
SEED_BATCH = 500
POLL_SECONDS = 0.25


@dataclass(frozen=True)
class Setup:
    """One run."""

    messages: int = 10_000
    rate: str = "3000/60"
    """The simulator's limit, requests per seconds (``GOVUK_NOTIFY_SIM_RATE_LIMIT``)."""
    workers: int = 1
    concurrency: int = 8
    database_url: str | None = None
    """None: a fresh SQLite file in ``folder``."""
    folder: Path | None = None
    retry_base_seconds: float = 1.0
    retry_cap_seconds: float = 5.0
    limit_seconds: float = 1800.0

    @property
    def limit(self) -> tuple[int, float]:
        count, seconds = self.rate.split("/")
        return int(count), float(seconds)


@dataclass
class Result:
    """What a run measured and checked."""

    setup: Setup
    seconds: float
    sent: int
    at_simulator: int
    duplicates: int
    losses: int
    rate_limited: int
    busiest_window: int
    sustained_per_second: float | None
    states: dict[str, int] = field(default_factory=dict)

    @property
    def per_second(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    def report(self) -> str:
        count, seconds = self.setup.limit
        limit = count / seconds
        sustained = (
            f"{self.sustained_per_second:.1f}/s ({self.sustained_per_second / limit:.0%} of the limit)"
            if self.sustained_per_second is not None
            else "n/a (all within the first window)"
        )
        return "\n".join(
            [
                f"{self.setup.messages} messages, limit {self.setup.rate} ({limit:g}/s sustained),"
                f" {self.setup.workers} worker(s) x {self.setup.concurrency}",
                f"  all sent in {self.seconds:.1f} s: {self.per_second:.1f} messages/s overall",
                f"  after the first {seconds:g} s window: {sustained}",
                f"  most accepted in any {seconds:g} s: {self.busiest_window} (limit {count})",
                f"  429s met by the workers: {self.rate_limited}",
                f"  duplicates: {self.duplicates}   losses: {self.losses}"
                f"   (recorded sent {self.sent}, at the simulator {self.at_simulator})",
            ]
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Child:
    """A process writing to a log file."""

    def __init__(self, command: list[str], env: dict[str, str], log: Path) -> None:
        self.log = log
        self._out = log.open("w", encoding="utf-8")
        self.popen = subprocess.Popen(command, stdout=self._out, stderr=subprocess.STDOUT, env=env)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        self._out.close()


def _environment(**values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("REPAIRS_GATEWAY_", "GOVUK_NOTIFY_SIM"))}
    return {**env, "PYTHONUNBUFFERED": "1", "PYTHONPATH": os.pathsep.join(sys.path[:2]), **values}


def start_simulator(setup: Setup, folder: Path) -> tuple[Child, str, str]:
    """The simulator process, its URL and its live key."""
    port = free_port()
    env = _environment(GOVUK_NOTIFY_SIM_RATE_LIMIT=setup.rate, GOVUK_NOTIFY_SIM_DELAYS="0.5,1.5")
    child = Child([*CLI, "simulate", "govuk-notify", "--port", str(port)], env, folder / "notify.log")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if child.popen.poll() is not None:
            raise RuntimeError("the simulator exited:\n" + child.log.read_text())
        match = re.search(r"API key \(live\):\s+(\S+)", child.log.read_text())
        if match:
            try:
                httpx.get(f"{url}/_simulator/service", timeout=2).raise_for_status()
                return child, url, match.group(1)
            except httpx.HTTPError:
                pass
        time.sleep(0.1)
    child.stop()
    raise RuntimeError("the simulator did not start")


def councils_file(folder: Path, url: str) -> Path:
    """The demo councils, Northfield sending its booking confirmations through the simulator."""
    document = demo_document()
    for council in document["councils"]:
        if council["id"] == COUNCIL:
            council["notifications"] = {
                "adapter": "govuk-notify",
                "settings": {"api_key": {"from_env": KEY_VARIABLE}, "base_url": url},
                "templates": {KIND: {c: template_id(KIND, c) for c in ("sms", "email")}},
                "send": [KIND],
            }
    path = folder / "councils.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


async def prepare(database_url: str, messages: int) -> None:
    """Migrate, empty every table, and store ``messages`` booked repairs, each with its
    ``booked`` event and the job that sends its confirmation."""
    await upgrade_async(database_url)
    engine = make_engine(database_url)
    try:
        async with engine.begin() as connection:
            names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
            tables = [n for n in names if n != "alembic_version"]
            if connection.dialect.name == "postgresql":
                quoted = ", ".join(f'"{n}"' for n in tables)
                await connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    await connection.execute(text(f'DELETE FROM "{name}"'))
        sessions = make_sessionmaker(engine)
        await create_client(sessions, "bench", [COUNCIL])
        async with sessions() as session:
            client_id = await session.scalar(text("SELECT min(id) FROM api_clients"))
        start = (utcnow() + timedelta(days=5)).replace(hour=8, minute=0, second=0, microsecond=0)
        for first in range(0, messages, SEED_BATCH):
            async with sessions.begin() as session:
                for n in range(first, min(messages, first + SEED_BATCH)):
                    row = Repair(
                        reference=f"NF-B{n:06d}",
                        council_id=COUNCIL,
                        client_id=client_id,
                        uprn="100012345001",
                        triage_path="kitchen/sink/blocked",
                        trade="plumbing",
                        duration_minutes=60,
                        priority=4,
                        sor_code="20060020",
                        description="The kitchen sink is blocked.",
                        contact_name=f"Resident {n}",
                        contact_phone="07700 900123",
                        preferred_channel="sms",
                        status="booked",
                        scheduler="calendar",
                        window_start=start,
                        window_end=start + timedelta(hours=4),
                        window_label="Morning",
                        address_lines=["Flat 1, Beech Court", "12 Mill Lane", "Northfield"],
                    )
                    session.add(row)
                    await session.flush()
                    await record_events(session, row, [(EventKind.BOOKED, {})])
    finally:
        await engine.dispose()


async def progress(database_url: str) -> tuple[int, int]:
    """(messages recorded sent or delivered, message jobs not yet done)."""
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            sent = await session.scalar(
                select(func.count()).select_from(Message).where(Message.state.in_(("sent", "delivered")))
            )
            left = await session.scalar(
                select(func.count()).select_from(Job).where(Job.kind == "notify").where(Job.state != "done")
            )
        return int(sent or 0), int(left or 0)
    finally:
        await engine.dispose()


async def states(database_url: str) -> dict[str, int]:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            rows = await session.execute(select(Message.state, func.count()).group_by(Message.state))
            return {state: int(n) for state, n in rows.all()}
    finally:
        await engine.dispose()


async def keys_recorded_sent(database_url: str) -> set[str]:
    engine = make_engine(database_url)
    try:
        async with make_sessionmaker(engine)() as session:
            found = await session.scalars(select(Message.key).where(Message.state.in_(("sent", "delivered"))))
            return set(found.all())
    finally:
        await engine.dispose()


def busiest(times: list[datetime], seconds: float) -> int:
    """The most of ``times`` in any window of ``seconds``."""
    ordered = sorted(times)
    most, low = 0, 0
    for high, moment in enumerate(ordered):
        while (moment - ordered[low]).total_seconds() >= seconds:
            low += 1
        most = max(most, high - low + 1)
    return most


def run(setup: Setup) -> Result:
    """One run; the folder keeps the processes' logs."""
    folder = setup.folder or Path(tempfile.mkdtemp(prefix="notify-bench-"))
    folder.mkdir(parents=True, exist_ok=True)
    database_url = setup.database_url or f"sqlite+aiosqlite:///{folder / 'bench.db'}"
    simulator, url, api_key = start_simulator(setup, folder)
    workers: list[Child] = []
    try:
        config = councils_file(folder, url)
        asyncio.run(prepare(database_url, setup.messages))
        env = _environment(
            REPAIRS_GATEWAY_DATABASE_URL=database_url,
            REPAIRS_GATEWAY_CONFIG_FILE=str(config),
            REPAIRS_GATEWAY_TOKEN_SECRET=secrets.token_urlsafe(48),
            REPAIRS_GATEWAY_WORKER_CONCURRENCY=str(setup.concurrency),
            REPAIRS_GATEWAY_WORKER_POLL_SECONDS="0.2",
            REPAIRS_GATEWAY_RETRY_BASE_SECONDS=str(setup.retry_base_seconds),
            REPAIRS_GATEWAY_RETRY_CAP_SECONDS=str(setup.retry_cap_seconds),
            **{KEY_VARIABLE: api_key},
        )
        started = time.monotonic()
        for n in range(setup.workers):
            workers.append(Child([*CLI, "worker"], env, folder / f"worker-{n + 1}.log"))
        while True:
            sent, left = asyncio.run(progress(database_url))
            if sent >= setup.messages and left == 0:
                break
            if time.monotonic() - started > setup.limit_seconds:
                raise RuntimeError(f"only {sent} of {setup.messages} sent in {setup.limit_seconds:g} s")
            for worker in workers:
                if worker.popen.poll() is not None:
                    raise RuntimeError("a worker exited:\n" + worker.log.read_text()[-3000:])
            time.sleep(POLL_SECONDS)
        for worker in workers:
            worker.stop()
        held = httpx.get(f"{url}/_simulator/messages", timeout=60).json()["messages"]
        recorded = asyncio.run(keys_recorded_sent(database_url))
    finally:
        for worker in workers:
            worker.stop()
        simulator.stop()
    references = Counter(m["reference"] for m in held)
    created = [datetime.fromisoformat(m["createdAt"].replace("Z", "+00:00")) for m in held]
    seconds = (max(created) - min(created)).total_seconds() if created else 0.0
    interval = setup.limit[1]
    late = [t for t in created if (t - min(created)).total_seconds() >= interval]
    sustained = None
    if late and seconds > interval:
        sustained = len(late) / (seconds - interval)
    log_text = "".join(w.log.read_text(encoding="utf-8", errors="replace") for w in workers)
    # The backend log line names the outcome in brackets: "send failed (unavailable): ...".
    limited = len(re.findall(r"govuk-notify\.send failed[^:]*: GOV\.UK Notify is rate limiting", log_text))
    return Result(
        setup=setup,
        seconds=seconds,
        sent=len(recorded),
        at_simulator=len(references),
        duplicates=sum(n - 1 for n in references.values() if n > 1),
        losses=setup.messages - len(recorded & set(references)),
        rate_limited=limited,
        busiest_window=busiest(created, interval),
        sustained_per_second=sustained,
        states=asyncio.run(states(database_url)),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--rate", default="3000/60", help="the simulator's limit, N/SECONDS")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--database-url", default=None, help="default: a temporary SQLite file")
    parser.add_argument("--quick", action="store_true", help="600 messages at 150/3 (the same 50/s)")
    args = parser.parse_args(argv)
    setup = Setup(
        messages=600 if args.quick else args.messages,
        rate="150/3" if args.quick else args.rate,
        workers=args.workers,
        concurrency=args.concurrency,
        database_url=args.database_url,
    )
    result = run(setup)
    print(result.report())
    return 0 if result.duplicates == 0 and result.losses == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
