"""Operational endpoints: the spec as published, health, readiness and metrics."""

from __future__ import annotations

from typing import Any

from repairs_gateway.spec import spec_text

from gateway_support import Gateway
from journey import windows


async def test_the_spec_is_served_as_written(gateway: Gateway) -> None:
    response = await gateway.client.get("/v1/openapi.yaml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert response.text == spec_text()


OPERATOR = {"Authorization": "Bearer operator-token-for-the-ops-tests"}
"""The per-council detail of /readyz and /metrics are the operator's (issue 14)."""


async def test_health_and_readiness(make_gateway: Any) -> None:
    gateway: Gateway = await make_gateway(operator_token="operator-token-for-the-ops-tests")
    assert (await gateway.client.get("/healthz")).json() == {"status": "ok"}
    assert (await gateway.client.get("/readyz")).json() == {"status": "ready"}
    ready = await gateway.client.get("/readyz", headers=OPERATOR)
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "database": "ok",
        "northfield.addresses": "ok",
        "southmoor.addresses": "ok",
    }


async def test_metrics_count_requests_and_backend_calls_by_operation(make_gateway: Any) -> None:
    gateway: Gateway = await make_gateway(operator_token="operator-token-for-the-ops-tests")
    await windows(gateway)
    await gateway.client.get("/v1/councils")
    text = (await gateway.client.get("/metrics", headers=OPERATOR)).text
    assert 'repairs_gateway_requests_total{operation="listAppointments",status="200"} 1.0' in text
    assert 'repairs_gateway_requests_total{operation="listCouncils",status="401"} 1.0' in text
    assert 'repairs_gateway_backend_calls_total{adapter="builtin-calendar",call="slots",outcome="ok"}' in text
    assert 'repairs_gateway_request_seconds_bucket{le="0.005",operation="listAppointments"}' in text


async def test_an_unknown_path_is_a_problem_document(gateway: Gateway) -> None:
    response = await gateway.client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
