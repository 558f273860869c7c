"""``repairs-gateway demo``: everything a first look needs, on 127.0.0.1, with no setup."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from repairs_gateway.config.loader import GatewayConfig, parse_config
from repairs_gateway.demo.data import (
    council_from_template,
    demo_addresses,
    demo_config_path,
    demo_document,
    load_addresses,
)
from repairs_gateway.settings import Settings

DRS_PASSWORD_VARIABLE = "REPAIRS_GATEWAY_DEMO_DRS_PASSWORD"
DRS_SIMULATOR_PASSWORD = "drs-sim-password"  # what the DRS simulator accepts by default
DRS_PATH = "/OTWebServiceGateway_SIM/ws/soap"
NOTIFY_KEY_VARIABLE = "REPAIRS_GATEWAY_DEMO_NOTIFY_API_KEY"
NOTIFY_RECEIPT_VARIABLE = "REPAIRS_GATEWAY_DEMO_NOTIFY_RECEIPT_TOKEN"
NOTIFY_COUNCIL = "northfield"
STAFF_EMAIL = "repairs-team@northfield.example"
# What the Northgate and Totalmobile simulators accept by default.
NORTHGATE_SECRET_VARIABLE = "REPAIRS_GATEWAY_DEMO_NORTHGATE_SECRET"
NORTHGATE_SIMULATOR_SECRET = "ng-sim-secret"
TOTALMOBILE_SECRET_VARIABLE = "REPAIRS_GATEWAY_DEMO_TOTALMOBILE_SECRET"
TOTALMOBILE_SIMULATOR_SECRET = "tm-sim-secret"
UH_PASSWORD_VARIABLE = "REPAIRS_GATEWAY_DEMO_UH_PASSWORD"
UH_SIMULATOR_PASSWORD = "uh-sim-password"


@dataclass
class Partners:
    """The demo councils on simulated supplier systems that are installed: their council
    documents, the secrets their simulators accept, and a line each to print."""

    councils: list[dict[str, Any]] = field(default_factory=list)
    environ: dict[str, str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class NotifyDemo:
    """The GOV.UK Notify simulator the demo started: its URL, live key, template ids (by
    message kind and channel) and the token its delivery receipts carry."""

    url: str
    api_key: str
    templates: dict[str, dict[str, str]]
    receipt_token: str

    @property
    def messages_url(self) -> str:
        return f"{self.url}/_simulator/messages"


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


@contextmanager
def simulator(name: str) -> Iterator[str | None]:
    """Serve the simulator of the adaptor ``name`` if it is installed; yields its URL."""
    from repairs_gateway.ports import SimulatorOptions
    from repairs_gateway.registry import discover_plugins
    from repairs_gateway.serving import serve_asgi

    plugin = discover_plugins().get(name)
    if plugin is None or plugin.simulator is None:
        yield None
        return
    with serve_asgi(plugin.simulator(SimulatorOptions()).app, name=f"{name} simulator") as url:
        yield url


def partner_councils(stack: ExitStack, drs_endpoint: str | None) -> Partners:
    """Start the simulators of the partner councils whose adaptors are installed (each
    stays up until ``stack`` closes) and wire a demo council to them. Larchford books in the
    DRS simulator already serving Eastbrook."""
    partners = Partners()
    uh = stack.enter_context(simulator("civica-uh"))
    if uh and drs_endpoint:
        partners.councils.append(council_from_template("larchford-council.yaml", uh=uh, drs=drs_endpoint))
        partners.environ[UH_PASSWORD_VARIABLE] = UH_SIMULATOR_PASSWORD
        partners.lines.append(
            f"Larchford (postcode UH1 1AB): properties, works orders and alerts in the Civica UH"
            f" simulator at {uh}/UHWebServices, appointments in the Kirona DRS simulator"
        )
    northgate = stack.enter_context(simulator("northgate-housing"))
    totalmobile = stack.enter_context(simulator("totalmobile"))
    if northgate and totalmobile:
        partners.councils.append(
            council_from_template("netherholme-council.yaml", northgate=northgate, totalmobile=totalmobile)
        )
        partners.environ |= {
            NORTHGATE_SECRET_VARIABLE: NORTHGATE_SIMULATOR_SECRET,
            TOTALMOBILE_SECRET_VARIABLE: TOTALMOBILE_SIMULATOR_SECRET,
        }
        partners.lines.append(
            f"Netherholme (postcode NH1 1AA): properties and works orders in the Northgate simulator"
            f" at {northgate}, appointments in the Totalmobile simulator at {totalmobile}"
            " (both APIs assumed: see the adaptors' READMEs)"
        )
    return partners


@contextmanager
def notify_simulator(gateway_base: str) -> Iterator[NotifyDemo | None]:
    """Serve the GOV.UK Notify simulator if its adaptor is installed, its delivery receipts
    going to the demo gateway's callback for Northfield; yields where it is and what to
    configure. Without the adaptor, None: the councils keep the log sender."""
    import httpx

    from repairs_gateway.config.schema import MESSAGE_KINDS
    from repairs_gateway.ports import SimulatorOptions
    from repairs_gateway.registry import discover_plugins
    from repairs_gateway.serving import serve_asgi

    plugin = discover_plugins().get("govuk-notify")
    if plugin is None or plugin.simulator is None:
        yield None
        return
    with serve_asgi(plugin.simulator(SimulatorOptions()).app, name="govuk-notify simulator") as url:
        # The simulator's test controls say its keys and templates, and take the callback.
        service = httpx.get(f"{url}/_simulator/service", timeout=10).json()
        ids = {t["name"]: t["id"] for t in service["templates"]}
        templates: dict[str, dict[str, str]] = {
            str(kind): {
                channel: ids[f"{kind.replace('_', ' ')} ({label})"]
                for channel, label in (("sms", "text"), ("email", "email"))
            }
            for kind in MESSAGE_KINDS
        }
        token = secrets.token_urlsafe(32)
        receipts = f"{gateway_base}/v1/callbacks/{NOTIFY_COUNCIL}/notifications"
        httpx.post(
            f"{url}/_simulator/callbacks",
            json={"delivery_status": {"url": receipts, "bearer_token": token}},
            timeout=10,
        ).raise_for_status()
        yield NotifyDemo(url, service["apiKeys"]["live"], templates, token)


def with_notify(document: dict[str, Any], notify: NotifyDemo) -> dict[str, Any]:
    """``document`` with Northfield sending every message through the Notify simulator."""
    for council in document["councils"]:
        if council["id"] == NOTIFY_COUNCIL:
            council["notifications"] = {
                "adapter": "govuk-notify",
                "settings": {
                    "api_key": {"from_env": NOTIFY_KEY_VARIABLE},
                    "base_url": notify.url,
                    "receipt_token": {"from_env": NOTIFY_RECEIPT_VARIABLE},
                },
                "templates": notify.templates,
                "staff_email": STAFF_EMAIL,
            }
    return document


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
    base = f"http://127.0.0.1:{port}"
    with ExitStack() as stack:
        drs_endpoint = stack.enter_context(drs_simulator())
        notify = stack.enter_context(notify_simulator(base))
        partners = partner_councils(stack, drs_endpoint)
        environ = {**os.environ, DRS_PASSWORD_VARIABLE: DRS_SIMULATOR_PASSWORD, **partners.environ}
        document = demo_document(drs_endpoint)
        document["councils"].extend(partners.councils)
        if notify is not None:
            document = with_notify(document, notify)
            environ |= {NOTIFY_KEY_VARIABLE: notify.api_key, NOTIFY_RECEIPT_VARIABLE: notify.receipt_token}
        config = parse_config(document, environ=environ)
        key = asyncio.run(prepare(settings, config))
        click.echo(f"repairs-gateway demo: councils {', '.join(sorted(config.councils))}")
        click.echo(f"Data in {folder} (SQLite; simulated councils and addresses)")
        if drs_endpoint:
            click.echo(f"Eastbrook is scheduled by the Kirona DRS simulator at {drs_endpoint}")
        for line in partners.lines:
            click.echo(line)
        if notify is not None:
            click.echo(
                f"Northfield sends its texts and emails through the GOV.UK Notify simulator at"
                f" {notify.url} (nothing reaches anyone); delivery receipts come back to"
                f" {base}/v1/callbacks/{NOTIFY_COUNCIL}/notifications"
            )
            click.echo(f"Messages: {notify.messages_url}")
        else:
            click.echo("Messages: in this log (the log sender: nothing is sent)")
        click.echo(f"Gateway: {base} (with a worker: bookings a backend could not take are retried)")
        click.echo(f"API key: {key}")
        click.echo(examples(base, key))
        app = create_app(settings, config, with_worker=True)
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")
