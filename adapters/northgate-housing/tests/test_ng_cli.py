"""`repairs-gateway simulate northgate-housing` serves the simulator and says how to use it."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_simulate_prints_the_url_credentials_and_postcodes_that_work() -> None:
    port = _free_port()
    command = [sys.executable, "-m", "repairs_gateway.cli", "simulate", "northgate-housing", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        printed: dict[str, str] = {}
        for line in process.stdout:
            if match := re.match(r"\s*(base URL|client id|client secret|scope|postcodes):\s+(.+)$", line):
                printed[match.group(1)] = match.group(2).strip()
            if len(printed) == 5:
                break
        base = printed["base URL"]
        assert base == f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                token = httpx.post(
                    f"{base}/oauth/token",
                    data={
                        "grant_type": "client_credentials",
                        "client_id": printed["client id"],
                        "client_secret": printed["client secret"],
                        "scope": printed["scope"],
                    },
                    timeout=5,
                )
                break
            except httpx.ConnectError:
                time.sleep(0.05)
        assert token.status_code == 200, token.text
        found = httpx.get(
            f"{base}/properties",
            params={"postcode": "NH1 1AA"},
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=5,
        )
        assert found.status_code == 200
        assert printed["postcodes"].startswith("NH1 1AA, NH1 1AB, NH2 4WR")
        assert {p["Address"]["Reference"]["ID"] for p in found.json()["Properties"]} >= {"700050000001"}
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
