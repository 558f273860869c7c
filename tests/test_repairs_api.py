"""createRepair, getRepair, cancelRepair and rescheduleRepair through the API."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from repairs_gateway.demo.data import demo_document
from repairs_gateway.domain.references import parse_reference

from gateway_support import Gateway, on_both_databases
from journey import (
    NORTHFIELD,
    OTHER_UPRN,
    SINK,
    UPRN,
    create,
    field_names,
    first_window,
    repair_body,
    windows,
)


async def _booked_window_count(gw: Gateway, window: dict[str, Any]) -> int:
    page = await windows(gw)
    return sum(1 for d in page["days"] for w in d["windows"] if w["start"] == window["start"])


@on_both_databases
async def test_booking_a_window_answers_a_readable_reference_and_the_appointment(gateway: Gateway) -> None:
    window = await first_window(gateway)
    response = await create(gateway, repair_body(window["id"]))
    assert response.status_code == 201, response.text
    repair = response.json()
    assert parse_reference(repair["reference"]) == repair["reference"]
    assert repair["reference"].startswith("NF-")
    assert repair["status"] == "booked"
    assert repair["appointment"] == {"start": window["start"], "end": window["end"], "label": window["label"]}
    assert repair["job"] == {"sorCode": "20060020", "trade": "plumbing", "priority": 4, "durationMinutes": 60}
    assert "between 8am and midday" in repair["nextSteps"]
    assert response.headers["location"] == f"{NORTHFIELD}/repairs/{repair['reference']}"

    fetched = await gateway.client.get(response.headers["location"], headers=gateway.auth())
    assert fetched.status_code == 200
    assert fetched.json()["status"] == "booked"
    assert fetched.json()["appointment"] == repair["appointment"]


async def test_a_repair_without_a_window_is_received_with_a_promise_to_call(gateway: Gateway) -> None:
    response = await create(gateway, repair_body())
    assert response.status_code == 201
    repair = response.json()
    assert repair["status"] == "received"
    assert repair["appointment"] is None
    assert "contact you by text message" in repair["nextSteps"]


async def test_references_are_found_in_any_case_and_without_the_hyphen(gateway: Gateway) -> None:
    reference = (await create(gateway, repair_body())).json()["reference"]
    loose = reference.replace("-", "").lower()
    response = await gateway.client.get(f"{NORTHFIELD}/repairs/{loose}", headers=gateway.auth())
    assert response.status_code == 200
    assert response.json()["reference"] == reference


async def test_a_misread_reference_is_a_400_and_an_unknown_one_a_404(gateway: Gateway) -> None:
    reference = (await create(gateway, repair_body())).json()["reference"]
    body, check = reference[:-1], reference[-1]
    wrong_check = "2" if check != "2" else "3"
    misread = await gateway.client.get(f"{NORTHFIELD}/repairs/{body}{wrong_check}", headers=gateway.auth())
    assert misread.status_code == 400
    assert field_names(misread) == {"reference"}
    unknown = await gateway.client.get(f"{NORTHFIELD}/repairs/NF-7KQ3M9X", headers=gateway.auth())
    assert unknown.status_code == 404
    assert field_names(unknown) == {"reference"}


@on_both_databases
async def test_the_same_idempotency_key_and_body_make_one_repair(gateway: Gateway) -> None:
    window = await first_window(gateway)
    first = await create(gateway, repair_body(window["id"]), key="retry-1")
    second = await create(gateway, repair_body(window["id"]), key="retry-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["location"] == first.headers["location"]
    assert await gateway.count() == 1
    assert await gateway.count("calendar_bookings") == 1


@on_both_databases
async def test_the_same_idempotency_key_with_another_body_is_a_422_and_stores_nothing(
    gateway: Gateway,
) -> None:
    await create(gateway, repair_body(), key="retry-2")
    other = await create(gateway, repair_body(description="Something else entirely"), key="retry-2")
    assert other.status_code == 422
    assert field_names(other) == {"Idempotency-Key"}
    assert await gateway.count() == 1


@on_both_databases
async def test_concurrent_retries_with_one_key_make_one_repair(gateway: Gateway) -> None:
    window = await first_window(gateway)
    answers = await asyncio.gather(
        *(create(gateway, repair_body(window["id"]), key="storm") for _ in range(10))
    )
    assert {a.status_code for a in answers} <= {201, 409}
    references = {a.json()["reference"] for a in answers if a.status_code == 201}
    assert len(references) == 1
    assert await gateway.count() == 1


@on_both_databases
async def test_a_full_window_is_a_409_and_stores_nothing(make_gateway: Any) -> None:
    document = _single_place_calendar()
    gateway: Gateway = await make_gateway(document=document)
    window = await first_window(gateway)
    same_window_next_door = await first_window(gateway, OTHER_UPRN)
    assert (await create(gateway, repair_body(window["id"]))).status_code == 201
    taken = await create(gateway, repair_body(same_window_next_door["id"], uprn=OTHER_UPRN))
    assert taken.status_code == 409
    assert taken.json()["type"] == "/problems/window-unavailable"
    assert await gateway.count() == 1
    assert await _booked_window_count(gateway, window) == 0  # no longer offered


@on_both_databases
async def test_twenty_concurrent_bookings_of_a_last_place_make_exactly_one(make_gateway: Any) -> None:
    gateway: Gateway = await make_gateway(document=_single_place_calendar())
    # Homes only: a second report at a communal area joins the first (200), which is
    # right, but would make the count of refusals depend on who won the race.
    uprns = ["100012345001", "100012345002", "100012345003", "100012346014"]
    ids = []
    for uprn in uprns:  # a window id per property, all for the same window
        page = await windows(gateway, uprn)
        ids.append((uprn, page["days"][0]["windows"][0]["id"]))
    attempts = [create(gateway, repair_body(ids[i % 4][1], uprn=ids[i % 4][0])) for i in range(20)]
    answers = await asyncio.gather(*attempts)
    codes = sorted(a.status_code for a in answers)
    assert codes.count(201) == 1, codes
    assert codes.count(409) == 19, codes
    assert await gateway.count() == 1
    assert await gateway.count("calendar_bookings") == 1


def _single_place_calendar() -> dict[str, Any]:

    document = demo_document()
    calendar = document["councils"][0]["schedulers"][0]["settings"]
    calendar["windows"] = [{"start": "08:00", "end": "12:00", "capacity": {"*": 1}}]
    return document


async def test_cancel_frees_the_window_and_reports_cancelled(make_gateway: Any) -> None:
    gateway: Gateway = await make_gateway(document=_single_place_calendar())
    window = await first_window(gateway)
    reference = (await create(gateway, repair_body(window["id"]))).json()["reference"]
    assert await _booked_window_count(gateway, window) == 0
    cancelled = await gateway.client.post(f"{NORTHFIELD}/repairs/{reference}/cancel", headers=gateway.auth())
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["appointment"] is None
    assert await _booked_window_count(gateway, window) == 1
    again = await gateway.client.post(f"{NORTHFIELD}/repairs/{reference}/cancel", headers=gateway.auth())
    assert again.status_code == 200
    fetched = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    assert fetched.json()["status"] == "cancelled"
    moved = await gateway.client.post(
        f"{NORTHFIELD}/repairs/{reference}/reschedule",
        json={"windowId": window["id"]},
        headers=gateway.auth(),
    )
    assert moved.status_code == 409


async def test_reschedule_moves_the_appointment_and_frees_the_old_window(make_gateway: Any) -> None:
    gateway: Gateway = await make_gateway(document=_single_place_calendar())
    page = await windows(gateway)
    first, second = page["days"][0]["windows"][0], page["days"][1]["windows"][0]
    reference = (await create(gateway, repair_body(first["id"]))).json()["reference"]
    moved = await gateway.client.post(
        f"{NORTHFIELD}/repairs/{reference}/reschedule",
        json={"windowId": second["id"]},
        headers=gateway.auth(),
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["appointment"]["start"] == second["start"]
    assert await _booked_window_count(gateway, first) == 1
    assert await _booked_window_count(gateway, second) == 0


async def test_a_received_repair_can_be_booked_later_by_reschedule(gateway: Gateway) -> None:
    reference = (await create(gateway, repair_body())).json()["reference"]
    window = await first_window(gateway)
    booked = await gateway.client.post(
        f"{NORTHFIELD}/repairs/{reference}/reschedule",
        json={"windowId": window["id"]},
        headers=gateway.auth(),
    )
    assert booked.status_code == 200
    assert booked.json()["status"] == "booked"


async def test_a_forged_window_id_is_a_422_and_stores_nothing(gateway: Gateway) -> None:
    window = await first_window(gateway)
    payload, signature = window["id"].split(".")
    forged = payload[:-2] + ("A" if payload[-2] != "A" else "B") + payload[-1] + "." + signature
    for bad in (forged, window["id"][:-1], "hello", window["id"] + "x"):
        response = await create(gateway, repair_body(bad))
        assert response.status_code == 422, bad
        assert field_names(response) == {"windowId"}
    assert await gateway.count() == 0


async def test_a_window_id_for_another_property_or_repair_is_refused(gateway: Gateway) -> None:
    window = await first_window(gateway)
    other_property = await create(gateway, repair_body(window["id"], uprn=OTHER_UPRN))
    assert other_property.status_code == 422
    assert "another property" in other_property.json()["detail"]
    other_repair = await create(
        gateway, repair_body(window["id"], repair={"triagePath": "kitchen/sink/dripping"})
    )
    assert other_repair.status_code == 422
    assert await gateway.count() == 0


async def test_a_window_id_of_one_council_is_refused_by_another(gateway: Gateway) -> None:
    window = await first_window(gateway)
    body = repair_body(window["id"], uprn="200034560001", repair={"triagePath": "heating/radiator"})
    response = await create(gateway, body, council="/v1/councils/southmoor")
    assert response.status_code == 422
    assert field_names(response) == {"windowId"}


async def test_an_expired_window_id_is_refused(make_gateway: Any) -> None:
    gateway: Gateway = await make_gateway(window_ttl_seconds=60)
    window = await first_window(gateway)
    import time

    real_time = time.time
    try:
        time.time = lambda: real_time() + 120  # type: ignore[assignment]
        response = await create(gateway, repair_body(window["id"]))
    finally:
        time.time = real_time  # type: ignore[assignment]
    assert response.status_code == 422
    assert "expired" in response.json()["detail"]


BAD_BODIES: list[tuple[str, Any, str]] = [
    ("missing uprn", {k: v for k, v in repair_body().items() if k != "uprn"}, "uprn"),
    ("numeric uprn", repair_body(uprn=100012345001), "uprn"),
    ("over-long uprn", repair_body(uprn="1000123450011"), "uprn"),
    ("unknown uprn", repair_body(uprn="123"), "uprn"),
    ("empty description", repair_body(description="   "), "description"),
    ("huge description", repair_body(description="x" * 2001), "description"),
    ("no contact route", repair_body(contact={"name": "Sam", "preferredChannel": "sms"}), "contact"),
    (
        "sms without phone",
        repair_body(contact={"name": "Sam", "email": "s@example.org", "preferredChannel": "sms"}),
        "contact.phone",
    ),
    (
        "bad phone",
        repair_body(contact={"name": "Sam", "phone": "call me", "preferredChannel": "phone"}),
        "contact.phone",
    ),
    (
        "bad channel",
        repair_body(contact={"name": "Sam", "phone": "07700900123", "preferredChannel": "pigeon"}),
        "contact.preferredChannel",
    ),
    ("unknown field", {**repair_body(), "priority": 1}, "priority"),
    ("two repair forms", repair_body(repair={"triagePath": SINK, "sorCode": "20060020"}), "repair"),
    ("unknown triage path", repair_body(repair={"triagePath": "attic/ghosts"}), "repair.triagePath"),
    ("unknown SoR code", repair_body(repair={"sorCode": "00000000"}), "repair.sorCode"),
    ("emergency exit", repair_body(repair={"triagePath": "kitchen/gas"}), "repair.triagePath"),
    ("not an object", ["uprn", UPRN], "body"),
]


@pytest.mark.parametrize(("case", "body", "field"), BAD_BODIES, ids=[c[0] for c in BAD_BODIES])
async def test_a_bad_body_is_a_4xx_naming_the_field_and_stores_nothing(
    gateway: Gateway, case: str, body: Any, field: str
) -> None:
    response = await create(gateway, body)
    assert 400 <= response.status_code < 500, response.text
    assert field in field_names(response), response.json()
    assert await gateway.count() == 0


async def test_wrong_content_type_oversized_and_invalid_json_are_refused(gateway: Gateway) -> None:
    url = f"{NORTHFIELD}/repairs"
    text_body = await gateway.client.post(
        url, content=json.dumps(repair_body()), headers={**gateway.auth(), "Content-Type": "text/plain"}
    )
    assert text_body.status_code == 415
    huge = await gateway.client.post(
        url,
        content=b"{" + b" " * 20000 + b"}",
        headers={**gateway.auth(), "Content-Type": "application/json"},
    )
    assert huge.status_code == 413
    broken = await gateway.client.post(
        url, content=b'{"uprn": ', headers={**gateway.auth(), "Content-Type": "application/json"}
    )
    assert broken.status_code == 400
    assert field_names(broken) == {"body"}
    empty = await gateway.client.post(url, headers=gateway.auth())
    assert empty.status_code == 400
    assert await gateway.count() == 0


async def test_a_non_ascii_description_round_trips(gateway: Gateway) -> None:
    text = "Tap dripping in the kitchen, très urgent 🚰, ਪਾਣੀ"
    response = await create(gateway, repair_body(description=text))
    assert response.status_code == 201
    assert response.json()["description"] == text


async def test_a_reference_drawn_twice_is_drawn_again(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    from repairs_gateway.persistence import repair_store as repairs

    draws = iter(["NF-7KQ3M9X", "NF-7KQ3M9X"])
    real = repairs.new_reference
    monkeypatch.setattr(repairs, "new_reference", lambda prefix: next(draws, None) or real(prefix))
    first = await create(gateway, repair_body())
    second = await create(gateway, repair_body())
    assert first.status_code == second.status_code == 201
    assert first.json()["reference"] == "NF-7KQ3M9X"
    assert second.json()["reference"] != "NF-7KQ3M9X"
    assert await gateway.count() == 2
