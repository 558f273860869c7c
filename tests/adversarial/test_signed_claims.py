"""Every claim of a signed window id and of a page cursor is checked before anything is
stored: an id signed with the gateway's own secret but carrying a wrong type or value is
refused (422 naming ``windowId``; 400 naming ``cursor``) and no repair is left behind.

Before these checks, a genuinely signed window id whose ``start`` was ``"not-a-date"``
answered 500 after the repair had been inserted."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from repairs_gateway.domain.tokens import TokenSigner

from gateway_support import Gateway, on_both_databases
from journey import NORTHFIELD, create, field_names, first_window, repair_body, windows

# Each claim with values of the wrong type and the wrong value.
WRONG: dict[str, list[Any]] = {
    "council": [None, 7, ["northfield"], {"id": "northfield"}, "", "southmoor", "north\x00field", "n" * 500],
    "uprn": [None, 100012345001, [], "", "10001234500a", "1000123450011", " 100012345001", "100012345002"],
    "job": [None, 12, "", "zzzzzzzzzzzzzzzz", "ABCDEF0123456789", "0" * 17, "0" * 16],
    "scheduler": [None, 1, ["x"], "", "nobody", "s\n"],
    "start": [
        None,
        1767225600,
        "not-a-date",
        "",
        "2027-01-04T08:00:00",  # no time zone
        "2027-13-04T08:00:00+00:00",
        ["2027-01-04T08:00:00+00:00"],
    ],
    "end": [None, 1767225600, "not-a-date", "2027-01-04T12:00:00", "1999-01-01T00:00:00+00:00"],
    "label": [None, 3, "", "x" * 41, "Morning\x07", "Midnight feast"],
    "ref": [None, 5, ["r"], {"r": 1}, "r" * 201, "ref\x00"],
    "expires": [None, "9999999999", 9.5e9, True, -1, 2**64, 0],
}


def _claims(signer: TokenSigner, window_id: str) -> dict[str, Any]:
    claims: dict[str, Any] = signer.open(window_id)["w"]
    return claims


def _signed(signer: TokenSigner, claims: Any) -> str:
    return signer.sign({"w": claims})


@on_both_databases
async def test_every_claim_of_a_window_id_with_a_wrong_type_or_value_is_a_422_storing_nothing(
    gateway: Gateway,
) -> None:
    signer = TokenSigner(gateway.settings.token_secret.get_secret_value())
    genuine = await first_window(gateway)
    claims = _claims(signer, genuine["id"])
    tried = 0
    for name, values in WRONG.items():
        for value in values:
            forged = _signed(signer, {**claims, name: value})
            response = await create(gateway, repair_body(forged))
            assert response.status_code == 422, (name, value, response.text)
            assert field_names(response) == {"windowId"}, (name, value)
            tried += 1
    # A missing claim, an extra one, and claims that are not an object at all.
    for shape in (
        {k: v for k, v in claims.items() if k != "ref"},
        {**claims, "admin": True},
        [claims],
        "claims",
        None,
    ):
        response = await create(gateway, repair_body(_signed(signer, shape)))
        assert response.status_code == 422, (shape, response.text)
        assert field_names(response) == {"windowId"}
        tried += 1
    # An end before the start, and a "window" a week long.
    start = claims["start"]
    for end in (start, claims["start"].replace(claims["start"][:10], "2001-01-01")):
        response = await create(gateway, repair_body(_signed(signer, {**claims, "end": end})))
        assert response.status_code == 422, (end, response.text)
    assert tried > 50
    assert await gateway.count("repairs") == 0
    assert await gateway.count("jobs") == 0

    # The genuine id still books: the checks refuse only what the gateway did not offer.
    booked = await create(gateway, repair_body(genuine["id"]))
    assert booked.status_code == 201, booked.text
    assert await gateway.count("repairs") == 1


@on_both_databases
async def test_a_wrongly_typed_claim_is_refused_by_reschedule_too_leaving_the_repair_alone(
    gateway: Gateway,
) -> None:
    signer = TokenSigner(gateway.settings.token_secret.get_secret_value())
    genuine = await first_window(gateway)
    made = (await create(gateway, repair_body())).json()
    claims = _claims(signer, genuine["id"])
    for name, value in (("start", "not-a-date"), ("ref", 5), ("expires", "soon"), ("label", "Teatime")):
        response = await gateway.client.post(
            f"{NORTHFIELD}/repairs/{made['reference']}/reschedule",
            json={"windowId": _signed(signer, {**claims, name: value})},
            headers=gateway.auth(),
        )
        assert response.status_code == 422, (name, response.text)
        assert field_names(response) == {"windowId"}
    after = await gateway.client.get(f"{NORTHFIELD}/repairs/{made['reference']}", headers=gateway.auth())
    assert after.json()["status"] == "received"
    assert after.json()["appointment"] is None


MISSING = "<missing>"


def _payload(cursor: str) -> dict[str, Any]:
    payload = cursor.split(".")[0]
    opened: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return opened


@pytest.mark.parametrize(
    "wrong",
    [
        {"from": 20270104},
        {"from": None},
        {"from": ["2027-01-04"]},
        {"from": "20270104"},
        {"from": "not-a-date"},
        {"search": 5},
        {"search": None},
        {"search": MISSING},
        {"from": MISSING},
        {"search": "0" * 24},
    ],
)
async def test_a_signed_appointments_cursor_with_a_wrong_claim_is_a_400(
    gateway: Gateway, wrong: dict[str, Any]
) -> None:
    signer = TokenSigner(gateway.settings.token_secret.get_secret_value())
    page = await windows(gateway)
    claims = _payload(page["nextCursor"])
    # MISSING stands for leaving the claim out altogether.
    forged = signer.sign({k: v for k, v in {**claims, **wrong}.items() if v != MISSING})
    response = await gateway.client.get(
        f"{NORTHFIELD}/appointments",
        params={"uprn": "100012345001", "triagePath": "kitchen/sink/blocked", "cursor": forged},
        headers=gateway.auth(),
    )
    assert response.status_code == 400, response.text
    assert field_names(response) == {"cursor"}


@on_both_databases
@pytest.mark.parametrize(
    "wrong",
    [
        {"a": "1"},
        {"a": 1.5},
        {"a": True},
        {"a": None},
        {"a": 2**64},
        {"a": -1},
        {"b": "yesterday"},
        {"b": 10**30},
        {"b": 2**62},
        {"b": 1.5},
        {"q": 5},
    ],
)
async def test_a_signed_listing_cursor_with_a_wrong_claim_is_a_400(
    gateway: Gateway, wrong: dict[str, Any]
) -> None:
    signer = TokenSigner(gateway.settings.token_secret.get_secret_value())
    staff = await gateway.new_staff_key()
    for _ in range(3):
        assert (await create(gateway, repair_body())).status_code == 201
    first = await gateway.client.get(
        f"{NORTHFIELD}/repairs", params={"status": "received", "limit": 1}, headers=gateway.auth(staff)
    )
    assert first.status_code == 200, first.text
    claims = _payload(first.json()["nextCursor"])["r"]
    forged = signer.sign({"r": {**claims, **wrong}})
    response = await gateway.client.get(
        f"{NORTHFIELD}/repairs",
        params={"status": "received", "limit": 1, "cursor": forged},
        headers=gateway.auth(staff),
    )
    assert response.status_code == 400, response.text
    assert field_names(response) == {"cursor"}
