"""A message goes once, whatever dies when: a real ``repairs-gateway worker`` process is killed
with SIGKILL while GOV.UK Notify (its simulator, a process of its own) holds the answer to
the send, after keeping the message (or before); a new worker finishes the job, asking
Notify before sending again. And two worker processes on one PostgreSQL send the messages of
many repairs, each exactly once at Notify."""

from __future__ import annotations

import asyncio
import importlib.util
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest
import yaml
from sqlalchemy import select, update

from repairs_gateway.demo.data import DEMO, demo_document
from repairs_gateway.persistence.db import make_engine, make_sessionmaker
from repairs_gateway.persistence.models import Job, Message, utcnow

from crash_support import CLI, Process, child_environment, empty_every_table, log_tail
from demo_process import free_port

notify = pytest.importorskip("repairs_gateway_govuk_notify.simulator")

# Real processes (servers, workers, simulators, some killed on purpose): under pytest-xdist
# these tests run one after another on one worker, never two such crowds of processes at once.
pytestmark = pytest.mark.xdist_group("processes")

PG_URL = os.environ.get("REPAIRS_GATEWAY_TEST_DATABASE_URL")
KEY_VARIABLE = "CRASH_TEST_NOTIFY_API_KEY"
KIND = "booking_confirmed"
NORTHFIELD = "/v1/councils/northfield"
WAIT_SECONDS = 60.0


class NotifyProcess:
    """``repairs-gateway simulate govuk-notify`` on a free port, and its test controls."""

    def __init__(self, folder: Path, **env: str) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        command = [*CLI, "simulate", "govuk-notify", "--port", str(port), "--seed", "8"]
        self.process = Process("Notify simulator", command, child_environment(**env), folder / "notify.log")
        self.http = httpx.Client(base_url=self.url, timeout=30)
        self.api_key = ""
        try:
            self.process.wait_until(self._described, "its live key printed")
            self.process.wait_until(self._answers, "an answer on its port")
        except BaseException:
            self.close()
            raise

    def _described(self) -> bool:
        match = re.search(r"API key \(live\):\s+(\S+)", self.process.log.read_text(encoding="utf-8"))
        if match:
            self.api_key = match.group(1)
        return bool(match)

    def _answers(self) -> bool:
        try:
            return self.http.get("/_simulator/held").status_code == 200
        except httpx.TransportError:
            return False

    def control(self, method: str, path: str, **body: Any) -> Any:
        answer = self.http.request(method, f"/_simulator/{path}", json=body or None)
        assert answer.status_code == 200, answer.text
        return answer.json()

    def messages(self, reference: str | None = None) -> list[dict[str, Any]]:
        answer = self.http.get("/_simulator/messages", params={"reference": reference} if reference else {})
        answer.raise_for_status()
        listed: list[dict[str, Any]] = answer.json()["messages"]
        return listed

    def wait_held(self) -> dict[str, Any]:
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            held: list[dict[str, Any]] = self.control("GET", "held")["held"]
            if held:
                return held[0]
            time.sleep(0.05)
        raise AssertionError("Notify never held a send\n" + log_tail(self.process.log))

    def close(self) -> None:
        try:
            if self.process.alive():
                self.control("POST", "release", drop=True)
        except (httpx.HTTPError, AssertionError):
            pass
        self.http.close()
        self.process.stop()


class Site:
    """A gateway set up with its CLI on ``database_url``: Northfield (the demo's council)
    sending its booking confirmations through the simulator."""

    def __init__(self, folder: Path, database_url: str, notify: NotifyProcess) -> None:
        self.folder = folder
        self.database_url = database_url
        self.notify = notify
        self.processes: list[Process] = []
        self.key = ""

    @property
    def env(self) -> dict[str, str]:
        return child_environment(
            REPAIRS_GATEWAY_DATABASE_URL=self.database_url,
            REPAIRS_GATEWAY_CONFIG_FILE=str(self.folder / "councils.yaml"),
            REPAIRS_GATEWAY_TOKEN_SECRET="notify-crash-secret-" + "x" * 40,
            # No send the test holds may time out in the worker before the kill.
            REPAIRS_GATEWAY_BACKEND_TIMEOUT_SECONDS="60",
            REPAIRS_GATEWAY_WORKER_POLL_SECONDS="0.2",
            REPAIRS_GATEWAY_RETRY_BASE_SECONDS="0.2",
            REPAIRS_GATEWAY_RETRY_CAP_SECONDS="1",
            **{KEY_VARIABLE: self.notify.api_key},
        )

    def cli(self, *args: str) -> str:
        done = subprocess.run([*CLI, *args], env=self.env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, f"repairs-gateway {' '.join(args)}:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def set_up(self) -> None:
        document = demo_document()
        for council in document["councils"]:
            if council["id"] == "northfield":
                council["notifications"] = {
                    "adapter": "govuk-notify",
                    "settings": {
                        "api_key": {"from_env": KEY_VARIABLE},
                        "base_url": self.notify.url,
                        "timeout_seconds": 60,
                    },
                    "templates": {KIND: {c: notify.template_id(KIND, c) for c in ("sms", "email")}},
                    "send": [KIND],
                }
        (self.folder / "councils.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
        self.cli("check-config")
        self.cli("db", "upgrade")
        empty_every_table(self.database_url)
        addresses = self.folder / "northfield.csv"
        addresses.write_text((DEMO / "northfield.csv").read_text(encoding="utf-8"), encoding="utf-8")
        self.cli("addresses", "import", str(addresses), "--council", "northfield")
        match = re.search(
            r"API key: (\S+)", self.cli("clients", "create", "--council", "northfield", "--name", "t")
        )
        assert match
        self.key = match.group(1)

    def start(self, name: str, *args: str) -> Process:
        process = Process(name, [*CLI, *args], self.env, self.folder / f"{name.replace(' ', '-')}.log")
        self.processes.append(process)
        return process

    def serve(self) -> str:
        """A gateway process without a worker; its URL."""
        port = free_port()
        process = self.start("gateway", "serve", "--host", "127.0.0.1", "--port", str(port))
        url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            try:
                return httpx.get(f"{url}/healthz", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        process.wait_until(healthy, "answer on /healthz")
        return url

    def messages(self) -> list[Message]:
        async def read() -> list[Message]:
            engine = make_engine(self.database_url)
            try:
                async with make_sessionmaker(engine)() as session:
                    return list(await session.scalars(select(Message)))
            finally:
                await engine.dispose()

        return asyncio.run(read())

    def expire_job_leases(self) -> int:
        """Time passes: the leases of jobs a dead worker held run out (a worker would wait
        for that, some minutes)."""

        async def expire() -> int:
            engine = make_engine(self.database_url)
            try:
                async with make_sessionmaker(engine).begin() as session:
                    result = await session.execute(
                        update(Job)
                        .where(Job.state == "running")
                        .values(lease_until=utcnow())
                        .execution_options(synchronize_session=False)
                    )
                    return int(result.rowcount)  # type: ignore[attr-defined]
            finally:
                await engine.dispose()

        return asyncio.run(expire())

    def logs(self) -> str:
        return "\n".join(log_tail(p.log) for p in [self.notify.process, *self.processes])

    def close(self) -> None:
        for process in self.processes:
            process.stop()


@pytest.fixture
def database(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The test PostgreSQL (this xdist worker's own) when one is configured, else SQLite."""
    if PG_URL:
        url: str = request.getfixturevalue("postgres_url")
        return url
    return f"sqlite+aiosqlite:///{tmp_path / 'gateway.db'}"


@pytest.fixture
def site(tmp_path: Path, database: str) -> Iterator[Site]:
    simulator = NotifyProcess(tmp_path)
    built = Site(tmp_path, database, simulator)
    try:
        built.set_up()
        yield built
    finally:
        built.close()
        simulator.close()


def book(url: str, key: str) -> str:
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
        page = client.get(
            f"{NORTHFIELD}/appointments",
            params={"uprn": "100012345001", "triagePath": "kitchen/sink/blocked"},
        )
        assert page.status_code == 200, page.text
        window = page.json()["days"][1]["windows"][0]
        body = {
            "uprn": "100012345001",
            "repair": {"triagePath": "kitchen/sink/blocked"},
            "description": "The kitchen sink is blocked.",
            "contact": {"name": "Sam Resident", "phone": "07700 900123", "preferredChannel": "sms"},
            "windowId": window["id"],
        }
        answer = client.post(f"{NORTHFIELD}/repairs", json=body)
        assert answer.status_code == 201 and answer.json()["status"] == "booked", answer.text
        reference: str = answer.json()["reference"]
        return reference


@pytest.mark.parametrize("phase", ["after", "before"])
def test_a_worker_killed_while_notify_holds_the_send_leaves_one_message(site: Site, phase: str) -> None:
    """``after``: Notify kept the message and the worker died before hearing so; ``before``:
    the worker died before Notify kept it. Either way, one message, recorded sent."""
    url = site.serve()
    site.notify.control("POST", "hold", phase=phase, count=1)
    reference = book(url, site.key)

    first = site.start("worker 1", "worker")
    held = site.notify.wait_held()
    (recorded,) = site.messages()
    assert recorded.state == "sending", "recorded before the send, as the rule says"
    assert held["reference"] == (recorded.key if phase == "after" else None)
    assert len(site.notify.messages(recorded.key)) == (1 if phase == "after" else 0)

    first.kill()
    assert first.popen.returncode == -signal.SIGKILL
    site.notify.control("POST", "release", drop=True)  # its connection is gone anyway
    assert site.expire_job_leases() == 1

    second = site.start("worker 2", "worker")
    deadline = time.monotonic() + WAIT_SECONDS
    while site.messages()[0].state not in ("sent", "delivered"):
        assert time.monotonic() < deadline, "the new worker never settled the message\n" + site.logs()
        assert second.alive(), site.logs()
        time.sleep(0.1)
    time.sleep(1.0)  # a second send, were there one, would reach Notify meanwhile
    (message,) = site.messages()
    at_notify = site.notify.messages(message.key)
    assert len(at_notify) == 1, f"{len(at_notify)} messages at Notify for {message.key}\n" + site.logs()
    assert message.sender_id == at_notify[0]["id"]
    assert reference in at_notify[0]["body"]
    assert len(site.notify.messages()) == 1


# ---------------------------------------------------------------------- two workers


def _bench() -> ModuleType:
    name = "bench_notify_throughput"
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parents[1] / "bench" / "notify_throughput.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.mark.postgres
def test_two_workers_on_one_postgresql_send_each_message_exactly_once(
    postgres_url: str, tmp_path: Path
) -> None:
    bench = _bench()
    result = bench.run(
        bench.Setup(
            messages=300, rate="100/2", workers=2, concurrency=8, database_url=postgres_url, folder=tmp_path
        )
    )
    assert (result.duplicates, result.losses) == (0, 0), result.report()
    assert result.at_simulator == result.sent == 300
    assert result.states == {"sent": 300} or set(result.states) <= {"sent", "delivered"}
    assert result.busiest_window <= 100
