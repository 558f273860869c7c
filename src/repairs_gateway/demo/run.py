"""``repairs-gateway demo``: everything a first look needs, on 127.0.0.1, with no setup."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from repairs_gateway.config.loader import GatewayConfig, parse_config
from repairs_gateway.demo.data import demo_addresses, demo_config_path, demo_document, load_addresses
from repairs_gateway.settings import Settings

DRS_PASSWORD_VARIABLE = "REPAIRS_GATEWAY_DEMO_DRS_PASSWORD"
DRS_SIMULATOR_PASSWORD = "drs-sim-password"  # what the DRS simulator accepts by default
DRS_PATH = "/OTWebServiceGateway_SIM/ws/soap"


async def prepare(settings: Settings, config: GatewayConfig) -> str:
    """Migrate the database, load the demo addresses and create an API key for every council."""
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.persistence.migrate import upgrade_async
    from repairs_gateway.services.clients import create_client

    await upgrade_async(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        sessions = make_sessionmaker(engine)
        await load_addresses(sessions, demo_addresses(config.councils))
        return await create_client(sessions, "demo", sorted(config.councils))
    finally:
        await engine.dispose()


def examples(base: str, key: str) -> str:
    """Example requests to print."""
    auth = f'-H "Authorization: Bearer {key}"'
    council = f"{base}/v1/councils/northfield"
    return "\n".join(
        [
            "Try:",
            f"  curl {auth} {base}/v1/councils",
            f"  curl {auth} '{council}/addresses?postcode=nf11aa'",
            f"  curl {auth} {council}/triage",
            f"  curl {auth} '{council}/appointments?uprn=100012345001&triagePath=kitchen/sink/blocked'",
            f"  curl {auth} -H 'Content-Type: application/json' -H 'Idempotency-Key: demo-1' \\",
            '       -d \'{"uprn": "100012345001", "repair": {"triagePath": "kitchen/sink/blocked"},'
            ' "description": "The kitchen sink is blocked", "contact": {"name": "Sam Resident",'
            ' "phone": "07700 900123", "preferredChannel": "sms"}, "windowId": "<a window id>"}\' \\',
            f"       {council}/repairs",
            f"  curl {auth} {council}/repairs/<reference>",
            f"The standard: {base}/v1/openapi.yaml",
        ]
    )


@contextmanager
def drs_simulator() -> Iterator[str | None]:
    """Serve the Kirona DRS simulator if its adaptor is installed; yields its endpoint."""
    from repairs_gateway.ports import SimulatorOptions
    from repairs_gateway.registry import discover_plugins
    from repairs_gateway.serving import serve_asgi

    plugin = discover_plugins().get("kirona-drs")
    if plugin is None or plugin.simulator is None:
        yield None
        return
    with serve_asgi(plugin.simulator(SimulatorOptions()).app, name="kirona-drs simulator") as url:
        yield url + DRS_PATH


def run_demo(port: int, data_dir: Path | None) -> None:
    """Prepare the demo and serve it until interrupted."""
    import uvicorn

    from repairs_gateway.api.app import create_app

    folder = data_dir or Path(tempfile.mkdtemp(prefix="repairs-gateway-demo-"))
    folder.mkdir(parents=True, exist_ok=True)
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'demo.db'}",
        config_file=demo_config_path(),
        token_secret=secrets.token_urlsafe(48),
    )
    with drs_simulator() as drs_endpoint:
        environ = {**os.environ, DRS_PASSWORD_VARIABLE: DRS_SIMULATOR_PASSWORD}
        config = parse_config(demo_document(drs_endpoint), environ=environ)
        key = asyncio.run(prepare(settings, config))
        base = f"http://127.0.0.1:{port}"
        click.echo(f"repairs-gateway demo: councils {', '.join(sorted(config.councils))}")
        click.echo(f"Data in {folder} (SQLite; simulated councils and addresses)")
        if drs_endpoint:
            click.echo(f"Eastbrook is scheduled by the Kirona DRS simulator at {drs_endpoint}")
        click.echo(f"Gateway: {base} (with a worker: bookings a backend could not take are retried)")
        click.echo(f"API key: {key}")
        click.echo(examples(base, key))
        app = create_app(settings, config, with_worker=True)
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
