"""Operational endpoints: the spec as published, health, readiness and metrics."""

from __future__ import annotations

from repairs_gateway.spec import spec_text

from gateway_support import Gateway
from journey import windows


async def test_the_spec_is_served_as_written(gateway: Gateway) -> None:
    response = await gateway.client.get("/v1/openapi.yaml")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/yaml")
    assert response.text == spec_text()


async def test_health_and_readiness(gateway: Gateway) -> None:
    assert (await gateway.client.get("/healthz")).json() == {"status": "ok"}
    ready = await gateway.client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {
        "database": "ok",
        "northfield.addresses": "ok",
        "southmoor.addresses": "ok",
    }


async def test_metrics_count_requests_and_backend_calls_by_operation(gateway: Gateway) -> None:
    await windows(gateway)
    await gateway.client.get("/v1/councils")
    text = (await gateway.client.get("/metrics")).text
    assert 'repairs_gateway_requests_total{operation="listAppointments",status="200"} 1.0' in text
    assert 'repairs_gateway_requests_total{operation="listCouncils",status="401"} 1.0' in text
    assert 'repairs_gateway_backend_calls_total{adapter="builtin-calendar",call="slots",outcome="ok"}' in text
    assert 'repairs_gateway_request_seconds_bucket{le="0.005",operation="listAppointments"}' in text


async def test_an_unknown_path_is_a_problem_document(gateway: Gateway) -> None:
    response = await gateway.client.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
