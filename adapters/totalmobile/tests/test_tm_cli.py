"""`repairs-gateway simulate totalmobile` serves the simulator and says how to reach it, with
the token lifetime `--set token_lifetime_seconds=N` gives."""

from __future__ import annotations

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


def _simulate(monkeypatch: pytest.MonkeyPatch, *options: str) -> tuple[Any, Any]:
    """Run `simulate totalmobile` with ``options``; answers the command's result and the app
    it would have served (None if it refused), uvicorn left unstarted."""
    import uvicorn

    apps: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_options: apps.append(app))
    result = CliRunner().invoke(main, ["simulate", "totalmobile", *options])
    return result, (apps[0] if apps else None)


async def test_the_token_lifetime_set_is_what_tokens_say(monkeypatch: pytest.MonkeyPatch) -> None:
    result, app = _simulate(monkeypatch, "--set", "token_lifetime_seconds=7")
    assert result.exit_code == 0, result.output
    assert "token lifetime: 7 s" in result.output
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://tm.test"
    ) as http:
        token = await http.post(
            "/SIM/identity/connect/token",
            data={
                "grant_type": "client_credentials",
                "client_id": "repairs-gateway",
                "client_secret": "tm-sim-secret",
                "scope": "optimiseApi",
            },
        )
    assert token.status_code == 200, token.text
    assert token.json()["expires_in"] == 7


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ("token_lifetime=7", "token_lifetime: no such setting"),
        ("token_lifetime_seconds=1h", "token_lifetime_seconds: '1h' is not a whole number"),
        ("token_lifetime_seconds=-5", "token_lifetime_seconds: '-5' is less than 1"),
    ],
)
def test_an_unknown_key_or_a_bad_lifetime_is_refused_naming_the_key(
    monkeypatch: pytest.MonkeyPatch, setting: str, problem: str
) -> None:
    result, app = _simulate(monkeypatch, "--set", setting)
    assert result.exit_code == 2
    assert app is None
    expected = f"the totalmobile simulator: {problem} (it accepts: token_lifetime_seconds)"
    assert f"Invalid value for '--set': {expected}" in result.output
