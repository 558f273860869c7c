"""`repairs-gateway simulate totalmobile` serves the simulator and says how to reach it."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time

import httpx

FIELDS = ("base URL", "instance", "world id", "client id", "client secret", "scope")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_simulate_prints_the_url_world_and_credentials_that_work() -> None:
    port = _free_port()
    command = [sys.executable, "-m", "repairs_gateway.cli", "simulate", "totalmobile"]
    command += ["--port", str(port), "--latency-ms", "5"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert process.stdout is not None
        printed: dict[str, str] = {}
        for line in process.stdout:
            if match := re.match(r"\s*([a-zA-Z ]+?):\s+(\S+)$", line):
                printed[match.group(1)] = match.group(2)
            if all(name in printed for name in FIELDS):
                break
        base = printed["base URL"]
        assert base == f"http://127.0.0.1:{port}"
        root = f"{base}/{printed['instance']}"
        for _ in range(100):
            try:
                token = httpx.post(
                    f"{root}/identity/connect/token",
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
        jobs = httpx.get(
            f"{root}/api/optimise/worlds/{printed['world id']}/jobs",
            params={"pageSize": 5},
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=5,
        )
        assert jobs.status_code == 200 and jobs.json()["items"] == []
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
