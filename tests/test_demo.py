"""`repairs-gateway demo` answers the three calls with the key it prints (a real process on
127.0.0.1, as a new user would run it)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from repairs_gateway.demo.run import SIMULATOR_OFFSETS
from repairs_gateway.registry import discover_plugins

from demo_process import demo_command, free_port, running_demo


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
            # Served behind the same edges as `serve`: an oversized header is a problem document.
            oversized = client.get(f"{base}/triage", headers={"X-Padding": "a" * 20_000})
            assert oversized.status_code == 431, oversized.text
            assert oversized.headers["content-type"] == "application/problem+json"
            if "govuk-notify" in discover_plugins():
                _confirmation_reaches_notify(demo.output, booked.json()["reference"])
            else:
                assert "Messages: in this log" in demo.output
            # Booking, reading, moving and cancelling on every council, the ones on simulated
            # supplier systems included, is tests/test_readme_examples.py's, as the README does it.
            plugins = discover_plugins()
            if {"kirona-drs", "civica-uh"} <= set(plugins):
                assert "Larchford (postcode UH1 1AB)" in demo.output
            if {"northgate-housing", "totalmobile"} <= set(plugins):
                assert "Netherholme (postcode NH1 1AA)" in demo.output
    # A folder given with --data-dir is the user's: it stays when the demo stops.
    assert (tmp_path / "demo.db").is_file()


@pytest.mark.xdist_group("processes")
def test_netherholme_answers_a_burst_of_look_ups_without_503(tmp_path: Path) -> None:
    """A live contract run sends hundreds of requests a second; the demo's Northgate
    simulator takes them (at its default 50 a second, the gateway answered many 503)."""
    if not {"northgate-housing", "totalmobile"} <= set(discover_plugins()):
        pytest.skip("the northgate-housing and totalmobile adaptors are not installed")

    async def burst(url: str, key: str) -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=f"{url}/v1/councils/netherholme", headers={"Authorization": f"Bearer {key}"}, timeout=30
        ) as client:
            return await asyncio.gather(
                *(client.get("/addresses", params={"postcode": "NH1 1AA"}) for _ in range(150))
            )

    with running_demo(tmp_path) as demo:
        answers = asyncio.run(burst(demo.url, demo.key))
    statuses = [answer.status_code for answer in answers]
    assert statuses == [200] * 150, {status: statuses.count(status) for status in set(statuses)}


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


def _free_run(count: int) -> int:
    """The first of ``count`` consecutive ports of 127.0.0.1 that nothing listens on now."""
    for _ in range(100):
        first = free_port()
        if first + count <= 65535 and all(_is_free(first + i) for i in range(count)):
            return first
    raise AssertionError(f"no {count} consecutive free ports found")


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@pytest.mark.xdist_group("processes")
def test_the_demo_uses_the_pinned_ports_and_deletes_its_temporary_folder_when_stopped(tmp_path: Path) -> None:
    base = _free_run(len(SIMULATOR_OFFSETS))
    # Stopped as closing its terminal stops it (a kill is tests/test_readme_examples.py's).
    with running_demo(
        None, "--base-port", str(base), env={"TMPDIR": str(tmp_path)}, stop_signal=signal.SIGHUP
    ) as demo:
        [folder] = tmp_path.iterdir()
        assert f"Data in {folder} " in demo.output
        assert (folder / "demo.db").is_file()
        # Every simulator the demo started listens on the port --base-port gave it.
        started = [
            name
            for name in SIMULATOR_OFFSETS
            if (plugin := discover_plugins().get(name)) and plugin.simulator
        ]
        assert started, "no simulator adaptor is installed"
        for name in started:
            port = base + SIMULATOR_OFFSETS[name]
            assert f"http://127.0.0.1:{port}" in demo.output, (name, demo.output)
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("taken", ["gateway", "civica-uh"])
def test_a_port_the_demo_cannot_have_is_a_clear_error(tmp_path: Path, taken: str) -> None:
    base = _free_run(len(SIMULATOR_OFFSETS) + 1)
    gateway = base + len(SIMULATOR_OFFSETS)
    port = gateway if taken == "gateway" else base + SIMULATOR_OFFSETS[taken]
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", port))
        holder.listen()
        finished = subprocess.run(
            demo_command(gateway, "--base-port", str(base)),
            capture_output=True,
            text=True,
            timeout=60,
            env={**os.environ, "TMPDIR": str(tmp_path)},
        )
    assert finished.returncode != 0
    option = "--port" if taken == "gateway" else "--base-port"
    assert f"port {port} (the {taken}" in finished.stderr, finished.stderr
    assert f"Choose another {option}" in finished.stderr
    assert "Traceback" not in finished.stderr
    assert list(tmp_path.iterdir()) == []
