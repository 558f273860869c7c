"""`repairs-gateway demo` answers the three calls with the key it prints (a real process on
127.0.0.1, as a new user would run it)."""

from __future__ import annotations

from pathlib import Path

import httpx

from repairs_gateway.registry import discover_plugins

from demo_process import running_demo


def test_the_demo_answers_addresses_appointments_and_booking(tmp_path: Path) -> None:
    with running_demo(tmp_path) as demo:
        base = f"{demo.url}/v1/councils/northfield"
        with httpx.Client(headers={"Authorization": f"Bearer {demo.key}"}, timeout=10) as client:
            addresses = client.get(f"{base}/addresses", params={"postcode": "nf11aa"})
            assert addresses.status_code == 200
            uprn = addresses.json()["addresses"][0]["uprn"]
            page = client.get(
                f"{base}/appointments", params={"uprn": uprn, "triagePath": "kitchen/sink/blocked"}
            )
            window = page.json()["days"][0]["windows"][0]
            booked = client.post(
                f"{base}/repairs",
                json={
                    "uprn": uprn,
                    "repair": {"triagePath": "kitchen/sink/blocked"},
                    "description": "Blocked sink",
                    "contact": {"name": "Sam", "email": "sam@example.org", "preferredChannel": "email"},
                    "windowId": window["id"],
                },
            )
            assert booked.status_code == 201
            assert booked.json()["status"] == "booked"
            if "kirona-drs" in discover_plugins():
                _book_through_drs(client, f"{demo.url}/v1/councils/eastbrook")


def _book_through_drs(client: httpx.Client, base: str) -> None:
    """Eastbrook's diary is the DRS simulator the demo started: book, read back, cancel."""
    page = client.get(f"{base}/appointments", params={"uprn": "300056780010", "triagePath": "kitchen/sink"})
    assert page.status_code == 200, page.text
    window = page.json()["days"][0]["windows"][0]
    booked = client.post(
        f"{base}/repairs",
        json={
            "uprn": "300056780010",
            "repair": {"triagePath": "kitchen/sink"},
            "description": "Blocked sink",
            "contact": {"name": "Sam", "phone": "07700 900123", "preferredChannel": "phone"},
            "windowId": window["id"],
        },
    )
    assert booked.status_code == 201
    assert booked.json()["status"] == "booked"
    reference = booked.json()["reference"]
    assert client.get(f"{base}/repairs/{reference}").json()["appointment"]["start"] == window["start"]
    assert client.post(f"{base}/repairs/{reference}/cancel").json()["status"] == "cancelled"
