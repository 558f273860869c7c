"""``repairs-gateway demo``: everything a first look needs, on 127.0.0.1, with no setup."""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import tempfile
import threading
import time
from importlib.resources import files
from pathlib import Path
from typing import Any

import click
import yaml

from repairs_gateway.config.loader import GatewayConfig, parse_config
from repairs_gateway.settings import Settings

DEMO = files("repairs_gateway.demo")
ADDRESS_FILES = {
    "northfield": "northfield.csv",
    "southmoor": "southmoor.csv",
    "eastbrook": "eastbrook.csv",
}
DRS_PASSWORD_VARIABLE = "REPAIRS_GATEWAY_DEMO_DRS_PASSWORD"
DRS_SIMULATOR_PASSWORD = "drs-sim-password"  # what the DRS simulator accepts by default
DRS_PATH = "/OTWebServiceGateway_SIM/ws/soap"


def demo_config_path() -> Path:
    """The demo councils file."""
    return Path(str(DEMO / "councils.yaml"))


async def prepare(settings: Settings, config: GatewayConfig) -> str:
    """Migrate the database, load the demo addresses and create an API key for every council."""
    from repairs_gateway.builtin.address_register import import_csv
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.persistence.migrate import upgrade_async
    from repairs_gateway.services.clients import create_client

    await upgrade_async(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        sessions = make_sessionmaker(engine)
        for council, name in ADDRESS_FILES.items():
            if council not in config.councils:
                continue
            await import_csv(sessions, council, (DEMO / name).read_text(encoding="utf-8"))
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


def demo_document(drs_endpoint: str | None) -> dict[str, Any]:
    """The demo councils; with a DRS simulator endpoint, a third council scheduled by it."""
    document: dict[str, Any] = yaml.safe_load(demo_config_path().read_text(encoding="utf-8"))
    if drs_endpoint is not None:
        template = (DEMO / "drs-council.yaml").read_text(encoding="utf-8")
        document["councils"].append(yaml.safe_load(template.replace("{endpoint}", drs_endpoint)))
    return document


class BackgroundServer:
    """A uvicorn server on 127.0.0.1 in a daemon thread (for the demo's simulators)."""

    def __init__(self, app: Any) -> None:
        import uvicorn

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port: int = probe.getsockname()[1]
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        """Start serving and wait until the port answers."""
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the simulator did not start")
            time.sleep(0.05)


def start_drs_simulator() -> str | None:
    """Start the Kirona DRS simulator if its adaptor is installed; answers its endpoint."""
    from repairs_gateway.ports import SimulatorOptions
    from repairs_gateway.registry import discover_plugins

    plugin = discover_plugins().get("kirona-drs")
    if plugin is None or plugin.simulator is None:
        return None
    server = BackgroundServer(plugin.simulator(SimulatorOptions()).app)
    server.start()
    return f"http://127.0.0.1:{server.port}{DRS_PATH}"


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
    drs_endpoint = start_drs_simulator()
    environ = {**os.environ, DRS_PASSWORD_VARIABLE: DRS_SIMULATOR_PASSWORD}
    config = parse_config(demo_document(drs_endpoint), environ=environ)
    key = asyncio.run(prepare(settings, config))
    base = f"http://127.0.0.1:{port}"
    click.echo(f"repairs-gateway demo: councils {', '.join(sorted(config.councils))}")
    click.echo(f"Data in {folder} (SQLite; simulated councils and addresses)")
    if drs_endpoint:
        click.echo(f"Eastbrook is scheduled by the Kirona DRS simulator at {drs_endpoint}")
    click.echo(f"Gateway: {base}")
    click.echo(f"API key: {key}")
    click.echo(examples(base, key))
    uvicorn.run(create_app(settings, config), host="127.0.0.1", port=port, log_level="warning")
