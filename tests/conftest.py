"""Fixtures: a migrated database (SQLite, and PostgreSQL when
REPAIRS_GATEWAY_TEST_DATABASE_URL points at one), and the gateway app serving the demo
councils in-process.

Under pytest-xdist (``-n 2``) each worker has a PostgreSQL database of its own, created on
first use next to the configured one and named after it with the worker's id
(``repairs_gateway_test_gw0``): tests empty tables, and must not empty another worker's.
Its SQLite files and temporary folders are its own already (``tmp_path`` is per worker)."""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest

from repairs_gateway.api.app import create_app
from repairs_gateway.config.loader import GatewayConfig, parse_config
from repairs_gateway.demo.data import demo_document
from repairs_gateway.persistence.db import make_engine, make_sessionmaker
from repairs_gateway.persistence.migrate import upgrade
from repairs_gateway.ports import AdapterPlugin
from repairs_gateway.registry import discover_plugins
from repairs_gateway.settings import Settings

from gateway_support import (
    Gateway,
    GatewayFactory,
    create_database_if_missing,
    empty_tables,
    prepare_without_migrating,
    worker_database_url,
)

CONFIGURED_PG_URL = os.environ.get("REPAIRS_GATEWAY_TEST_DATABASE_URL")
PG_URL = worker_database_url(CONFIGURED_PG_URL, os.environ.get("PYTEST_XDIST_WORKER"))


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated SQLite file shared by the session; tables are emptied between tests."""
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'gateway.db'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def postgres_url() -> str:
    """The PostgreSQL test database (this xdist worker's own), migrated; skipped when none
    is configured."""
    if not PG_URL or not CONFIGURED_PG_URL:
        if os.environ.get("REPAIRS_GATEWAY_REQUIRE_POSTGRES"):
            pytest.fail(
                "REPAIRS_GATEWAY_REQUIRE_POSTGRES is set but REPAIRS_GATEWAY_TEST_DATABASE_URL is not"
            )
        pytest.skip("REPAIRS_GATEWAY_TEST_DATABASE_URL is not set (.ci/run sets it)")
    if PG_URL != CONFIGURED_PG_URL:
        asyncio.run(create_database_if_missing(PG_URL, CONFIGURED_PG_URL))
    upgrade(PG_URL)
    return PG_URL


@pytest.fixture(params=["sqlite"])
def database_url(request: pytest.FixtureRequest) -> str:
    """The database a test runs on: SQLite unless a test asks for both (``on_both_databases``)."""
    name = request.param
    url: str = request.getfixturevalue("postgres_url" if name == "postgresql" else "sqlite_url")
    return url


@pytest.fixture
async def make_gateway(database_url: str) -> AsyncIterator[GatewayFactory]:
    """Builds gateways on the test database: ``await make_gateway(document=..., plugins=...)``."""
    await empty_tables(database_url)
    stack: list[tuple[Any, Any, Any]] = []
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)

    async def build(
        document: Mapping[str, Any] | None = None,
        plugins: Mapping[str, AdapterPlugin] | None = None,
        **overrides: Any,
    ) -> Gateway:
        all_plugins = {**discover_plugins(), **(plugins or {})}
        config: GatewayConfig = parse_config(document or demo_document(), all_plugins, {})
        settings = Settings(
            **{
                "database_url": database_url,
                "config_file": Path("unused.yaml"),
                "token_secret": secrets.token_urlsafe(40),
                "backend_timeout_seconds": 2.0,
                **overrides,
            }
        )
        key = await prepare_without_migrating(settings, config, sessions)
        app = create_app(settings, config)
        lifespan = app.router.lifespan_context(app)
        await lifespan.__aenter__()
        client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gateway")
        stack.append((app, lifespan, client))
        return Gateway(client, key, sessions, settings, app)

    yield build
    for _app, lifespan, client in reversed(stack):
        await client.aclose()
        await lifespan.__aexit__(None, None, None)
    await engine.dispose()


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> Gateway:
    """The gateway serving the demo councils."""
    built: Gateway = await make_gateway()
    return built
