"""What the message tests share: a GOV.UK Notify simulator served on 127.0.0.1 (driven by the
gateway through the official client), a receiver that keeps the delivery receipts it posts
(a test relays them to the gateway under test, which is served in-process), and Northfield
configured to send through it."""

from __future__ import annotations

import asyncio
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from repairs_gateway.api.app import create_app
from repairs_gateway.config.loader import parse_config
from repairs_gateway.demo.data import demo_document
from repairs_gateway.persistence.db import make_engine, make_sessionmaker
from repairs_gateway.persistence.models import Job, Message, Repair, utcnow
from repairs_gateway.registry import discover_plugins
from repairs_gateway.serving import serve_asgi
from repairs_gateway.settings import Settings
from repairs_gateway.worker.runner import Worker

from gateway_support import Gateway, empty_tables, prepare_without_migrating

notify = pytest.importorskip("repairs_gateway_govuk_notify.simulator")
NotifySimulator = notify.NotifySimulator
SimulatorConfig = notify.SimulatorConfig

API_KEY_VARIABLE = "TEST_NORTHFIELD_NOTIFY_API_KEY"
RECEIPT_TOKEN_VARIABLE = "TEST_NORTHFIELD_NOTIFY_RECEIPT_TOKEN"
RECEIPT_TOKEN = "receipt-token-" + "r" * 32
STAFF_EMAIL = "repairs-team@council.example"
KINDS = (
    "booking_confirmed",
    "appointment_moved",
    "repair_cancelled",
    "reminder",
    "status_changed",
    "staff_new_repair",
    "staff_needs_attention",
)
RECEIPTS = "/v1/callbacks/northfield/notifications"


@dataclass
class ReceiptBox:
    """The service's callback endpoint as Notify sees it: keeps every receipt posted, with
    its Authorization header, for the test to relay to the gateway."""

    received: list[tuple[str | None, bytes]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def app(self) -> Starlette:
        async def keep(request: Request) -> Response:
            body = await request.body()
            with self._lock:
                self.received.append((request.headers.get("authorization"), body))
            return Response(status_code=200)

        return Starlette(routes=[Route("/{path:path}", keep, methods=["POST"])])

    def take(self) -> list[tuple[str | None, bytes]]:
        with self._lock:
            taken, self.received = self.received, []
        return taken


@dataclass
class Notify:
    """The simulator, its URL and the receipts it posted."""

    sim: Any
    url: str
    receipts: ReceiptBox

    def messages(self, **query: str) -> list[dict[str, Any]]:
        """Every message the simulator keeps (through its controls), oldest first."""
        answer = httpx.get(f"{self.url}/_simulator/messages", params=query, timeout=10)
        answer.raise_for_status()
        listed: list[dict[str, Any]] = answer.json()["messages"]
        return listed

    async def amessages(self, **query: str) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.get(f"{self.url}/_simulator/messages", params=query)
        answer.raise_for_status()
        listed: list[dict[str, Any]] = answer.json()["messages"]
        return listed

    async def control(self, method: str, path: str, **body: Any) -> dict[str, Any]:
        async with httpx.AsyncClient(timeout=10) as client:
            answer = await client.request(method, f"{self.url}/_simulator/{path}", json=body or None)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    async def wait_held(self, seconds: float = 10.0) -> list[dict[str, Any]]:
        """The sends the simulator holds, once it holds one."""
        for _ in range(int(seconds / 0.02)):
            held: list[dict[str, Any]] = (await self.control("GET", "held"))["held"]
            if held:
                return held
            await asyncio.sleep(0.02)
        raise AssertionError("the simulator held no send")

    async def wait_receipts(self, count: int, seconds: float = 10.0) -> list[tuple[str | None, bytes]]:
        """The next ``count`` receipts the simulator posted (waiting for them)."""
        got: list[tuple[str | None, bytes]] = []
        deadline = asyncio.get_running_loop().time() + seconds
        while len(got) < count:
            got += self.receipts.take()
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"expected {count} receipts, got {len(got)}")
            await asyncio.sleep(0.02)
        return got


@pytest.fixture(name="notify_sim")
def notify_sim_fixture() -> Iterator[Notify]:
    """A Notify simulator on 127.0.0.1 with quick statuses, posting receipts to a box."""
    box = ReceiptBox()
    with serve_asgi(box.app, "receipt-box") as box_url:
        sim = NotifySimulator(
            SimulatorConfig(
                sending_after_seconds=0.05,
                final_after_seconds=0.1,
                callback_url=f"{box_url}/receipts",
                callback_token=RECEIPT_TOKEN,
            )
        )
        with serve_asgi(sim.app, "notify-simulator") as url:
            served = Notify(sim, url, box)
            try:
                yield served
            finally:
                httpx.post(f"{url}/_simulator/release", json={"drop": True}, timeout=10)


def notify_document(
    sim: Any, url: str, *, council: str = "northfield", **notifications: Any
) -> dict[str, Any]:
    """The demo councils, ``council`` sending through the simulator with its default
    templates (``notifications`` overrides any field of the council's ``notifications``)."""
    document = demo_document()
    for spec in document["councils"]:
        if spec["id"] != council:
            continue
        spec["notifications"] = {
            "adapter": "govuk-notify",
            "settings": {
                "api_key": {"from_env": API_KEY_VARIABLE},
                "base_url": url,
                "receipt_token": {"from_env": RECEIPT_TOKEN_VARIABLE},
                "timeout_seconds": 5,
            },
            "templates": {
                kind: {"sms": sim.template_id(kind, "sms"), "email": sim.template_id(kind, "email")}
                for kind in KINDS
            },
            "staff_email": STAFF_EMAIL,
            **notifications,
        }
    return document


GatewayBuilder = Callable[..., Any]


@pytest.fixture(name="make_notify_gateway")
async def make_notify_gateway_fixture(database_url: str, notify_sim: Notify) -> AsyncIterator[GatewayBuilder]:
    """Builds gateways on the test database whose Northfield sends through the simulator:
    ``await make_notify_gateway(send=[...], quiet_hours={...})``."""
    await empty_tables(database_url)
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    stack: list[tuple[Any, Any]] = []

    async def build(document: Mapping[str, Any] | None = None, **notifications: Any) -> Gateway:
        environ = {
            API_KEY_VARIABLE: notify_sim.sim.api_key("live"),
            RECEIPT_TOKEN_VARIABLE: RECEIPT_TOKEN,
        }
        document = document or notify_document(notify_sim.sim, notify_sim.url, **notifications)
        config = parse_config(document, discover_plugins(), environ)
        settings = Settings(
            database_url=database_url,
            config_file=Path("unused.yaml"),
            token_secret=secrets.token_urlsafe(40),
            backend_timeout_seconds=5.0,
            retry_base_seconds=0.05,
            retry_cap_seconds=0.2,
        )
        key = await prepare_without_migrating(settings, config, sessions)
        app = create_app(settings, config)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
        stack.append((lifespan, client))
        return Gateway(client, key, sessions, settings, app)

    yield build
    for lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)
    await engine.dispose()


def worker_of(gateway: Gateway) -> Worker:
    """A worker on the same parts as the app under test."""
    return Worker(gateway.app.state.gateway.parts)


async def run_worker(gateway: Gateway, seconds: float = 30.0) -> int:
    """Run what is due until nothing is; how many jobs ran."""
    return await worker_of(gateway).run_until_idle(limit_seconds=seconds)


async def run_until_settled(gateway: Gateway, seconds: float = 10.0) -> None:
    """Run the worker until no job waits for a retry due within ``seconds`` (429s, 5xx)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        await run_worker(gateway)
        async with gateway.sessions() as session:
            waiting = await session.scalar(
                select(Job.run_after)
                .where(Job.state == "queued")
                .where(Job.kind.in_(("notify", "remind")))
                .where(Job.run_after < utcnow() + timedelta(seconds=seconds))
                .order_by(Job.run_after)
                .limit(1)
            )
        if waiting is None:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("message jobs still waiting for a retry")
        await asyncio.sleep(0.05)


async def make_due(gateway: Gateway, kind: str) -> int:
    """Make every queued job of ``kind`` due now (time passes); how many."""
    async with gateway.sessions.begin() as session:
        result = await session.execute(
            update(Job)
            .where(Job.kind == kind)
            .where(Job.state == "queued")
            .values(run_after=utcnow())
            .execution_options(synchronize_session=False)
        )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def recorded(gateway: Gateway) -> dict[str, Message]:
    """The gateway's messages by key."""
    async with gateway.sessions() as session:
        return {m.key: m for m in await session.scalars(select(Message))}


async def repair_row(gateway: Gateway, reference: str) -> Repair:
    async with gateway.sessions() as session:
        row = await session.scalar(select(Repair).where(Repair.reference == reference))
    assert row is not None
    return row
