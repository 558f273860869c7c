"""Status from the scheduler (issue 8, part 5): a contractor moves, starts or completes a
booking in DRS (the simulator's control), and the resident's repair, its history and its
messages follow: by the worker's polling, and by DRS's ``bookingConfirmation`` push.

The gateway and the DRS simulator run in-process: the gateway's DRS adaptor speaks SOAP to
the simulator over ``httpx.ASGITransport``, and the simulator pushes to the gateway's app
the same way."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, ConfigDict, Field
from repairs_gateway_kirona_drs import DrsScheduler, DrsSettings
from repairs_gateway_kirona_drs.push import BookingConfirmation, confirmation_envelope
from repairs_gateway_kirona_drs.simulator import DrsSimulator, SimulatorConfig
from sqlalchemy import select, update

from repairs_gateway.demo.data import demo_document
from repairs_gateway.domain.polling import HELD, SOON
from repairs_gateway.persistence.models import Job, Message, Repair, RepairEvent, utcnow
from repairs_gateway.ports import AdapterContext, AdapterPlugin
from repairs_gateway.worker.runner import Worker

from gateway_support import Gateway, on_both_databases

DRS_BASE = "http://drs.test"
ENDPOINT = DRS_BASE + SimulatorConfig().path
EASTBROOK = "/v1/councils/eastbrook"
PUSH_URL = "http://gateway/v1/callbacks/eastbrook/schedulers/drs"
PUSH_TOKEN = "eastbrook-drs-push-token-0123456789"
UPRN = "300056780010"
SINK = "kitchen/sink"
POLL = "poll"
ALL_BUT_STATUS = ["booking_confirmed", "appointment_moved", "repair_cancelled", "reminder"]


class InProcessDrs(BaseModel):
    """The test plugin's settings: what differs from the simulator's defaults."""

    model_config = ConfigDict(extra="forbid")
    contract: str = "REPAIRS"
    trade_sor: dict[str, str] = Field(default_factory=dict)
    push: bool = False


@dataclass
class World:
    """A gateway whose council Eastbrook is scheduled by an in-process DRS simulator."""

    gateway: Gateway
    sim: DrsSimulator
    control: httpx.AsyncClient

    def worker(self) -> Worker:
        return Worker(self.gateway.app.state.gateway.parts)

    async def book(self) -> dict[str, Any]:
        """A repair booked into the first window offered, its confirmation sent."""
        gw = self.gateway
        page = await gw.client.get(
            f"{EASTBROOK}/appointments", params={"uprn": UPRN, "triagePath": SINK}, headers=gw.auth()
        )
        assert page.status_code == 200, page.text
        window = page.json()["days"][0]["windows"][0]
        body = {
            "uprn": UPRN,
            "repair": {"triagePath": SINK},
            "description": "The kitchen sink is blocked.",
            "contact": {"name": "Sam Resident", "phone": "07700 900123", "preferredChannel": "sms"},
            "windowId": window["id"],
        }
        created = await gw.client.post(f"{EASTBROOK}/repairs", json=body, headers=gw.auth())
        assert created.status_code == 201, created.text
        assert created.json()["status"] == "booked"
        await self.worker().run_until_idle(limit_seconds=20)
        repair: dict[str, Any] = created.json()
        return repair

    async def contractor(self, reference: str, **change: Any) -> dict[str, Any]:
        """What a contractor or an operative does in DRS (the simulator's control)."""
        response = await self.control.post(f"/_simulator/orders/{reference}/status", json=change)
        assert response.status_code == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def read(self, reference: str) -> dict[str, Any]:
        """The resident's getRepair."""
        gw = self.gateway
        response = await gw.client.get(f"{EASTBROOK}/repairs/{reference}", headers=gw.auth())
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    async def row(self, reference: str) -> Repair:
        async with self.gateway.sessions() as session:
            found = await session.scalar(select(Repair).where(Repair.reference == reference))
        assert found is not None
        return found

    async def events(self, reference: str) -> list[str]:
        async with self.gateway.sessions() as session:
            kinds = await session.scalars(
                select(RepairEvent.kind)
                .join(Repair, Repair.id == RepairEvent.repair_id)
                .where(Repair.reference == reference)
                .order_by(RepairEvent.id)
            )
            return list(kinds)

    async def messages(self, reference: str) -> list[str]:
        async with self.gateway.sessions() as session:
            kinds = await session.scalars(
                select(Message.kind)
                .join(Repair, Repair.id == Message.repair_id)
                .where(Repair.reference == reference)
                .where(Message.kind.not_like("staff_%"))
                .order_by(Message.id)
            )
            return list(kinds)

    async def polls(self, reference: str) -> int:
        row = await self.row(reference)
        async with self.gateway.sessions() as session:
            jobs = await session.scalars(select(Job.id).where(Job.kind == POLL, Job.repair_id == row.id))
            return len(list(jobs))

    async def make_due(self, reference: str) -> None:
        """Time passes until the repair's next status poll."""
        async with self.gateway.sessions.begin() as session:
            await session.execute(
                update(Repair)
                .where(Repair.reference == reference)
                .values(next_poll_at=utcnow() - timedelta(seconds=1))
            )

    def asked(self) -> int:
        """How often DRS was asked for orders (what ``status`` calls)."""
        return self.sim.state.calls["selectOrder"]


async def build_world(
    make_gateway: Any, *, send: Sequence[str] | None = None, push: bool = True, **overrides: Any
) -> World:
    sim = DrsSimulator(SimulatorConfig(seed=1))

    def build(settings: InProcessDrs, context: AdapterContext) -> DrsScheduler:
        drs = DrsSettings(
            endpoint=ENDPOINT,
            login=sim.config.login,
            password=sim.config.password,
            contract=settings.contract,
            trade_sor=settings.trade_sor,
            push_token=PUSH_TOKEN if settings.push else None,
            timeout_seconds=5,
        )
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url=DRS_BASE)
        return DrsScheduler(drs, context, http_client=client)

    document = demo_document(drs_endpoint=ENDPOINT)
    eastbrook = next(c for c in document["councils"] if c["id"] == "eastbrook")
    eastbrook["schedulers"][0]["adapter"] = "drs-in-process"
    eastbrook["schedulers"][0]["settings"] = {"trade_sor": {"plumbing": "20060040"}, "push": push}
    if send is not None:
        eastbrook["notifications"] = {"send": list(send)}
    plugin = AdapterPlugin("drs-in-process", frozenset({"scheduler"}), InProcessDrs, build)
    gateway: Gateway = await make_gateway(
        document=document, plugins={"drs-in-process": plugin}, backend_retries=0, **overrides
    )
    sim.pushes.client = gateway.client  # DRS's background service reaches the gateway
    control = httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app), base_url=DRS_BASE)
    return World(gateway, sim, control)


def moved(appointment: dict[str, Any], days: int = 1) -> dict[str, str]:
    """The appointment's window ``days`` later, as the control takes it."""
    start = datetime.fromisoformat(appointment["start"]) + timedelta(days=days)
    end = datetime.fromisoformat(appointment["end"]) + timedelta(days=days)
    return {"start": start.isoformat(), "end": end.isoformat()}


def same_instant(a: str, b: str) -> bool:
    return datetime.fromisoformat(a) == datetime.fromisoformat(b)


def history_kinds(body: dict[str, Any]) -> list[str] | None:
    """The kinds in getRepair's ``history``, where the API has it yet."""
    history = body.get("history")
    if history is None:
        return None
    return [str(item.get("kind") or item.get("type")) for item in history]


# ---------------------------------------------------------------------- by polling


@on_both_databases
async def test_a_move_and_a_completion_in_drs_reach_the_resident_by_polling(make_gateway: Any) -> None:
    world = await build_world(make_gateway, push=False)
    repair = await world.book()
    reference = repair["reference"]
    assert await world.messages(reference) == ["booking_confirmed"]
    booked = await world.row(reference)
    assert booked.next_poll_at is not None and booked.next_poll_at > utcnow()

    # The contractor moves the visit to the next day. Nothing is asked until a poll is due.
    new_window = moved(repair["appointment"])
    await world.contractor(reference, **new_window)
    before = world.asked()
    await world.worker().run_until_idle(limit_seconds=20)
    assert world.asked() == before
    assert "moved" not in await world.events(reference)

    await world.make_due(reference)
    await world.worker().run_until_idle(limit_seconds=20)
    assert world.asked() == before + 1
    row = await world.row(reference)  # read from the table: the worker did it, not getRepair
    assert row.status == "booked"
    assert row.window_start == datetime.fromisoformat(new_window["start"])
    assert row.next_poll_at is not None and row.next_poll_at > utcnow()
    assert await world.events(reference) == ["reported", "booked", "moved"]
    assert await world.messages(reference) == ["booking_confirmed", "appointment_moved"]
    seen = await world.read(reference)
    assert seen["status"] == "booked"
    assert same_instant(seen["appointment"]["start"], new_window["start"])
    kinds = history_kinds(seen)
    if kinds is not None:
        assert "moved" in kinds

    # The operative arrives and finishes the job.
    await world.contractor(reference, status="COMPLETED")
    await world.make_due(reference)
    await world.worker().run_until_idle(limit_seconds=20)
    row = await world.row(reference)
    assert row.status == "completed"
    assert row.next_poll_at is None
    assert await world.events(reference) == ["reported", "booked", "moved", "completed"]
    assert await world.messages(reference) == ["booking_confirmed", "appointment_moved", "status_changed"]
    seen = await world.read(reference)
    assert seen["status"] == "completed"
    kinds = history_kinds(seen)
    if kinds is not None:
        assert kinds[-1] == "completed"


async def test_a_closed_repair_is_never_polled(make_gateway: Any) -> None:
    world = await build_world(make_gateway, push=False)
    reference = (await world.book())["reference"]
    await world.contractor(reference, status="COMPLETED")
    await world.make_due(reference)
    await world.worker().run_until_idle(limit_seconds=20)
    assert (await world.row(reference)).status == "completed"
    polls, asked = await world.polls(reference), world.asked()

    # Even with a poll time left over (an old row, a hand edit), nothing asks about it again:
    # not the worker, not a read.
    await world.make_due(reference)
    await world.worker().run_until_idle(limit_seconds=20)
    assert (await world.read(reference))["status"] == "completed"
    assert await world.polls(reference) == polls
    assert world.asked() == asked


@on_both_databases
async def test_a_poll_while_drs_is_down_is_tried_again_later_not_at_once(make_gateway: Any) -> None:
    world = await build_world(make_gateway, push=False)
    reference = (await world.book())["reference"]
    await world.contractor(reference, status="STARTED")
    world.sim.state.fail_next("selectOrder", transport="http503")
    await world.make_due(reference)
    asked = world.asked()
    await world.worker().run_until_idle(limit_seconds=20)
    assert world.asked() == asked + 1  # asked once, not in a loop
    row = await world.row(reference)
    assert row.status == "booked"  # nothing known yet
    assert row.next_poll_at is not None
    assert utcnow() < row.next_poll_at <= utcnow() + SOON
    async with world.gateway.sessions() as session:
        states = set(await session.scalars(select(Job.state).where(Job.kind == "poll")))
    assert states == {"done"}  # the next poll time tries again: no job left to retry or die

    await world.make_due(reference)  # ... which comes, and DRS answers
    await world.worker().run_until_idle(limit_seconds=20)
    assert (await world.row(reference)).status == "in_progress"
    assert await world.events(reference) == ["reported", "booked", "in_progress"]


async def test_a_repair_held_by_a_change_is_not_polled_but_asked_about_shortly(make_gateway: Any) -> None:
    world = await build_world(make_gateway, push=False)
    reference = (await world.book())["reference"]
    async with world.gateway.sessions.begin() as session:
        await session.execute(
            update(Repair)
            .where(Repair.reference == reference)
            .values(attempt="live0001", lease_until=utcnow() + timedelta(seconds=30))
        )
    await world.make_due(reference)
    asked = world.asked()
    await world.worker().run_until_idle(limit_seconds=20)
    assert world.asked() == asked
    row = await world.row(reference)
    assert row.next_poll_at is not None
    assert utcnow() < row.next_poll_at <= utcnow() + HELD


# ---------------------------------------------------------------------- by DRS's push


@on_both_databases
async def test_changes_pushed_by_drs_reach_the_resident_at_once(make_gateway: Any) -> None:
    # This council's scheduler texts residents itself about work starting and ending, so the
    # gateway does not (no status_changed in its list).
    world = await build_world(make_gateway, send=ALL_BUT_STATUS, push=True)
    subscribed = await world.control.post("/_simulator/callback", json={"url": PUSH_URL, "token": PUSH_TOKEN})
    assert subscribed.status_code == 200, subscribed.text
    repair = await world.book()
    reference = repair["reference"]

    new_window = moved(repair["appointment"], days=2)
    answer = await world.contractor(reference, **new_window)
    assert answer["callback"]["httpStatus"] == 200, answer
    # Applied by the push itself, before any worker pass or read.
    row = await world.row(reference)
    assert row.window_start == datetime.fromisoformat(new_window["start"])
    assert await world.events(reference) == ["reported", "booked", "moved"]

    answer = await world.contractor(reference, status="STARTED")
    assert answer["callback"]["httpStatus"] == 200
    assert (await world.row(reference)).status == "in_progress"
    # DRS sends the same confirmation again: nothing new happens.
    again = await world.contractor(reference, status="STARTED")
    assert again["callback"]["httpStatus"] == 200
    assert await world.events(reference) == ["reported", "booked", "moved", "in_progress"]

    await world.contractor(reference, status="COMPLETED")
    assert await world.events(reference) == ["reported", "booked", "moved", "in_progress", "completed"]
    await world.worker().run_until_idle(limit_seconds=20)
    # Moved: messaged. Started and completed: recorded, but not messaged by this council.
    assert await world.messages(reference) == ["booking_confirmed", "appointment_moved"]
    seen = await world.read(reference)
    assert seen["status"] == "completed"
    kinds = history_kinds(seen)
    if kinds is not None:
        assert kinds[-3:] == ["moved", "in_progress", "completed"]
    assert (await world.row(reference)).next_poll_at is None


async def test_a_push_is_believed_only_for_the_reference_it_names(make_gateway: Any) -> None:
    world = await build_world(make_gateway, push=True)
    repair = await world.book()
    reference = repair["reference"]
    order = (await world.control.get("/_simulator/orders")).json()["orders"][0]
    forged = BookingConfirmation(
        booking_id=str(order["bookings"][0]["bookingId"]),
        primary_order_number=reference,
        contract="REPAIRS",
        planning_window_start=moved(repair["appointment"], days=5)["start"],
        planning_window_end=moved(repair["appointment"], days=5)["end"],
    )
    response = await push(world, confirmation_envelope(forged))
    assert response.status_code == 200
    assert b"bookingConfirmationResponse" in response.content
    # DRS still holds the first window, so that is what the repair says.
    row = await world.row(reference)
    assert row.window_start == datetime.fromisoformat(repair["appointment"]["start"])
    assert await world.events(reference) == ["reported", "booked"]


async def test_pushes_with_unknown_references_are_answered_and_ignored(make_gateway: Any) -> None:
    world = await build_world(make_gateway, push=True)
    stranger = BookingConfirmation(booking_id="1", primary_order_number="EB-NOSUCH1", contract="REPAIRS")
    asked = world.asked()
    response = await push(world, confirmation_envelope(stranger))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/xml")
    assert b"<status>success</status>" in response.content
    assert world.asked() == asked


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Bearer not-the-token",
        f"Bearer {PUSH_TOKEN}x",
        f"Token {PUSH_TOKEN}",
        "Basic " + base64.b64encode(b"drs:wrong").decode(),
    ],
)
async def test_a_push_without_the_councils_token_is_refused(
    make_gateway: Any, authorization: str | None
) -> None:
    world = await build_world(make_gateway, push=True)
    reference = (await world.book())["reference"]
    world.sim.state.set_status(_order_and_booking(world, reference)[1].booking_id, "STARTED")
    body = confirmation_envelope(BookingConfirmation(booking_id="1", primary_order_number=reference))
    response = await push(world, body, authorization=authorization)
    assert response.status_code == 401
    assert b"Fault" in response.content
    assert (await world.row(reference)).status == "booked"


async def test_basic_authentication_carrying_the_token_is_accepted(make_gateway: Any) -> None:
    world = await build_world(make_gateway, push=True)
    reference = (await world.book())["reference"]
    world.sim.state.set_status(_order_and_booking(world, reference)[1].booking_id, "ARRIVED")
    body = confirmation_envelope(BookingConfirmation(booking_id="1", primary_order_number=reference))
    basic = "Basic " + base64.b64encode(f"drs-background:{PUSH_TOKEN}".encode()).decode()
    response = await push(world, body, authorization=basic)
    assert response.status_code == 200
    assert (await world.row(reference)).status == "in_progress"


async def test_a_council_without_a_push_token_takes_no_pushes(make_gateway: Any) -> None:
    world = await build_world(make_gateway, push=False)
    reference = (await world.book())["reference"]
    body = confirmation_envelope(BookingConfirmation(booking_id="1", primary_order_number=reference))
    response = await push(world, body)
    assert response.status_code == 401
    assert b"no push_token" in response.content


async def test_a_push_that_is_not_a_booking_confirmation_is_a_soap_fault(make_gateway: Any) -> None:
    world = await build_world(make_gateway, push=True)
    response = await push(world, b"<not-soap/>")
    assert response.status_code == 500
    assert b"Fault" in response.content and b"SOAP 1.1 envelope" in response.content


async def test_pushes_to_a_scheduler_that_takes_none_are_not_found(make_gateway: Any) -> None:
    world = await build_world(make_gateway, push=True)
    body = confirmation_envelope(BookingConfirmation(booking_id="1", primary_order_number="X"))
    for url in (
        "/v1/callbacks/eastbrook/schedulers/other",
        "/v1/callbacks/northfield/schedulers/calendar",  # the built-in calendar reads no pushes
        "/v1/callbacks/nowhere/schedulers/drs",
    ):
        response = await world.gateway.client.post(
            url, content=body, headers={"Content-Type": "text/xml", "Authorization": f"Bearer {PUSH_TOKEN}"}
        )
        assert response.status_code == 404, url


async def test_a_push_that_finds_drs_down_makes_the_repair_due_for_a_poll(make_gateway: Any) -> None:
    world = await build_world(make_gateway, push=True)
    reference = (await world.book())["reference"]
    world.sim.state.set_status(_order_and_booking(world, reference)[1].booking_id, "STARTED")
    world.sim.state.fail_next("selectOrder", transport="http503")
    body = confirmation_envelope(BookingConfirmation(booking_id="1", primary_order_number=reference))
    response = await push(world, body)
    assert response.status_code == 200  # taken: the gateway follows it up itself
    row = await world.row(reference)
    assert row.status == "booked"
    assert row.next_poll_at is not None and row.next_poll_at <= utcnow()  # due now
    await world.worker().run_until_idle(limit_seconds=20)
    assert (await world.row(reference)).status == "in_progress"


async def push(
    world: World, body: bytes, authorization: str | None = f"Bearer {PUSH_TOKEN}"
) -> httpx.Response:
    """POST a push to the gateway, as DRS's background service does."""
    headers = {"Content-Type": "text/xml; charset=UTF-8"}
    if authorization is not None:
        headers["Authorization"] = authorization
    return await world.gateway.client.post(PUSH_URL, content=body, headers=headers)


def _order_and_booking(world: World, reference: str) -> tuple[Any, Any]:
    order = world.sim.state.find_orders(numbers=[reference])[0]
    return order, order.bookings[-1]
