"""A repair's history in the standard (issue 8, part 6), and the same problem reported twice
(part 7): a communal report joins the open repair and its reporter is told of it from then
on; a home's repeated report is a 409 naming the open repair unless it is a new problem."""

from __future__ import annotations

import copy
import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest
from sqlalchemy import select, update

from repairs_gateway.demo.data import demo_document
from repairs_gateway.domain.history import describe
from repairs_gateway.persistence.models import Message, Repair, RepairContact, RepairEvent, utcnow
from repairs_gateway.spec import spec_document
from repairs_gateway.worker.runner import Worker

from gateway_support import Gateway, on_both_databases
from journey import NORTHFIELD, SINK, UPRN, create, repair_body, windows

COMMUNAL = "100012345900"  # "Communal areas, Beech Court" in the demo's Northfield
TOILET = "bathroom/toilet"
LONDON = ZoneInfo("Europe/London")
NEIGHBOUR = {"name": "Alex Neighbour", "phone": "07700 900456", "preferredChannel": "sms"}
INTERNAL = "DRS said: createOrder failed with SOAP fault 0x2a"


async def get(gw: Gateway, reference: str) -> dict[str, Any]:
    response = await gw.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gw.auth())
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def two_windows(gw: Gateway, uprn: str = UPRN, path: str = SINK) -> list[dict[str, Any]]:
    page = await windows(gw, uprn, triagePath=path)
    found = [w for day in page["days"] for w in day["windows"]]
    assert len(found) >= 2
    return found


async def report(gw: Gateway, uprn: str, path: str = SINK, key: str | None = None, **changes: Any) -> Any:
    body = repair_body(uprn=uprn, **changes)
    body["repair"] = {"triagePath": path}
    return await create(gw, body, key or str(uuid.uuid4()))


def types(repair: dict[str, Any]) -> list[str]:
    return [event["type"] for event in repair["history"]]


@pytest.fixture
async def strict(make_gateway: Any) -> Gateway:
    """The demo councils, Northfield refusing a home's repeated report."""
    document = copy.deepcopy(demo_document())
    document["councils"][0]["duplicates"] = {"refuse_at_homes": True}
    built: Gateway = await make_gateway(document=document)
    return built


def schema_of(name: str) -> dict[str, Any]:
    """A component schema of the spec, resolvable on its own."""
    document = spec_document()
    return {"$ref": f"#/components/schemas/{name}", "components": document["components"]}


# ------------------------------------------------------------------ history


async def test_history_reads_reported_booked_moved_cancelled_in_the_residents_words(gateway: Gateway) -> None:
    first, second = (await two_windows(gateway))[:2]
    created = await create(gateway, repair_body(first["id"]), "history-1")
    assert created.status_code == 201, created.text
    assert types(created.json()) == ["reported", "booked"]
    reference = created.json()["reference"]
    moved = await gateway.client.post(
        f"{NORTHFIELD}/repairs/{reference}/reschedule",
        json={"windowId": second["id"]},
        headers=gateway.auth(),
    )
    assert moved.status_code == 200, moved.text
    assert types(moved.json()) == ["reported", "booked", "moved"]
    # Something internal happened to the repair meanwhile: staff see it, the resident never.
    async with gateway.sessions.begin() as session:
        repair_id = await session.scalar(select(Repair.id).where(Repair.reference == reference))
        session.add(
            RepairEvent(repair_id=repair_id, kind="needs_attention", detail={"note": INTERNAL}, at=utcnow())
        )
        await session.execute(update(Repair).where(Repair.id == repair_id).values(backend_note=INTERNAL))
    cancelled = await gateway.client.post(f"{NORTHFIELD}/repairs/{reference}/cancel", headers=gateway.auth())
    assert cancelled.status_code == 200, cancelled.text
    assert types(cancelled.json()) == ["reported", "booked", "moved", "cancelled"]

    repair = await get(gateway, reference)
    history = repair["history"]
    assert types(repair) == ["reported", "booked", "moved", "cancelled"]
    assert [e["at"] for e in history] == sorted(e["at"] for e in history)
    assert [e["description"] for e in history] == [
        "You reported the repair.",
        describe("booked", {"start": first["start"], "end": first["end"]}, LONDON),
        describe("moved", {"start": second["start"], "end": second["end"]}, LONDON),
        "The repair was cancelled.",
    ]
    assert history[1]["description"].startswith("An appointment was booked for ")
    assert history[1]["appointment"] == {k: first[k] for k in ("start", "end", "label")}
    assert history[2]["appointment"] == {k: second[k] for k in ("start", "end", "label")}
    assert "appointment" not in history[0] and "appointment" not in history[3]
    assert INTERNAL not in str(repair) and "needs_attention" not in str(repair)
    jsonschema.validate(repair, schema_of("Repair"))


async def test_a_repair_recorded_without_a_window_has_one_event(gateway: Gateway) -> None:
    created = await create(gateway, repair_body(), "history-2")
    assert created.status_code == 201
    assert created.json()["history"] == [
        {
            "at": created.json()["history"][0]["at"],
            "type": "reported",
            "description": "You reported the repair.",
        }
    ]


def test_the_specs_repair_examples_carry_a_history_and_validate() -> None:
    document = spec_document()
    examples = document["components"]["examples"]
    repairs = [name for name in examples if name.startswith("Repair") and "Request" not in name]
    assert len(repairs) >= 7
    for name in repairs:
        value = examples[name]["value"]
        jsonschema.validate(value, schema_of("Repair"))
        assert value["history"][0]["type"] == "reported", name
    jsonschema.validate(examples["ProblemDuplicateRepair"]["value"], schema_of("Problem"))
    jsonschema.validate(examples["RepairRequestNewProblem"]["value"], schema_of("RepairRequest"))


# ------------------------------------------------------------------ communal areas


@on_both_databases
async def test_a_second_communal_report_joins_and_both_residents_hear_of_the_next_change(
    gateway: Gateway,
) -> None:
    window = (await two_windows(gateway, COMMUNAL))[0]
    first = await report(gateway, COMMUNAL, windowId=window["id"])
    assert first.status_code == 201, first.text
    reference = first.json()["reference"]

    second = await report(gateway, COMMUNAL, key="neighbour-1", contact=NEIGHBOUR)
    assert second.status_code == 200, second.text
    joined = second.json()
    assert joined["reference"] == reference
    assert second.headers["location"] == f"{NORTHFIELD}/repairs/{reference}"
    assert "Idempotent-Replayed" not in second.headers
    assert joined["status"] == "booked" and joined["appointment"]["start"] == window["start"]
    assert types(joined) == ["reported", "booked", "joined"]
    assert joined["nextSteps"].startswith(
        f"This problem was already reported by another resident, as {reference}."
    )
    assert await gateway.count("repairs") == 1
    assert await gateway.count("repair_contacts") == 1
    assert types(await get(gateway, reference)) == ["reported", "booked", "joined"]

    # A retry of the joining report replays it; the same key with another body is refused.
    again = await report(gateway, COMMUNAL, key="neighbour-1", contact=NEIGHBOUR)
    assert again.status_code == 200 and again.headers["Idempotent-Replayed"] == "true"
    assert again.json()["reference"] == reference
    other = await report(gateway, COMMUNAL, key="neighbour-1", contact=NEIGHBOUR, description="Other words.")
    assert other.status_code == 422 and other.json()["type"] == "/problems/idempotency-key-reused"
    # The first reporter reporting it again is told of it already: not added twice.
    own = await report(gateway, COMMUNAL)
    assert own.status_code == 200 and own.json()["reference"] == reference
    assert await gateway.count("repair_contacts") == 1

    cancelled = await gateway.client.post(f"{NORTHFIELD}/repairs/{reference}/cancel", headers=gateway.auth())
    assert cancelled.status_code == 200
    await Worker(gateway.app.state.gateway.parts).run_until_idle()
    async with gateway.sessions() as session:
        sent = (
            await session.execute(
                select(Message.kind, Message.recipient, Message.state).where(
                    Message.kind == "repair_cancelled"
                )
            )
        ).all()
    assert sorted(sent) == [
        ("repair_cancelled", "07700 900123", "sent"),
        ("repair_cancelled", "07700 900456", "sent"),
    ]


async def test_a_communal_report_after_the_councils_time_makes_a_new_repair(gateway: Gateway) -> None:
    first = await report(gateway, COMMUNAL)
    assert first.status_code == 201
    async with gateway.sessions.begin() as session:
        await session.execute(update(Repair).values(created_at=utcnow() - timedelta(days=30, minutes=1)))
    later = await report(gateway, COMMUNAL, contact=NEIGHBOUR)
    assert later.status_code == 201, later.text
    assert later.json()["reference"] != first.json()["reference"]
    assert types(later.json()) == ["reported"]
    # Within the time, a report joins the newer one.
    third = await report(gateway, COMMUNAL, contact={**NEIGHBOUR, "phone": "07700 900789"})
    assert third.status_code == 200 and third.json()["reference"] == later.json()["reference"]


async def test_the_councils_time_is_a_setting(make_gateway: Any) -> None:
    document = copy.deepcopy(demo_document())
    document["councils"][0]["duplicates"] = {"communal_window_days": 0}  # never joined
    gateway = await make_gateway(document=document)
    assert (await report(gateway, COMMUNAL)).status_code == 201
    assert (await report(gateway, COMMUNAL, contact=NEIGHBOUR)).status_code == 201


async def test_another_job_at_the_same_communal_area_is_not_joined(gateway: Gateway) -> None:
    sink = await report(gateway, COMMUNAL)
    toilet = await report(gateway, COMMUNAL, TOILET, contact=NEIGHBOUR)
    assert sink.status_code == 201 and toilet.status_code == 201, toilet.text
    assert sink.json()["reference"] != toilet.json()["reference"]
    # Nor is the same job reported by trade and duration (no SoR code, no triage path).
    by_trade = await create(
        gateway,
        {**repair_body(uprn=COMMUNAL), "repair": {"trade": "plumbing", "durationMinutes": 60}},
        str(uuid.uuid4()),
    )
    assert by_trade.status_code == 201
    # The same SoR code named directly is the same job as the triage leaf.
    by_code = await create(
        gateway, {**repair_body(uprn=COMMUNAL), "repair": {"sorCode": "20060020"}}, str(uuid.uuid4())
    )
    assert by_code.status_code == 200 and by_code.json()["reference"] == sink.json()["reference"]


async def test_a_new_problem_at_a_communal_area_is_recorded_as_new(gateway: Gateway) -> None:
    first = await report(gateway, COMMUNAL)
    second = await report(gateway, COMMUNAL, contact=NEIGHBOUR, newProblem=True)
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["reference"] != second.json()["reference"]


# ------------------------------------------------------------------ homes


@on_both_databases
async def test_a_repeated_home_report_is_a_409_naming_the_open_repair(strict: Gateway) -> None:
    gateway = strict
    first = await report(gateway, UPRN)
    assert first.status_code == 201
    reference = first.json()["reference"]
    window = (await two_windows(gateway))[0]
    again = await report(gateway, UPRN, key="again", windowId=window["id"])
    assert again.status_code == 409
    assert again.headers["content-type"].startswith("application/problem+json")
    problem = again.json()
    assert problem["type"] == "/problems/duplicate-repair"
    assert problem["existingReference"] == reference
    assert reference in problem["detail"]
    assert await gateway.count("repairs") == 1
    jsonschema.validate(problem, schema_of("Problem"))

    # The refusal created nothing, so its key is not used up: it is a new problem after all.
    new = await report(gateway, UPRN, key="again", windowId=window["id"], newProblem=True)
    assert new.status_code == 201, new.text
    assert new.json()["reference"] != reference and new.json()["status"] == "booked"
    replay = await report(gateway, UPRN, key="again", windowId=window["id"], newProblem=True)
    assert replay.status_code == 201 and replay.json()["reference"] == new.json()["reference"]
    assert await gateway.count("repairs") == 2


async def test_a_home_report_repeating_a_closed_repair_or_another_home_is_new(strict: Gateway) -> None:
    gateway = strict
    first = await report(gateway, UPRN)
    reference = first.json()["reference"]
    assert (await report(gateway, "100012345002")).status_code == 201  # a neighbour's flat
    assert (await report(gateway, UPRN, TOILET)).status_code == 201  # another job
    cancel = await gateway.client.post(f"{NORTHFIELD}/repairs/{reference}/cancel", headers=gateway.auth())
    assert cancel.status_code == 200
    assert (await report(gateway, UPRN)).status_code == 201


async def test_a_council_that_has_not_turned_it_on_records_a_homes_repeat_as_new(gateway: Gateway) -> None:
    first, again = await report(gateway, UPRN), await report(gateway, UPRN)
    assert (first.status_code, again.status_code) == (201, 201)
    assert first.json()["reference"] != again.json()["reference"]


@pytest.mark.parametrize("value", ["yes", 1, None])
async def test_new_problem_is_a_boolean(gateway: Gateway, value: Any) -> None:
    response = await report(gateway, UPRN, newProblem=value)
    assert response.status_code == 400
    assert {e["field"] for e in response.json()["errors"]} == {"newProblem"}


async def test_joined_reporters_are_kept_as_contacts(gateway: Gateway) -> None:
    first = await report(gateway, COMMUNAL)
    await report(
        gateway,
        COMMUNAL,
        contact={"name": "Email Neighbour", "email": "n@example.org", "preferredChannel": "email"},
    )
    async with gateway.sessions() as session:
        contacts = list(await session.scalars(select(RepairContact)))
    assert [(c.name, c.email, c.preferred_channel) for c in contacts] == [
        ("Email Neighbour", "n@example.org", "email")
    ]
    assert first.status_code == 201
