"""`repairs-gateway simulate govuk-notify` serves the simulator and prints how to use it."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time

import httpx
import pytest
from notifications_python_client.notifications import NotificationsAPIClient

from repairs_gateway_govuk_notify.simulator import SimulatorConfig, template_id
from repairs_gateway_govuk_notify.simulator.config import config_from_env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_simulate_prints_its_url_keys_and_templates_and_serves_them() -> None:
    port = _free_port()
    command = [sys.executable, "-m", "repairs_gateway.cli", "simulate", "govuk-notify"]
    command += ["--port", str(port), "--seed", "7"]
    env = {**os.environ, "GOVUK_NOTIFY_SIM_CALLBACK_URL": "http://127.0.0.1:9/receipts"}
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
    )
    try:
        assert process.stdout is not None
        printed: dict[str, str] = {}
        templates: dict[str, str] = {}
        for line in process.stdout:
            if match := re.match(
                r"\s*(base URL|service id|API key \((?:live|team|test)\)):\s+(\S+)", line
            ):
                printed[match.group(1)] = match.group(2)
            if match := re.match(r"\s*delivery receipts:\s+(\S+)", line):
                printed["receipts"] = match.group(1)
            if match := re.match(r"\s*([0-9a-f-]{36})\s+(sms|email)\s+(.+?)\s+\[", line):
                templates[match.group(3)] = match.group(1)
            if len(templates) == 14:
                break
        assert printed["base URL"] == f"http://127.0.0.1:{port}"
        assert printed["receipts"] == "http://127.0.0.1:9/receipts"
        service_id = printed["service id"]
        for kind in ("live", "team", "test"):
            assert re.fullmatch(
                rf"repairs_sim_{kind}-{service_id}-[0-9a-f-]{{36}}", printed[f"API key ({kind})"]
            )
        assert templates["booking confirmed (text)"] == template_id("booking_confirmed", "sms")
        assert templates["staff new repair (email)"] == template_id("staff_new_repair", "email")
        client = NotificationsAPIClient(
            printed["API key (test)"], base_url=printed["base URL"], timeout=5
        )
        for _ in range(100):
            try:
                answer = client.send_sms_notification(
                    "07700 900123",
                    templates["reminder (text)"],
                    {"reference": "NF-1", "appointment": "tomorrow"},
                )
                break
            except Exception:
                time.sleep(0.05)
        assert answer["content"]["body"] == "Reminder: your repair NF-1 is booked for tomorrow."
        shown = httpx.get(f"{printed['base URL']}/_simulator/messages", timeout=5).json()
        assert [m["id"] for m in shown["messages"]] == [answer["id"]]
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


def test_the_same_seed_gives_the_same_service_and_keys() -> None:
    from repairs_gateway_govuk_notify.simulator import NotifySimulator

    first, second = (
        NotifySimulator(SimulatorConfig(seed=3)),
        NotifySimulator(SimulatorConfig(seed=3)),
    )
    assert first.api_key("team") == second.api_key("team")
    assert NotifySimulator().api_key("live") != NotifySimulator().api_key("live")


def test_environment_variables_configure_what_the_command_cannot() -> None:
    config = config_from_env(
        SimulatorConfig(),
        {
            "GOVUK_NOTIFY_SIM_CALLBACK_URL": "http://127.0.0.1:8000/notify/receipts",
            "GOVUK_NOTIFY_SIM_CALLBACK_TOKEN": "tok",
            "GOVUK_NOTIFY_SIM_INBOUND_URL": "http://127.0.0.1:8000/notify/replies",
            "GOVUK_NOTIFY_SIM_RATE_LIMIT": "10/1.5",
            "GOVUK_NOTIFY_SIM_DELAYS": "0,0.2",
            "GOVUK_NOTIFY_SIM_SERVICE_ID": "2C7F4B38-3D09-42ED-AF82-DAF891BBFEBF",
        },
    )
    assert config.callback_url == "http://127.0.0.1:8000/notify/receipts"
    assert config.callback_token == "tok"
    assert config.inbound_callback_url == "http://127.0.0.1:8000/notify/replies"
    assert (config.rate_limit, config.rate_interval_seconds) == (10, 1.5)
    assert (config.sending_after_seconds, config.final_after_seconds) == (0.0, 0.2)
    assert config.service_id == "2c7f4b38-3d09-42ed-af82-daf891bbfebf"
    with pytest.raises(ValueError, match="GOVUK_NOTIFY_SIM_RATE_LIMIT"):
        config_from_env(SimulatorConfig(), {"GOVUK_NOTIFY_SIM_RATE_LIMIT": "lots"})
