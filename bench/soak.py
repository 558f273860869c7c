"""Soak: the gateway under mixed traffic at half its measured capacity, with slow clients
alongside, for a long while (30 minutes by default), reporting its memory over time.

For a person to run before a release, not in CI. Everything is on 127.0.0.1: ``repairs-gateway
serve`` in a process of its own on a fresh SQLite database with the demo's Northfield (its
calendar's capacity raised so that windows do not fill), then:

1. **Capacity**: closed-loop clients send the mix below as fast as they are answered for
   ``--calibrate-seconds``; the rate answered is the capacity.
2. **Soak**: for ``--minutes``, requests are started at half that rate (open loop: a slow
   answer does not slow the sending), in the mix addresses 30 %, appointments 30 %,
   bookings 15 %, reads of a repair 15 %, cancels 10 %. Alongside, ``--slow-clients``
   sockets each send a request's headers a few bytes at a time, slowly, and open again
   when the gateway closes them.
3. Every ``--sample-seconds`` the gateway process's resident memory (RSS, with any worker
   processes) is printed with the requests answered so far; at the end, the RSS at start,
   highest and at the end, every status counted, and any 5xx or request with no answer.

    python bench/soak.py                       # 30 minutes
    python bench/soak.py --minutes 0.2         # a smoke run, some 30 seconds
    python bench/soak.py --minutes 120 --slow-clients 200 --sample-seconds 60

A steady RSS after the first minutes is the expected outcome; a rise that goes on with
the requests answered is a leak worth chasing. Exits 1 when any request got a 5xx or no
answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

_ROOT = Path(__file__).resolve().parent.parent
# This checkout's code, before any installed copy: the soak measures what it sits in.
sys.path.insert(0, str(_ROOT / "src"))

COUNCIL = "northfield"
BASE = f"/v1/councils/{COUNCIL}"
POSTCODES = ("NF1 1AA", "nf11aa", "NF1 1AB", "ZZ9 9ZZ")
UPRNS = ("100012345001", "100012345002", "100012345003")
TRIAGE = "kitchen/sink/blocked"
MIX = (("addresses", 30), ("appointments", 30), ("booking", 15), ("read", 15), ("cancel", 10))


# --------------------------------------------------------------------------- the gateway


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _council_document() -> dict[str, Any]:
    """The demo's Northfield, its calendar's capacity raised so that no window fills."""
    from repairs_gateway.demo.data import demo_document

    councils = demo_document()["councils"]
    northfield = next(c for c in councils if c["id"] == COUNCIL)
    for scheduler in northfield["schedulers"]:
        for window in scheduler.get("settings", {}).get("windows", []):
            window["capacity"] = {trade: 1_000_000 for trade in window["capacity"]}
    return {"councils": [northfield]}


async def _prepare(database_url: str) -> str:
    """A migrated database with Northfield's addresses; an API key for Northfield."""
    from repairs_gateway.demo.data import demo_addresses, load_addresses
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.persistence.migrate import upgrade_async
    from repairs_gateway.services.clients import create_client

    await upgrade_async(database_url)
    engine = make_engine(database_url)
    try:
        sessions = make_sessionmaker(engine)
        await load_addresses(sessions, demo_addresses([COUNCIL]))
        return await create_client(sessions, "soak", [COUNCIL])
    finally:
        await engine.dispose()


@contextmanager
def _gateway(folder: Path, workers: int) -> Iterator[tuple[int, str, subprocess.Popen[bytes]]]:
    """``serve`` on a free port of 127.0.0.1: its port, an API key and its process."""
    database_url = f"sqlite+aiosqlite:///{folder / 'soak.db'}"
    key = asyncio.run(_prepare(database_url))
    config = folder / "councils.yaml"
    config.write_text(json.dumps(_council_document()))  # YAML reads JSON
    port = _free_port()
    env = {
        **os.environ,
        "REPAIRS_GATEWAY_DATABASE_URL": database_url,
        "REPAIRS_GATEWAY_TOKEN_SECRET": secrets.token_urlsafe(40),
        "REPAIRS_GATEWAY_LOG_LEVEL": "WARNING",
        "REPAIRS_GATEWAY_CONFIG_FILE": str(config),
        "PYTHONPATH": str(_ROOT / "src"),
    }
    args = [sys.executable, "-m", "repairs_gateway.cli", "serve", "--port", str(port)]
    args += ["--workers", str(workers), "--no-access-log"]
    process = subprocess.Popen(args, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"the gateway exited with {process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the gateway did not start") from None
                time.sleep(0.1)
        yield port, key, process
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def rss_bytes(pid: int) -> int:
    """Resident memory of process ``pid`` and its descendants (the server's workers), from
    /proc; 0 where /proc is not there."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
        pending.extend(int(child) for child in children)
    return total


# --------------------------------------------------------------------------- traffic


@dataclass
class Tally:
    """What the traffic got back."""

    statuses: Counter[str] = field(default_factory=Counter)
    no_answer: int = 0
    server_errors: list[str] = field(default_factory=list)
    windows: list[tuple[str, str]] = field(default_factory=list)  # (uprn, window id)
    references: list[str] = field(default_factory=list)
    slow_closed: int = 0
    slow_open: int = 0

    @property
    def answered(self) -> int:
        """Requests that got an answer."""
        return sum(self.statuses.values())


async def one_request(http: httpx.AsyncClient, kind: str, tally: Tally, rnd: random.Random) -> None:
    """Send one request of ``kind`` and count its answer."""
    try:
        if kind == "addresses":
            response = await http.get(f"{BASE}/addresses", params={"postcode": rnd.choice(POSTCODES)})
        elif kind == "appointments" or (kind == "booking" and not tally.windows):
            uprn = rnd.choice(UPRNS)
            response = await http.get(f"{BASE}/appointments", params={"uprn": uprn, "triagePath": TRIAGE})
            if response.status_code == 200:
                ids = [w["id"] for day in response.json()["days"] for w in day["windows"]]
                tally.windows = [*tally.windows[-200:], *((uprn, i) for i in ids[:5])]
        elif kind == "booking":
            uprn, window_id = rnd.choice(tally.windows)
            body = {
                "uprn": uprn,
                "repair": {"triagePath": TRIAGE},
                "description": "Soak test: the kitchen sink is blocked.",
                "contact": {"name": "Soak Test", "phone": "07700 900123", "preferredChannel": "sms"},
                "windowId": window_id,
                "newProblem": True,
            }
            response = await http.post(
                f"{BASE}/repairs", json=body, headers={"Idempotency-Key": str(uuid.uuid4())}
            )
            if response.status_code == 201:
                tally.references = [*tally.references[-500:], response.json()["reference"]]
        elif kind == "read" and tally.references:
            response = await http.get(f"{BASE}/repairs/{rnd.choice(tally.references)}")
        elif kind == "cancel" and tally.references:
            reference = tally.references.pop(rnd.randrange(len(tally.references)))
            response = await http.post(f"{BASE}/repairs/{reference}/cancel")
        else:
            response = await http.get(f"{BASE}/addresses", params={"postcode": POSTCODES[0]})
    except httpx.HTTPError as exc:
        tally.no_answer += 1
        if len(tally.server_errors) < 10:
            tally.server_errors.append(f"{kind}: no answer ({type(exc).__name__})")
        return
    tally.statuses[f"{kind} {response.status_code}"] += 1
    if response.status_code >= 500 and len(tally.server_errors) < 10:
        tally.server_errors.append(f"{kind}: {response.status_code} {response.text[:200]}")


KINDS = [kind for kind, _ in MIX]
WEIGHTS = [float(weight) for _, weight in MIX]


def _kinds(rnd: random.Random) -> str:
    return rnd.choices(KINDS, WEIGHTS)[0]


def _client(port: int, key: str, connections: int) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"http://127.0.0.1:{port}",
        headers={"Authorization": f"Bearer {key}"},
        timeout=30.0,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def measure_capacity(port: int, key: str, seconds: float, clients: int) -> float:
    """Requests a second the gateway answers to ``clients`` closed-loop clients."""
    tally = Tally()
    rnd = random.Random(1)
    deadline = time.monotonic() + seconds
    async with _client(port, key, clients) as http:

        async def loop() -> None:
            while time.monotonic() < deadline:
                await one_request(http, _kinds(rnd), tally, rnd)

        started = time.monotonic()
        await asyncio.gather(*(loop() for _ in range(clients)))
        return tally.answered / (time.monotonic() - started)


async def slow_client(port: int, stop: asyncio.Event, tally: Tally, byte_every: float) -> None:
    """A socket sending a request's headers a few bytes at a time, never finishing; it opens
    again whenever the gateway closes it."""
    head = b"GET /v1/councils HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 4000
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(1)
            continue
        tally.slow_open += 1
        try:
            for start in range(0, len(head), 3):
                writer.write(head[start : start + 3])
                await writer.drain()
                try:
                    await asyncio.wait_for(stop.wait(), byte_every)
                    break
                except TimeoutError:
                    pass
                if reader.at_eof():
                    break
        except OSError:
            pass
        finally:
            tally.slow_open -= 1
            if not stop.is_set():
                tally.slow_closed += 1
            writer.close()


async def soak(
    port: int, key: str, pid: int, rate: float, seconds: float, slow: int, sample_every: float
) -> tuple[Tally, list[tuple[float, int, int]]]:
    """Traffic at ``rate`` a second for ``seconds`` with ``slow`` slow clients; the tally and
    (elapsed, RSS, answered) samples."""
    tally = Tally()
    rnd = random.Random(2)
    stop = asyncio.Event()
    samples: list[tuple[float, int, int]] = []
    slow_tasks = [asyncio.create_task(slow_client(port, stop, tally, 2.0)) for _ in range(slow)]
    in_flight: set[asyncio.Task[None]] = set()
    started = time.monotonic()
    next_sample = started
    print(
        f"{'minutes':>8} {'RSS MiB':>8} {'answered':>9} {'in flight':>9} {'slow open':>9} {'slow closed':>11}"
    )
    async with _client(port, key, 64) as http:
        sent = 0
        while (now := time.monotonic()) - started < seconds:
            if now >= next_sample:
                sample = (now - started, rss_bytes(pid), tally.answered)
                samples.append(sample)
                print(
                    f"{sample[0] / 60:8.2f} {sample[1] / 2**20:8.1f} {sample[2]:9d} {len(in_flight):9d} "
                    f"{tally.slow_open:9d} {tally.slow_closed:11d}",
                    flush=True,
                )
                next_sample += sample_every
            due = int((now - started) * rate) + 1
            while sent < due and len(in_flight) < 512:
                task = asyncio.create_task(one_request(http, _kinds(rnd), tally, rnd))
                in_flight.add(task)
                task.add_done_callback(in_flight.discard)
                sent += 1
            await asyncio.sleep(min(0.01, 1 / rate))
        if in_flight:
            await asyncio.wait(in_flight, timeout=30)
    samples.append((time.monotonic() - started, rss_bytes(pid), tally.answered))
    stop.set()
    await asyncio.gather(*slow_tasks, return_exceptions=True)
    return tally, samples


def main(argv: list[str] | None = None) -> int:
    """Run the soak and print its report; 1 when any request got a 5xx or no answer."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=30.0, help="how long to soak (default 30)")
    parser.add_argument("--slow-clients", type=int, default=50, help="slow sockets alongside (default 50)")
    parser.add_argument(
        "--calibrate-seconds", type=float, default=20.0, help="capacity measurement (default 20)"
    )
    parser.add_argument("--clients", type=int, default=16, help="closed-loop clients measuring capacity")
    parser.add_argument("--sample-seconds", type=float, default=30.0, help="RSS sample interval (default 30)")
    parser.add_argument("--workers", type=int, default=1, help="gateway worker processes (default 1)")
    args = parser.parse_args(argv)
    seconds = args.minutes * 60
    # A short run measures and samples in proportion, so a smoke run stays short.
    calibrate = min(args.calibrate_seconds, max(3.0, seconds / 2))
    sample_every = min(args.sample_seconds, max(1.0, seconds / 10))
    with (
        tempfile.TemporaryDirectory() as folder,
        _gateway(Path(folder), args.workers) as (port, key, process),
    ):
        capacity = asyncio.run(measure_capacity(port, key, calibrate, args.clients))
        rate = max(1.0, capacity / 2)
        print(
            f"capacity {capacity:.0f} requests/s ({args.clients} clients, {calibrate:.0f} s); soaking at "
            f"{rate:.0f}/s for {args.minutes:g} min with {args.slow_clients} slow clients",
            flush=True,
        )
        tally, samples = asyncio.run(
            soak(port, key, process.pid, rate, seconds, args.slow_clients, sample_every)
        )
    rss = [sample[1] for sample in samples]
    elapsed = samples[-1][0]
    print(
        f"\nRSS MiB: start {rss[0] / 2**20:.1f}, highest {max(rss) / 2**20:.1f}, end {rss[-1] / 2**20:.1f} "
        f"({(rss[-1] - rss[0]) / 2**20:+.1f})"
    )
    print(f"answered {tally.answered} in {elapsed:.0f} s ({tally.answered / max(elapsed, 1e-9):.1f}/s)")
    for name, count in sorted(tally.statuses.items()):
        print(f"  {name:<20} {count}")
    print(f"slow clients: {tally.slow_closed} connections closed by the gateway")
    failed = tally.no_answer + sum(
        c for name, c in tally.statuses.items() if name.endswith(("500", "502", "503"))
    )
    for line in tally.server_errors:
        print(f"  ! {line}")
    print("OK: no 5xx, every request answered" if not failed else f"FAILED: {failed} 5xx or unanswered")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
