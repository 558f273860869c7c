"""What one GET addresses costs the database: with the key known, at most one session and one
statement (none on SQLite, whose register reads skip the async engine); and when a cached key
runs out under a burst of its requests, one read of the key, not one per request."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from gateway_support import Gateway, GatewayFactory, on_both_databases

ADDRESSES = "/v1/councils/northfield/addresses"


@contextmanager
def counted(gateway: Gateway) -> Iterator[dict[str, list[str]]]:
    """Statements run and connections checked out through the gateway's engine meanwhile."""
    engine = gateway.app.state.gateway.engine.sync_engine
    seen: dict[str, list[str]] = {"statements": [], "checkouts": []}

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        seen["statements"].append(sql)

    def checkout(*_: Any) -> None:
        seen["checkouts"].append("checkout")

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine.pool, "checkout", checkout)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine.pool, "checkout", checkout)


async def _get(gateway: Gateway) -> None:
    response = await gateway.client.get(ADDRESSES, params={"postcode": "nf11aa"}, headers=gateway.auth())
    assert response.status_code == 200
    assert response.json()["addresses"]


@on_both_databases
async def test_a_request_with_a_known_key_reads_only_the_addresses(make_gateway: GatewayFactory) -> None:
    gateway: Gateway = await make_gateway(api_key_cache_seconds=60)
    await _get(gateway)  # reads the key
    with counted(gateway) as seen:
        await _get(gateway)
    assert len(seen["checkouts"]) <= 1
    assert len(seen["statements"]) <= 1
    assert all("api_clients" not in sql for sql in seen["statements"])
    if gateway.settings.database_url.startswith("sqlite"):
        assert seen["statements"] == []


async def test_a_burst_after_the_key_ran_out_reads_the_key_once(make_gateway: GatewayFactory) -> None:
    gateway: Gateway = await make_gateway(api_key_cache_seconds=5)
    now = [0.0]
    gateway.app.state.gateway.keys.clock = lambda: now[0]
    await _get(gateway)
    now[0] = 10.0  # the entry ran out
    with counted(gateway) as seen:
        await asyncio.gather(*(_get(gateway) for _ in range(20)))
    assert len([sql for sql in seen["statements"] if "api_clients" in sql]) == 1
