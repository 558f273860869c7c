"""FaultyTransport, the kit's helper for HTTP adaptors: what the adaptor's httpx client
sees while each fault is on, and that the backend answers again once it is off."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from repairs_gateway.conformance import FaultyTransport


def _backend(request: httpx.Request) -> httpx.Response:
    return httpx.Response(200, json={"path": request.url.path})


@pytest.fixture
def faults() -> FaultyTransport:
    """A transport over a backend that echoes the path."""
    return FaultyTransport(httpx.MockTransport(_backend))


async def test_requests_pass_through_when_no_fault_is_on(faults: FaultyTransport) -> None:
    """With no fault on, the backend answers."""
    async with httpx.AsyncClient(transport=faults, base_url="http://hms.test") as client:
        assert (await client.get("/properties")).json() == {"path": "/properties"}


async def test_refused_connections_and_recovery(faults: FaultyTransport) -> None:
    """While refused, the client gets ConnectError; afterwards the backend answers again."""
    async with httpx.AsyncClient(transport=faults, base_url="http://hms.test") as client:
        async with faults.refused()():
            with pytest.raises(httpx.ConnectError):
                await client.get("/properties")
        assert (await client.get("/properties")).status_code == 200


async def test_a_hanging_backend_never_answers(faults: FaultyTransport) -> None:
    """While hanging, a request waits until the caller gives up, whatever httpx's timeout."""
    client = httpx.AsyncClient(transport=faults, base_url="http://hms.test", timeout=0.01)
    async with client, faults.hang()():
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.2):
                await client.get("/properties")


async def test_every_down_and_malformed_fault_replaces_the_answer(faults: FaultyTransport) -> None:
    """Each preset answers something other than the backend's own answer."""
    presets = {**faults.down_faults(), **faults.json_faults(), **faults.xml_faults()}
    async with httpx.AsyncClient(transport=faults, base_url="http://hms.test") as client:
        for name, control in presets.items():
            async with control():
                try:
                    response = await client.get("/properties")
                except httpx.ConnectError:
                    continue
                assert response.content != b'{"path":"/properties"}', name
    assert "HTTP 503 from a load balancer" in presets
