"""/readyz tells anyone whether the gateway is ready, and only the operator which councils it
serves and how their backends are; /metrics is the operator's alone.

Before: ``GET /readyz`` with no key listed every council id and the health of each one's
backends, and ``/metrics`` was open to anyone."""

from __future__ import annotations

from typing import Any

import pytest

from repairs_gateway.ports import BackendUnavailable
from repairs_gateway.settings import Settings

from gateway_support import Gateway, on_both_databases

TOKEN = "an-operator-token-that-only-monitoring-knows"
OPERATOR = {"Authorization": f"Bearer {TOKEN}"}


def _wrong_credentials(gateway: Gateway) -> list[dict[str, str]]:
    return [
        {},
        {"Authorization": "Bearer "},
        {"Authorization": f"Bearer {TOKEN[:-1]}"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": TOKEN},
        gateway.auth(),  # an API key, even one for every council, is not the operator's token
    ]


def _assert_minimal(response: Any, status: int, ready: str) -> None:
    assert response.status_code == status, response.text
    assert response.json() == {"status": ready}
    for council in ("northfield", "southmoor", "database"):
        assert council not in response.text


@on_both_databases
async def test_readiness_is_anyone_s_and_its_detail_the_operator_s(make_gateway: Any) -> None:
    gateway: Gateway = await make_gateway(operator_token=TOKEN)
    for credentials in _wrong_credentials(gateway):
        _assert_minimal(await gateway.client.get("/readyz", headers=credentials), 200, "ready")
    detailed = await gateway.client.get("/readyz", headers=OPERATOR)
    assert detailed.status_code == 200
    assert detailed.json() == {
        "status": "ready",
        "checks": {"database": "ok", "northfield.addresses": "ok", "southmoor.addresses": "ok"},
    }


async def test_a_gateway_that_is_not_ready_says_so_to_anyone_and_why_to_the_operator(
    make_gateway: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    gateway: Gateway = await make_gateway(operator_token=TOKEN)
    addresses = gateway.app.state.gateway.councils["southmoor"].addresses

    async def down(uprn: str) -> Any:
        raise BackendUnavailable("register unreachable")

    monkeypatch.setattr(addresses, "address", down)
    _assert_minimal(await gateway.client.get("/readyz"), 503, "not ready")
    detailed = await gateway.client.get("/readyz", headers=OPERATOR)
    assert detailed.status_code == 503
    assert detailed.json()["checks"]["southmoor.addresses"].startswith("failing")
    assert detailed.json()["checks"]["northfield.addresses"] == "ok"


async def test_metrics_are_the_operator_s_alone(make_gateway: Any) -> None:
    gateway: Gateway = await make_gateway(operator_token=TOKEN)
    staff = await gateway.new_staff_key()
    for credentials in [*_wrong_credentials(gateway), gateway.auth(staff)]:
        refused = await gateway.client.get("/metrics", headers=credentials)
        assert refused.status_code == 401, (credentials, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["WWW-Authenticate"].startswith("Bearer")
        assert refused.json()["title"] == "Missing or invalid operator token"
        assert "repairs_gateway_" not in refused.text
    scraped = await gateway.client.get("/metrics", headers=OPERATOR)
    assert scraped.status_code == 200
    assert "repairs_gateway_requests_total" in scraped.text


async def test_with_no_operator_token_configured_no_one_gets_the_detail_or_the_metrics(
    gateway: Gateway,
) -> None:
    for credentials in (
        *_wrong_credentials(gateway),
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer  "},
    ):
        _assert_minimal(await gateway.client.get("/readyz", headers=credentials), 200, "ready")
        assert (await gateway.client.get("/metrics", headers=credentials)).status_code == 401


def test_the_operator_token_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPAIRS_GATEWAY_OPERATOR_TOKEN", TOKEN)
    assert Settings().operator_token.get_secret_value() == TOKEN
    assert TOKEN not in repr(Settings())
