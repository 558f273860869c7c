"""`repairs-gateway simulate northgate-housing` serves the simulator and says how to use it,
at the rate limit `--set requests_per_second=N` gives."""

from __future__ import annotations

import asyncio
import re
import socket
import subprocess
import sys
import time
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from repairs_gateway.cli import main

from repairs_gateway_northgate_housing.simulator import SimulatorConfig

SIM = SimulatorConfig()


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


def _simulate(monkeypatch: pytest.MonkeyPatch, *options: str) -> tuple[Any, Any]:
    """Run `simulate northgate-housing` with ``options``; answers the command's result and
    the app it would have served (None if it refused), uvicorn left unstarted."""
    import uvicorn

    apps: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_options: apps.append(app))
    result = CliRunner().invoke(main, ["simulate", "northgate-housing", *options])
    return result, (apps[0] if apps else None)


async def _burst(app: Any, calls: int) -> list[int]:
    """The statuses of ``calls`` property searches fired at once with one token."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://ng.test") as http:
        token = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": SIM.client_id, "client_secret": SIM.client_secret},
        )
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        answers = await asyncio.gather(
            *(http.get("/properties", params={"postcode": "NH1 1AA"}, headers=headers) for _ in range(calls))
        )
    return [answer.status_code for answer in answers]


async def test_a_raised_rate_answers_a_burst_the_default_refuses(monkeypatch: pytest.MonkeyPatch) -> None:
    result, app = _simulate(monkeypatch, "--set", "requests_per_second=1000")
    assert result.exit_code == 0, result.output
    assert "capacity:      1000 calls a second, then 429" in result.output
    statuses = await _burst(app, 150)
    assert statuses == [200] * 150

    # Without it, the same burst passes the default 50 a second and is refused.
    result, app = _simulate(monkeypatch)
    assert result.exit_code == 0, result.output
    assert 429 in await _burst(app, 150)


async def test_a_lowered_rate_answers_429_sooner(monkeypatch: pytest.MonkeyPatch) -> None:
    result, app = _simulate(monkeypatch, "--set", "requests_per_second=5")
    assert result.exit_code == 0, result.output
    statuses = await _burst(app, 20)
    # The token call was the first of the five; a second window may open on a slow machine.
    assert statuses.count(429) >= 10, statuses
    assert set(statuses) == {200, 429}


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("request_per_second=100", "request_per_second: no such setting"),
        ("requests_per_second=lots", "requests_per_second: 'lots' is not a whole number"),
        ("requests_per_second=0", "requests_per_second: '0' is less than 1"),
    ],
)
def test_an_unknown_key_or_a_bad_rate_is_refused_naming_the_key(
    monkeypatch: pytest.MonkeyPatch, setting: str, problem: str
) -> None:
    result, app = _simulate(monkeypatch, "--set", setting)
    assert result.exit_code == 2
    assert app is None
    assert (
        f"Invalid value for '--set': the northgate-housing simulator: {problem} (it accepts: requests_per_second)"
    ) in result.output
