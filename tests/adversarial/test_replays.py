"""A retry with the same Idempotency-Key is answered exactly the first answer (status code,
body and Location), as the spec promises, whatever the repair has done since.

Before: replaying after the repair was cancelled answered 201 with ``"status": "cancelled"``."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from test_repairs_api import _single_place_calendar

from repairs_gateway.persistence.models import Repair
from repairs_gateway.spec import spec_document

from gateway_support import Gateway, on_both_databases
from journey import NORTHFIELD, OTHER_UPRN, create, first_window, repair_body, windows


async def _cancel(gateway: Gateway, reference: str) -> Any:
    response = await gateway.client.post(f"{NORTHFIELD}/repairs/{reference}/cancel", headers=gateway.auth())
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "cancelled"
    return response


def _assert_same_answer(replayed: Any, first: Any) -> None:
    assert replayed.status_code == first.status_code, replayed.text
    assert replayed.json() == first.json()
    assert replayed.headers["Location"] == first.headers["Location"]
    assert replayed.headers["Idempotent-Replayed"] == "true"


@on_both_databases
async def test_a_replay_after_the_repair_was_cancelled_answers_the_first_answer(gateway: Gateway) -> None:
    body = repair_body()
    first = await create(gateway, body, key="cancelled-later")
    assert first.status_code == 201 and first.json()["status"] == "received"
    await _cancel(gateway, first.json()["reference"])

    replayed = await create(gateway, body, key="cancelled-later")
    _assert_same_answer(replayed, first)
    assert replayed.json()["status"] == "received"
    assert await gateway.count() == 1


@on_both_databases
async def test_a_replay_after_the_booking_was_moved_answers_the_window_first_booked(gateway: Gateway) -> None:
    page = await windows(gateway)
    offered = [w for day in page["days"] for w in day["windows"]]
    body = repair_body(offered[0]["id"])
    first = await create(gateway, body, key="moved-later")
    assert first.status_code == 201 and first.json()["status"] == "booked", first.text
    reference = first.json()["reference"]
    moved = await gateway.client.post(
        f"{NORTHFIELD}/repairs/{reference}/reschedule",
        json={"windowId": offered[-1]["id"]},
        headers=gateway.auth(),
    )
    assert moved.status_code == 200 and moved.json()["appointment"]["start"] == offered[-1]["start"]

    replayed = await create(gateway, body, key="moved-later")
    _assert_same_answer(replayed, first)
    assert replayed.json()["appointment"]["start"] == offered[0]["start"]
    await _cancel(gateway, reference)
    _assert_same_answer(await create(gateway, body, key="moved-later"), first)


@on_both_databases
async def test_a_repair_made_before_answers_were_kept_keeps_its_first_replay_from_then_on(
    gateway: Gateway,
) -> None:
    """A repair stored before the answers were kept (or whose first answer was lost with its
    process) is answered as it is at the first replay, and that answer is kept from then on."""
    body = repair_body()
    first = await create(gateway, body, key="made-before")
    async with gateway.sessions.begin() as session:
        await session.execute(update(Repair).values(first_answer=None, updated_at=Repair.updated_at))
    again = await create(gateway, body, key="made-before")
    assert again.status_code == 201 and again.json() == first.json()
    await _cancel(gateway, first.json()["reference"])
    _assert_same_answer(await create(gateway, body, key="made-before"), again)


async def test_a_request_without_a_key_keeps_no_answer_and_another_body_is_still_a_422(
    gateway: Gateway,
) -> None:
    made = await create(gateway, repair_body())
    assert made.status_code == 201
    async with gateway.sessions() as session:
        kept = (await session.execute(Repair.__table__.select())).mappings().one()
    assert kept["first_answer"] is None
    keyed = await create(gateway, repair_body(), key="one-body")
    assert keyed.status_code == 201
    other = await create(
        gateway, repair_body(description="A different problem with the sink."), key="one-body"
    )
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")


# ----------------------------------------------------------------- titles (the same bullet)


def _spec_titles() -> dict[str, set[str]]:
    """Each problem type's titles in the spec's examples."""
    titles: dict[str, set[str]] = {}
    for example in spec_document()["components"]["examples"].values():
        value = example.get("value")
        if isinstance(value, dict) and str(value.get("type", "")).startswith("/problems/"):
            titles.setdefault(value["type"], set()).add(value["title"])
    return titles


async def test_every_problem_the_gateway_answers_is_titled_as_the_spec_s_examples(make_gateway: Any) -> None:
    """Before: a taken window was titled "Conflict" (the spec: "Window no longer available"),
    an unknown repair "Not found", a triage exit "This is an emergency", and so on."""
    gateway: Gateway = await make_gateway(document=_single_place_calendar())
    other_council = await gateway.new_key("southmoor")
    window = await first_window(gateway)
    next_door = await first_window(gateway, OTHER_UPRN)
    made = await create(gateway, repair_body(window["id"]), key="titled")
    assert made.status_code == 201
    reference = made.json()["reference"]
    auth = gateway.auth()
    answers = {
        "window-unavailable": await create(gateway, repair_body(next_door["id"], uprn=OTHER_UPRN)),
        "repair-not-found": await gateway.client.get(f"{NORTHFIELD}/repairs/NF-7KQ3M9X", headers=auth),
        "council-not-found": await gateway.client.get(
            "/v1/councils/nowhere/repairs/NF-7KQ3M9X", headers=auth
        ),
        "unauthorized": await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}"),
        "forbidden": await gateway.client.get(
            f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth(other_council)
        ),
        "triage-exit": await create(gateway, repair_body(repair={"triagePath": "kitchen/gas"})),
        "unknown-triage-path": await create(gateway, repair_body(repair={"triagePath": "kitchen/moat"})),
        "unknown-sor-code": await create(gateway, repair_body(repair={"sorCode": "99999999"})),
        "invalid-window": await create(gateway, repair_body("not.a-window")),
        "idempotency-key-reused": await create(
            gateway, repair_body(description="Another problem."), key="titled"
        ),
        "invalid-request": await create(gateway, repair_body(uprn="x")),
    }
    await _cancel(gateway, reference)
    answers["repair-state-conflict"] = await gateway.client.post(
        f"{NORTHFIELD}/repairs/{reference}/reschedule", json={"windowId": window["id"]}, headers=auth
    )
    spec = _spec_titles()
    for kind, response in answers.items():
        problem = response.json()
        assert problem["type"] == f"/problems/{kind}", (kind, response.text)
        assert problem["title"] in spec[problem["type"]], (kind, problem["title"], spec[problem["type"]])
    assert answers["window-unavailable"].json()["title"] == "Window no longer available"
