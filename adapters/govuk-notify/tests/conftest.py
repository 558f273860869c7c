"""Fixtures: a Notify simulator served on 127.0.0.1, the official client on each key type,
and the sender (the adapter) on the live key."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest
from notifications_python_client.notifications import NotificationsAPIClient
from pydantic import SecretStr
from repairs_gateway.ports import AdapterContext
from repairs_gateway.serving import serve_asgi

from repairs_gateway_govuk_notify import NotifySender, NotifySettings
from repairs_gateway_govuk_notify.simulator import NotifySimulator, SimulatorConfig


@pytest.fixture
def config() -> SimulatorConfig:
    """Quick statuses, so tests see them move."""
    return SimulatorConfig(sending_after_seconds=0.05, final_after_seconds=0.1)


@pytest.fixture
def sim(config: SimulatorConfig) -> NotifySimulator:
    return NotifySimulator(config)


@pytest.fixture
def base_url(sim: NotifySimulator) -> Iterator[str]:
    with serve_asgi(sim.app, "notify-simulator") as url:
        yield url


@pytest.fixture
def client_for(sim: NotifySimulator, base_url: str) -> Callable[[str], Any]:
    """The official client on one of the simulator's keys (``live``, ``team``, ``test``)."""

    def make(key_type: str = "live") -> Any:
        factory: Any = NotificationsAPIClient
        return factory(sim.api_key(key_type), base_url=base_url, timeout=5)

    return make


@pytest.fixture
def client(client_for: Callable[[str], Any]) -> Any:
    return client_for("live")


@pytest.fixture
def settings(sim: NotifySimulator, base_url: str) -> NotifySettings:
    return NotifySettings(
        api_key=SecretStr(sim.api_key("live")), base_url=base_url, timeout_seconds=5
    )


@pytest.fixture
async def sender(settings: NotifySettings) -> AsyncIterator[NotifySender]:
    adapter = NotifySender(settings, AdapterContext("northfield"))
    yield adapter
    await adapter.aclose()
