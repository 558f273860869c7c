"""`serve --workers N`: N gateway processes built from the environment, and with
--with-worker one queue worker beside them, not one per process."""

from __future__ import annotations

import secrets
import subprocess
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner
from fastapi import FastAPI

from repairs_gateway.api.app import app_from_environment
from repairs_gateway.cli import main
from repairs_gateway.demo.data import demo_config_path


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPAIRS_GATEWAY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}")
    monkeypatch.setenv("REPAIRS_GATEWAY_CONFIG_FILE", str(demo_config_path()))
    monkeypatch.setenv("REPAIRS_GATEWAY_TOKEN_SECRET", secrets.token_urlsafe(40))


class Started:
    """Stands in for uvicorn and the worker process, recording how they were started."""

    def __init__(self) -> None:
        self.served: list[tuple[Any, dict[str, Any]]] = []
        self.processes: list[list[str]] = []
        self.terminated = 0

    def run(self, app: Any, **options: Any) -> None:
        self.served.append((app, options))

    def popen(self, command: list[str], **_: Any) -> Started:
        self.processes.append(command)
        return self

    def terminate(self) -> None:
        self.terminated += 1

    def wait(self, timeout: float | None = None) -> int:
        return 0


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> Started:
    record = Started()
    monkeypatch.setattr(uvicorn, "run", record.run)
    monkeypatch.setattr(subprocess, "Popen", record.popen)
    return record


def test_several_processes_with_one_queue_worker_beside_them(env: None, started: Started) -> None:
    result = CliRunner().invoke(main, ["serve", "--workers", "3", "--with-worker", "--no-access-log"])
    assert result.exit_code == 0, result.output
    ((app, options),) = started.served
    assert app == "repairs_gateway.api.app:app_from_environment"
    assert options["factory"] is True and options["workers"] == 3 and options["access_log"] is False
    assert len(started.processes) == 1 and started.processes[0][-1] == "worker"
    assert started.terminated == 1  # stopped with the gateway


def test_one_process_serves_its_app_and_runs_no_separate_worker(env: None, started: Started) -> None:
    result = CliRunner().invoke(main, ["serve", "--with-worker"])
    assert result.exit_code == 0, result.output
    ((app, options),) = started.served
    assert not isinstance(app, str) and "workers" not in options
    assert started.processes == []


def test_each_process_builds_the_gateway_from_the_environment(env: None) -> None:
    app = app_from_environment()
    assert isinstance(app, FastAPI) and app.title == "Repairs API"
