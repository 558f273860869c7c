"""Revoking an API key: refused at once with no cache, and within the cache's time with one;
`clients list` and `clients revoke` on the command line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from repairs_gateway.cli import main
from repairs_gateway.demo.data import demo_config_path
from repairs_gateway.persistence.db import make_engine, make_sessionmaker
from repairs_gateway.services.clients import authenticate, create_client, list_clients, revoke_client

from gateway_support import Gateway, GatewayFactory, on_both_databases

ADDRESSES = "/v1/councils/northfield/addresses"


async def _key_and_id(gateway: Gateway, name: str) -> tuple[str, int]:
    key = await create_client(gateway.sessions, name, ["northfield"])
    (client_id,) = [row.client_id for row in await list_clients(gateway.sessions) if row.name == name]
    return key, client_id


async def _status(gateway: Gateway, key: str) -> int:
    response = await gateway.client.get(ADDRESSES, params={"postcode": "NF1 1AA"}, headers=gateway.auth(key))
    return response.status_code


@on_both_databases
async def test_a_revoked_key_is_refused_at_once_when_keys_are_not_cached(
    make_gateway: GatewayFactory,
) -> None:
    gateway: Gateway = await make_gateway(api_key_cache_seconds=0)
    key, client_id = await _key_and_id(gateway, "council website")
    assert await _status(gateway, key) == 200
    assert await revoke_client(gateway.sessions, client_id)
    refused = await gateway.client.get(ADDRESSES, params={"postcode": "NF1 1AA"}, headers=gateway.auth(key))
    assert refused.status_code == 401
    assert refused.headers["www-authenticate"].startswith("Bearer")
    # Other keys are untouched, and the revoked client is still listed, marked revoked.
    assert await _status(gateway, gateway.key) == 200
    (row,) = [row for row in await list_clients(gateway.sessions) if row.client_id == client_id]
    assert row.revoked_at is not None and row.councils == ("northfield",)


async def test_a_cached_key_outlives_its_revocation_by_at_most_the_cache_time(
    make_gateway: GatewayFactory,
) -> None:
    gateway: Gateway = await make_gateway(api_key_cache_seconds=30)
    now = [1000.0]
    gateway.app.state.gateway.keys.clock = lambda: now[0]
    key, client_id = await _key_and_id(gateway, "council website")
    assert await _status(gateway, key) == 200  # read at t=1000, trusted until t=1030
    await revoke_client(gateway.sessions, client_id)
    now[0] = 1029.9
    assert await _status(gateway, key) == 200
    now[0] = 1030.0
    assert await _status(gateway, key) == 401
    now[0] = 1100.0
    assert await _status(gateway, key) == 401


async def test_a_wrong_key_is_not_remembered_so_a_new_key_works_at_once(make_gateway: GatewayFactory) -> None:
    gateway: Gateway = await make_gateway(api_key_cache_seconds=30)
    assert await _status(gateway, "rgk_not-a-key") == 401
    key, _ = await _key_and_id(gateway, "new website")
    assert await _status(gateway, key) == 200


async def test_revoking_twice_keeps_the_first_time_and_an_unknown_client_is_reported(
    make_gateway: GatewayFactory,
) -> None:
    gateway: Gateway = await make_gateway()
    key, client_id = await _key_and_id(gateway, "old app")
    assert await revoke_client(gateway.sessions, client_id)
    (first,) = [row.revoked_at for row in await list_clients(gateway.sessions) if row.client_id == client_id]
    assert await revoke_client(gateway.sessions, client_id)
    (second,) = [row.revoked_at for row in await list_clients(gateway.sessions) if row.client_id == client_id]
    assert first == second
    assert await authenticate(gateway.sessions, key) is None
    assert not await revoke_client(gateway.sessions, client_id + 1000)


def test_clients_list_and_revoke_on_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("REPAIRS_GATEWAY_DATABASE_URL", url)
    monkeypatch.setenv("REPAIRS_GATEWAY_CONFIG_FILE", str(demo_config_path()))
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    created = runner.invoke(
        main, ["clients", "create", "--council", "northfield", "--name", "Northfield web"]
    )
    key = created.output.split("API key: ", 1)[1].split()[0]
    listed = runner.invoke(main, ["clients", "list"])
    assert listed.exit_code == 0, listed.output
    client_id, name, scope, councils, _created, state = listed.output.strip().split("\t")
    assert (name, scope, councils, state) == ("Northfield web", "resident", "northfield", "active")
    assert key not in listed.output
    revoked = runner.invoke(main, ["clients", "revoke", client_id])
    assert revoked.exit_code == 0, revoked.output
    assert f"revoked API client {client_id}" in revoked.output
    assert "revoked 20" in runner.invoke(main, ["clients", "list"]).output
    unknown = runner.invoke(main, ["clients", "revoke", "999"])
    assert unknown.exit_code == 1
    assert "no API client with id 999" in unknown.output

    async def check() -> None:
        engine = make_engine(url)
        try:
            assert await authenticate(make_sessionmaker(engine), key) is None
        finally:
            await engine.dispose()

    import asyncio

    asyncio.run(check())
