"""``repairs-gateway demo``: everything a first look needs, on 127.0.0.1, with no setup."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from importlib.resources import files
from pathlib import Path

import click

from repairs_gateway.config.loader import GatewayConfig, load_config
from repairs_gateway.settings import Settings

DEMO = files("repairs_gateway.demo")
ADDRESS_FILES = {"northfield": "northfield.csv", "southmoor": "southmoor.csv"}


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
    config = load_config(settings.config_file)
    key = asyncio.run(prepare(settings, config))
    base = f"http://127.0.0.1:{port}"
    click.echo(f"repairs-gateway demo: councils {', '.join(sorted(config.councils))}")
    click.echo(f"Data in {folder} (SQLite; simulated councils and addresses)")
    click.echo(f"Gateway: {base}")
    click.echo(f"API key: {key}")
    click.echo(examples(base, key))
    uvicorn.run(create_app(settings, config), host="127.0.0.1", port=port, log_level="warning")
