"""Steps of the resident's journey, shared by the API tests."""

from __future__ import annotations

from typing import Any

from gateway_support import Gateway

NORTHFIELD = "/v1/councils/northfield"
UPRN = "100012345001"
OTHER_UPRN = "100012345002"
SINK = "kitchen/sink/blocked"


def repair_body(window_id: str | None = None, uprn: str = UPRN, **changes: Any) -> dict[str, Any]:
    """A valid createRepair body."""
    body: dict[str, Any] = {
        "uprn": uprn,
        "repair": {"triagePath": SINK},
        "description": "The kitchen sink is blocked and will not drain.",
        "contact": {"name": "Sam Resident", "phone": "07700 900123", "preferredChannel": "sms"},
    }
    if window_id is not None:
        body["windowId"] = window_id
    body.update(changes)
    return body


async def windows(gw: Gateway, uprn: str = UPRN, council: str = NORTHFIELD, **query: str) -> dict[str, Any]:
    """A page of appointments (triage path SINK unless the query names the repair)."""
    params = {"uprn": uprn, **(query or {"triagePath": SINK})}
    response = await gw.client.get(f"{council}/appointments", params=params, headers=gw.auth())
    assert response.status_code == 200, response.text
    page: dict[str, Any] = response.json()
    return page


async def first_window(gw: Gateway, uprn: str = UPRN, **query: str) -> dict[str, Any]:
    """The earliest window offered."""
    page = await windows(gw, uprn, **query)
    window: dict[str, Any] = page["days"][0]["windows"][0]
    return window


async def create(gw: Gateway, body: dict[str, Any], key: str | None = None, council: str = NORTHFIELD) -> Any:
    """POST a repair."""
    headers = gw.auth()
    if key:
        headers["Idempotency-Key"] = key
    return await gw.client.post(f"{council}/repairs", json=body, headers=headers)


def field_names(response: Any) -> set[str]:
    """The fields a problem document names."""
    assert response.headers["content-type"].startswith("application/problem+json"), response.text
    return {error["field"] for error in response.json().get("errors", [])}
