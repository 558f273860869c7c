"""Behaviour the contract suite found at odds with the spec, pinned here once fixed."""

from __future__ import annotations

from gateway_support import Gateway
from journey import (
    NORTHFIELD,
    OTHER_UPRN,
    SINK,
    UPRN,
    create,
    field_names,
    repair_body,
    windows,
)


async def test_instance_is_a_percent_encoded_uri_reference(gateway: Gateway) -> None:
    response = await gateway.client.get("/v1/councils/%C3%A9t%C3%A9/triage", headers=gateway.auth())
    assert response.status_code == 400
    assert response.json()["instance"] == "/v1/councils/%C3%A9t%C3%A9/triage"
    literal_percent = await gateway.client.get("/v1/councils/a%25m5/triage", headers=gateway.auth())
    assert literal_percent.json()["instance"] == "/v1/councils/a%25m5/triage"


async def test_a_body_that_is_not_utf8_is_an_invalid_request_naming_body(gateway: Gateway) -> None:
    response = await gateway.client.post(
        f"{NORTHFIELD}/repairs",
        content=b'{"uprn": "\xff"}',
        headers={**gateway.auth(), "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "/problems/invalid-request"
    assert field_names(response) == {"body"}


async def test_limit_problems_use_the_specs_relative_types(gateway: Gateway) -> None:
    too_big = await gateway.client.post(
        f"{NORTHFIELD}/repairs",
        content=b"[" + b"1," * 20000 + b"1]",
        headers={**gateway.auth(), "Content-Type": "application/json"},
    )
    assert too_big.json()["type"] == "/problems/payload-too-large"
    not_json = await gateway.client.post(
        f"{NORTHFIELD}/repairs", content=b"uprn=1", headers={**gateway.auth(), "Content-Type": "text/plain"}
    )
    assert not_json.json()["type"] == "/problems/unsupported-media-type"


async def test_a_non_ascii_window_id_is_a_422_not_a_500(gateway: Gateway) -> None:
    for window_id in ("a.\u00e9", "\u00e9.a", "\u00e9"):
        response = await create(gateway, repair_body(window_id))
        assert response.status_code == 422, window_id
        assert field_names(response) == {"windowId"}
    assert await gateway.count() == 0


async def test_a_cursor_works_only_for_the_search_that_issued_it(gateway: Gateway) -> None:
    cursor = (await windows(gateway))["nextCursor"]
    for query in (
        {"uprn": OTHER_UPRN, "triagePath": SINK},
        {"uprn": UPRN, "triagePath": "kitchen/sink/dripping"},
    ):
        response = await gateway.client.get(
            f"{NORTHFIELD}/appointments", params={**query, "cursor": cursor}, headers=gateway.auth()
        )
        assert response.status_code == 400, query
        assert field_names(response) == {"cursor"}


async def test_an_integral_duration_written_with_a_decimal_point_is_an_integer(gateway: Gateway) -> None:
    body = repair_body(repair={"trade": "plumbing", "durationMinutes": 60.0})
    assert (await create(gateway, body)).status_code == 201
    for bad in (60.5, "60", True):
        response = await create(gateway, repair_body(repair={"trade": "plumbing", "durationMinutes": bad}))
        assert response.status_code == 400, bad
        assert "repair.durationMinutes" in field_names(response)


async def test_blank_names_and_descriptions_are_refused_and_spaces_trimmed(gateway: Gateway) -> None:
    blank = await create(gateway, repair_body(description="   "))
    assert field_names(blank) == {"description"}
    padded = await create(gateway, repair_body(description="  Dripping tap  "))
    assert padded.json()["description"] == "Dripping tap"
    empty_window = await create(gateway, repair_body(""))
    assert field_names(empty_window) == {"windowId"}
