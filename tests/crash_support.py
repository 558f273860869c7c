"""Real processes for the crash tests: the Kirona DRS simulator driven through its test
controls (``/_simulator/``), and repairs-gateway set up with its CLI as an operator would,
served, killed with SIGKILL and served again on the same database.

Every process writes to a log file in the test's folder (a pipe nobody reads could fill
up and stall it); the logs' tails are printed when a test fails."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import inspect, text

from repairs_gateway.persistence.db import make_engine

from demo_process import free_port

CLI = [sys.executable, "-m", "repairs_gateway.cli"]
STARTUP_SECONDS = 60.0
DRS_PASSWORD_VARIABLE = "CRASH_TEST_DRS_PASSWORD"
COUNCIL = "riverside"
API = f"/v1/councils/{COUNCIL}"
TRIAGE_PATH = "kitchen/sink"
POSTCODE = "RS1 1AA"
UPRNS = tuple(f"4000000000{n:02d}" for n in range(1, 13))

COUNCIL_YAML = """\
councils:
  - id: {council}
    name: Riverside Borough Council
    reference_prefix: RS
    timezone: Europe/London
    days_per_page: 5
    addresses:
      adapter: builtin-register
    schedulers:
      - name: drs
        adapter: kirona-drs
        trades: ["*"]
        settings:
          endpoint: "{endpoint}"
          login: {login}
          password: {{from_env: {password_variable}}}
          contract: {contract}
          # Long enough that no call held by the test times out before the kill.
          timeout_seconds: 60
    windows:
      - {{label: Morning, start: "08:00", end: "12:00"}}
      - {{label: Afternoon, start: "12:00", end: "16:00"}}
      - {{label: School run, start: "09:30", end: "14:30"}}
      - {{label: All day, start: "08:00", end: "16:00"}}
    triage:
      question: Where is the problem?
      options:
        - id: kitchen
          label: Kitchen
          next:
            question: What is the problem?
            options:
              - id: sink
                label: The sink is blocked
                job: {{sor_code: "20060020", trade: plumbing, priority: 4, duration_minutes: 60}}
"""


def log_tail(path: Path, lines: int = 60) -> str:
    """The last lines a process wrote."""
    if not path.exists():
        return f"({path.name}: nothing written)"
    kept = path.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:]
    return f"--- {path.name} (last {len(kept)} lines)\n" + "\n".join(kept)


class Process:
    """A child process writing to a log file; stopped politely, or killed."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str], log: Path) -> None:
        self.name = name
        self.log = log
        self._output = log.open("w", encoding="utf-8")
        self.popen = subprocess.Popen(
            command, stdout=self._output, stderr=subprocess.STDOUT, env=dict(env), text=True
        )

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> int:
        """SIGKILL, as a crash or the OOM killer would; answers the exit status."""
        self.popen.kill()
        status = self.popen.wait(timeout=10)
        self._output.close()
        return status

    def stop(self) -> None:
        """SIGTERM, then SIGKILL if it does not stop within 10 s; closes its log."""
        if self.alive():
            self.popen.terminate()
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(timeout=10)
        self._output.close()

    def wait_until(self, ready: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + STARTUP_SECONDS
        while not ready():
            if not self.alive():
                raise AssertionError(
                    f"{self.name} exited ({self.popen.returncode}) before {what}\n" + log_tail(self.log)
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"{self.name}: no {what} in time\n" + log_tail(self.log))
            time.sleep(0.05)


def child_environment(**settings: str) -> dict[str, str]:
    """This process's environment without any REPAIRS_GATEWAY_* of its own, plus ``settings``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPAIRS_GATEWAY_")}
    return {**env, "PYTHONUNBUFFERED": "1", **settings}


# ----------------------------------------------------------------------- the DRS simulator


class DrsSimulator:
    """``repairs-gateway simulate kirona-drs`` on a free port, and its test controls."""

    def __init__(self, folder: Path, latency_ms: int = 100) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [*CLI, "simulate", "kirona-drs", "--port", str(self.port)]
        command += ["--latency-ms", str(latency_ms)]
        self.process = Process("DRS simulator", command, child_environment(), folder / "drs.log")
        self.printed: dict[str, str] = {}
        self.http = httpx.Client(base_url=self.url, timeout=30)
        try:
            self.process.wait_until(self._described, "description printed")
            self.process.wait_until(self._answers, "answer on its port")
        except BaseException:
            self.close()
            raise

    @property
    def endpoint(self) -> str:
        return self.printed["SOAP endpoint"]

    @property
    def login(self) -> str:
        return self.printed["login"]

    @property
    def password(self) -> str:
        return self.printed["password"]

    @property
    def contract(self) -> str:
        return self.printed["contracts"].split(",")[0].strip()

    def _described(self) -> bool:
        for line in self.process.log.read_text(encoding="utf-8").splitlines():
            if match := re.match(r"\s*(SOAP endpoint|login|password|contracts):\s+(.+)", line):
                self.printed[match.group(1)] = match.group(2).strip()
        return len(self.printed) == 4

    def _answers(self) -> bool:
        try:
            return self.http.get("/_simulator/held").status_code == 200
        except httpx.TransportError:
            return False

    def orders(self) -> list[dict[str, Any]]:
        """Every order DRS holds now (see the adaptor's README, "Test controls")."""
        response = self.http.get("/_simulator/orders")
        response.raise_for_status()
        listed: list[dict[str, Any]] = response.json()["orders"]
        return listed

    def orders_by_reference(self) -> dict[str, dict[str, Any]]:
        return {o["primaryOrderNumber"]: o for o in self.orders()}

    def hold(self, operation: str, phase: str, count: int = 1) -> None:
        """Hold the next ``count`` calls of ``operation`` ``before`` or ``after`` they run."""
        response = self.http.post(
            "/_simulator/hold", json={"operation": operation, "phase": phase, "count": count}
        )
        assert response.status_code == 200, response.text

    def held(self) -> list[dict[str, Any]]:
        response = self.http.get("/_simulator/held")
        response.raise_for_status()
        calls: list[dict[str, Any]] = response.json()["held"]
        return calls

    def wait_held(self, operation: str, phase: str, known: set[int], seconds: float = 15.0) -> dict[str, Any]:
        """The first call held at ``operation``/``phase`` whose id is not in ``known``."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for call in self.held():
                if call["id"] not in known and (call["operation"], call["phase"]) == (
                    operation,
                    phase,
                ):
                    known.add(call["id"])
                    return call
            time.sleep(0.02)
        raise AssertionError(
            f"DRS never held a {operation} call {phase} it ran; held now: {self.held()}\n"
            f"orders: {self.orders()}"
        )

    def release(self, *, drop: bool) -> dict[str, int]:
        """Let every held call go (``drop``: discard those held before they ran)."""
        response = self.http.post("/_simulator/release", json={"drop": drop})
        response.raise_for_status()
        counts: dict[str, int] = response.json()
        return counts

    def close(self) -> None:
        try:
            if self.process.alive():
                self.release(drop=True)  # nothing held may keep it from stopping
        except httpx.HTTPError:
            pass
        self.http.close()
        self.process.stop()


# ----------------------------------------------------------------------- the gateway


@dataclass
class GatewaySite:
    """A gateway set up in ``folder`` with the CLI: councils file, database, addresses and
    an API key; ``serve()`` starts a ``serve --with-worker`` process on it."""

    folder: Path
    database_url: str
    drs: DrsSimulator
    lease_seconds: int = 5
    key: str = ""
    processes: list[Process] = field(default_factory=list)

    @property
    def env(self) -> dict[str, str]:
        return child_environment(
            REPAIRS_GATEWAY_DATABASE_URL=self.database_url,
            REPAIRS_GATEWAY_CONFIG_FILE=str(self.folder / "councils.yaml"),
            REPAIRS_GATEWAY_TOKEN_SECRET="crash-test-secret-" + "x" * 40,
            REPAIRS_GATEWAY_LEASE_SECONDS=str(self.lease_seconds),
            # No call the test holds may time out in the gateway before the kill.
            REPAIRS_GATEWAY_BACKEND_TIMEOUT_SECONDS="60",
            REPAIRS_GATEWAY_BOOKING_TIMEOUT_SECONDS="120",
            **{DRS_PASSWORD_VARIABLE: self.drs.password},
        )

    def cli(self, *args: str) -> str:
        """Run ``repairs-gateway ARGS``; its standard output, or a failure naming it."""
        done = subprocess.run(
            [*CLI, *args], env=self.env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, (
            f"repairs-gateway {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
        )
        return done.stdout

    def set_up(self, *, empty_first: bool) -> None:
        """What an operator does before the first start."""
        (self.folder / "councils.yaml").write_text(
            COUNCIL_YAML.format(
                council=COUNCIL,
                endpoint=self.drs.endpoint,
                login=self.drs.login,
                contract=self.drs.contract,
                password_variable=DRS_PASSWORD_VARIABLE,
            ),
            encoding="utf-8",
        )
        rows = ["uprn,address_line_1,address_line_2,address_line_3,address_line_4,postcode,kind,property_ref"]
        rows += [
            f"{uprn},{n} River Walk,Riverside,,,{POSTCODE},dwelling,RW{n:04d}"
            for n, uprn in enumerate(UPRNS, start=1)
        ]
        (self.folder / "addresses.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
        self.cli("check-config")
        self.cli("db", "upgrade")
        if empty_first:
            empty_every_table(self.database_url)
        self.cli("addresses", "import", str(self.folder / "addresses.csv"), "--council", COUNCIL)
        printed = self.cli("clients", "create", "--council", COUNCIL, "--name", "test")
        match = re.search(r"API key: (\S+)", printed)
        assert match, f"clients create printed no key: {printed}"
        self.key = match.group(1)

    def serve(self) -> Gateway:
        """A new ``serve --with-worker`` process, once it answers /healthz."""
        port = free_port()
        number = len(self.processes) + 1
        process = Process(
            f"gateway #{number}",
            [*CLI, "serve", "--with-worker", "--host", "127.0.0.1", "--port", str(port)],
            self.env,
            self.folder / f"gateway-{number}.log",
        )
        self.processes.append(process)
        gateway = Gateway(f"http://127.0.0.1:{port}", self.key, process)
        process.wait_until(gateway.healthy, "answer on /healthz")
        return gateway

    def logs(self) -> str:
        return "\n".join(log_tail(p.log) for p in [self.drs.process, *self.processes])

    def close(self) -> None:
        for process in self.processes:
            process.stop()


def empty_every_table(url: str) -> None:
    """Delete every row of every table but the migrations' own (a shared PostgreSQL)."""

    async def empty() -> None:
        engine = make_engine(url)
        try:
            async with engine.begin() as connection:
                names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
                tables = [n for n in names if n != "alembic_version"]
                if tables and connection.dialect.name == "postgresql":
                    quoted = ", ".join(f'"{n}"' for n in tables)
                    await connection.execute(text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
                else:
                    for name in tables:
                        await connection.execute(text(f'DELETE FROM "{name}"'))
        finally:
            await engine.dispose()

    asyncio.run(empty())


class Gateway:
    """One running gateway process and a client of its API."""

    def __init__(self, url: str, key: str, process: Process) -> None:
        self.url = url
        self.process = process
        self.headers = {"Authorization": f"Bearer {key}"}

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    def client(self) -> httpx.Client:
        """A client of its API; one per thread (generous timeout: calls may be held)."""
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=120)

    def kill(self) -> None:
        status = self.process.kill()
        assert status == -signal.SIGKILL, f"{self.process.name} ended {status}, not by SIGKILL"


# ----------------------------------------------------------------------- requests


def repair_body(uprn: str, window_id: str) -> dict[str, Any]:
    """A createRepair body booking ``window_id``."""
    return {
        "uprn": uprn,
        "repair": {"triagePath": TRIAGE_PATH},
        "description": "The kitchen sink is blocked and will not drain.",
        "contact": {"name": "Sam Resident", "phone": "07700 900123", "preferredChannel": "sms"},
        "windowId": window_id,
    }


@dataclass(frozen=True)
class Window:
    """An appointment window: its id (for one property) and its times."""

    id: str
    start: datetime
    end: datetime

    @property
    def span(self) -> tuple[datetime, datetime]:
        return (self.start, self.end)


def windows(client: httpx.Client, uprn: str, not_before: datetime) -> list[Window]:
    """The first page's windows for the sink job at ``uprn`` that start after ``not_before``."""
    response = client.get(f"{API}/appointments", params={"uprn": uprn, "triagePath": TRIAGE_PATH})
    assert response.status_code == 200, response.text
    found = [
        Window(w["id"], datetime.fromisoformat(w["start"]), datetime.fromisoformat(w["end"]))
        for day in response.json()["days"]
        for w in day["windows"]
    ]
    return [w for w in found if w.start > not_before]


def span_of(appointment: Mapping[str, Any] | None) -> tuple[datetime, datetime] | None:
    if not appointment:
        return None
    return (
        datetime.fromisoformat(appointment["start"]),
        datetime.fromisoformat(appointment["end"]),
    )


def drs_span(order: Mapping[str, Any] | None) -> tuple[datetime, datetime] | None:
    """The window DRS holds the order's booking in, if it is scheduled."""
    if not order or not order["scheduled"]:
        return None
    booking = next(b for b in order["bookings"] if b["scheduled"])
    return (
        datetime.fromisoformat(booking["planningWindowStart"]),
        datetime.fromisoformat(booking["planningWindowEnd"]),
    )


class InFlight:
    """A request running in a thread (it may never get an answer: its gateway is killed)."""

    def __init__(self, name: str, call: Callable[[httpx.Client], httpx.Response], url_of: Gateway) -> None:
        self.name = name
        self.response: httpx.Response | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(call, url_of), name=name, daemon=True)
        self._thread.start()

    def _run(self, call: Callable[[httpx.Client], httpx.Response], gateway: Gateway) -> None:
        with gateway.client() as client:
            try:
                self.response = call(client)
            except BaseException as exc:  # recorded: a killed gateway answers nothing
                self.error = exc

    @property
    def done(self) -> bool:
        return not self._thread.is_alive()

    def join(self, seconds: float = 15.0) -> None:
        self._thread.join(seconds)
        assert self.done, f"{self.name}: still waiting for an answer after its gateway died"

    def outcome(self) -> str:
        if self.response is not None:
            return f"HTTP {self.response.status_code}: {self.response.text[:300]}"
        return f"{type(self.error).__name__}: {self.error}" if self.error else "running"
