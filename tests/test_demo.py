"""`repairs-gateway demo` answers the three calls with the key it prints (a real process on
127.0.0.1, as a new user would run it)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from repairs_gateway.registry import discover_plugins


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_the_demo_answers_addresses_appointments_and_booking(tmp_path: Path) -> None:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "repairs_gateway.cli",
        "demo",
        "--port",
        str(port),
        "--data-dir",
        str(tmp_path),
    ]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        key = None
        deadline = time.monotonic() + 60
        assert process.stdout is not None
        while key is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, "the demo exited before printing its key"
            if match := re.match(r"API key: (\S+)", line):
                key = match.group(1)
        assert key
        base = f"http://127.0.0.1:{port}/v1/councils/northfield"
        headers = {"Authorization": f"Bearer {key}"}
        with httpx.Client(headers=headers, timeout=10) as client:
            for _ in range(100):
                try:
                    addresses = client.get(f"{base}/addresses", params={"postcode": "nf11aa"})
                    break
                except httpx.ConnectError:
                    time.sleep(0.1)
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
                _book_through_drs(client, f"http://127.0.0.1:{port}/v1/councils/eastbrook")
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


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
