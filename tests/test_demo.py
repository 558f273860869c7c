"""`repairs-gateway demo` answers the three calls with the key it prints (a real process on
127.0.0.1, as a new user would run it)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

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
            if "govuk-notify" in discover_plugins():
                _confirmation_reaches_notify(demo.output, booked.json()["reference"])
            else:
                assert "Messages: in this log" in demo.output
            plugins = discover_plugins()
            if "kirona-drs" in plugins:
                _book_and_cancel(client, f"{demo.url}/v1/councils/eastbrook", "300056780010")
            if {"kirona-drs", "civica-uh"} <= set(plugins):
                assert "Larchford (postcode UH1 1AB)" in demo.output
                _book_and_cancel(client, f"{demo.url}/v1/councils/larchford", "400078000203", "UH1 1AB")
            if {"northgate-housing", "totalmobile"} <= set(plugins):
                assert "Netherholme (postcode NH1 1AA)" in demo.output
                _book_and_cancel(client, f"{demo.url}/v1/councils/netherholme", "700050000003", "NH1 1AA")


CONFIRMATION = "booking confirmed (email)"


def _confirmation_reaches_notify(output: str, reference: str) -> None:
    """The demo printed where its messages can be read (the Notify simulator it started);
    the booking's confirmation is there once the demo's worker has sent it, and Notify's
    delivery receipt reached the demo's callback."""
    match = re.search(r"^Messages: (http://127\.0\.0\.1:\d+/_simulator/messages)$", output, re.MULTILINE)
    assert match, f"the demo printed no messages URL:\n{output}"
    url = match.group(1)
    deadline = time.monotonic() + 15
    confirmation: dict[str, Any] | None = None
    while confirmation is None or confirmation["status"] != "delivered":
        assert time.monotonic() < deadline, (
            f"no delivered confirmation of {reference} at {url}: {confirmation}"
        )
        time.sleep(0.2)
        listed = httpx.get(url, timeout=5).json()["messages"]
        confirmation = next(
            (
                m
                for m in listed
                if m["templateName"] == "booking confirmed (email)" and reference in m["body"]
            ),
            None,
        )
    assert confirmation["to"] == "sam@example.org"
    assert confirmation["subject"].startswith(f"Repair {reference} booked for ")
    assert "((" not in confirmation["body"]
    callbacks = url.replace("/messages", "/callbacks")
    for _ in range(50):
        attempts = httpx.get(callbacks, timeout=5).json()["attempts"]
        if any(a["body"]["id"] == confirmation["id"] for a in attempts):
            break
        time.sleep(0.1)
    receipt = next(a for a in attempts if a["body"]["id"] == confirmation["id"])
    assert receipt["url"].endswith("/v1/callbacks/northfield/notifications")
    assert receipt["statusCode"] == 200, receipt


def _book_and_cancel(client: httpx.Client, base: str, uprn: str, postcode: str | None = None) -> None:
    """A council on simulated supplier systems the demo started: look up, book, read back,
    cancel, as a front-end would."""
    if postcode is not None:
        listed = client.get(f"{base}/addresses", params={"postcode": postcode})
        assert uprn in [a["uprn"] for a in listed.json()["addresses"]], listed.text
    page = client.get(f"{base}/appointments", params={"uprn": uprn, "triagePath": "kitchen/sink"})
    assert page.status_code == 200, page.text
    window = page.json()["days"][0]["windows"][0]
    booked = client.post(
        f"{base}/repairs",
        json={
            "uprn": uprn,
            "repair": {"triagePath": "kitchen/sink"},
            "description": "Blocked sink",
            "contact": {"name": "Sam", "phone": "07700 900123", "preferredChannel": "phone"},
            "windowId": window["id"],
        },
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["status"] == "booked"
    reference = booked.json()["reference"]
    assert client.get(f"{base}/repairs/{reference}").json()["appointment"]["start"] == window["start"]
    assert client.post(f"{base}/repairs/{reference}/cancel").json()["status"] == "cancelled"
