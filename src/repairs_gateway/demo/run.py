"""``repairs-gateway demo``: everything a first look needs, on 127.0.0.1, with no setup."""

from __future__ import annotations

import asyncio
import os
import secrets
import shlex
import signal
import socket
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from repairs_gateway.config.loader import GatewayConfig, parse_config
from repairs_gateway.demo.data import (
    TRYOUTS,
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
# The Northgate simulator's rate limit (calls a second before 429; 50 by default) in the
# demo: a live contract run against Netherholme sends hundreds a second, and each 429 is a
# 503 from the gateway and a warning in the log. The adaptor's own tests and
# `repairs-gateway simulate` keep the limit; the in-process contract target raises it too.
NORTHGATE_DEMO_RATE = 100_000
# With --base-port, each simulator listens on the base port plus its offset here.
SIMULATOR_OFFSETS = {
    "kirona-drs": 0,
    "civica-uh": 1,
    "northgate-housing": 2,
    "totalmobile": 3,
    "govuk-notify": 4,
}


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


@dataclass(frozen=True, slots=True)
class DemoKeys:
    """The API keys the demo issues: ``key``, a resident key for every council; ``other``, a
    resident key for ``OTHER_KEY_COUNCIL`` only, so a live contract run at Northfield has a
    key not issued for it (its 403 checks); ``staff``, a staff key for every council (the
    staff operations)."""

    key: str
    other: str
    staff: str


# The contract suite's README runs it live at Northfield with Southmoor as the other council.
OTHER_KEY_COUNCIL = "southmoor"


async def prepare(settings: Settings, config: GatewayConfig) -> DemoKeys:
    """Migrate the database, load the demo addresses and issue the demo's API keys."""
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.persistence.migrate import upgrade_async
    from repairs_gateway.services.clients import STAFF, create_client

    await upgrade_async(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        sessions = make_sessionmaker(engine)
        await load_addresses(sessions, demo_addresses(config.councils))
        return DemoKeys(
            key=await create_client(sessions, "demo", sorted(config.councils)),
            other=await create_client(sessions, f"demo, {OTHER_KEY_COUNCIL} only", [OTHER_KEY_COUNCIL]),
            # For every council, so the live contract run checks that retryRepair of a
            # Northfield reference is 404 under Southmoor (a staff key for Northfield alone
            # would get 403 there, which the suite accepts too), as the in-process run's
            # staff key (demo/contract_gateway.py) is for every council by default.
            staff=await create_client(sessions, "demo, staff", sorted(config.councils), scope=STAFF),
        )
    finally:
        await engine.dispose()


def council_lines(base: str, councils: list[str]) -> list[str]:
    """One line a council, ready to paste into a shell: the variables the README's requests
    use (``B``, ``POSTCODE``, ``UPRN``, ``TRIAGE``), and a comment saying what it runs on."""
    lines = []
    for council in councils:
        tryout = TRYOUTS.get(council)
        if tryout is None:
            continue
        assignments = {
            "B": f"{base}/v1/councils/{council}",
            "POSTCODE": tryout.postcode,
            "UPRN": tryout.uprn,
            "TRIAGE": tryout.triage_path,
        }
        line = " ".join(f"{name}={shlex.quote(value)}" for name, value in assignments.items())
        lines.append(f"  {line}  # {council}: {tryout.backends}")
    return lines


def examples(base: str, keys: DemoKeys, councils: list[str]) -> str:
    """What to paste into a shell to follow the README's requests (and to run the contract
    suite live, as contract_tests/README.md does), and where the spec is."""
    return "\n".join(
        [
            'To follow "The API in five requests" in README.md, paste into a shell:',
            f"  KEY={shlex.quote(keys.key)}",
            # Not needed by the README's requests: contract_tests/README.md's live run uses them.
            f"  OTHER_KEY={shlex.quote(keys.other)}  # {OTHER_KEY_COUNCIL} only:"
            f" contract-test --other-api-key, at any --council but {OTHER_KEY_COUNCIL}",
            f"  STAFF_KEY={shlex.quote(keys.staff)}  # staff, every council: contract-test --staff-api-key",
            "and then one council's line:",
            *council_lines(base, councils),
            f"The standard: {base}/v1/openapi.yaml",
        ]
    )


class PortTaken(click.ClickException):
    """A port the demo was told to use is not free: which, for what, and what to do."""

    def __init__(self, port: int, what: str, option: str, reason: str) -> None:
        super().__init__(f"port {port} ({what}) cannot be used: {reason}. Choose another {option}.")


@contextmanager
def serve_simulator(app: object, name: str, port: int) -> Iterator[str]:
    """Serve a simulator on ``port`` (0: a free one); a taken port is a clear error."""
    from repairs_gateway.serving import serve_asgi

    with ExitStack() as stack:
        try:
            url = stack.enter_context(serve_asgi(app, name=f"{name} simulator", port=port))
        except OSError as exc:
            raise PortTaken(port, f"the {name} simulator", "--base-port", exc.strerror or str(exc)) from exc
        yield url


def simulator_port(base_port: int | None, name: str) -> int:
    """The port the simulator ``name`` is to use: 0 (a free one) without a base port."""
    return 0 if base_port is None else base_port + SIMULATOR_OFFSETS[name]


@contextmanager
def drs_simulator(base_port: int | None = None) -> Iterator[str | None]:
    """Serve the Kirona DRS simulator if its adaptor is installed; yields its endpoint."""
    with simulator("kirona-drs", base_port) as url:
        yield None if url is None else url + DRS_PATH


@contextmanager
def simulator(
    name: str, base_port: int | None = None, settings: Mapping[str, str] | None = None
) -> Iterator[str | None]:
    """Serve the simulator of the adaptor ``name`` if it is installed, with its own
    ``settings`` (as ``repairs-gateway simulate --set`` gives them); yields its URL."""
    from repairs_gateway.ports import SimulatorOptions
    from repairs_gateway.registry import discover_plugins

    plugin = discover_plugins().get(name)
    if plugin is None or plugin.simulator is None:
        yield None
        return
    app = plugin.simulator(SimulatorOptions(settings=settings or {})).app
    with serve_simulator(app, name, simulator_port(base_port, name)) as url:
        yield url


def partner_councils(stack: ExitStack, drs_endpoint: str | None, base_port: int | None = None) -> Partners:
    """Start the simulators of the partner councils whose adaptors are installed (each
    stays up until ``stack`` closes) and wire a demo council to them. Larchford books in the
    DRS simulator already serving Eastbrook."""
    partners = Partners()
    uh = stack.enter_context(simulator("civica-uh", base_port))
    if uh and drs_endpoint:
        partners.councils.append(council_from_template("larchford-council.yaml", uh=uh, drs=drs_endpoint))
        partners.environ[UH_PASSWORD_VARIABLE] = UH_SIMULATOR_PASSWORD
        partners.lines.append(
            f"Larchford (postcode UH1 1AB): properties, works orders and alerts in the Civica UH"
            f" simulator at {uh}/UHWebServices, appointments in the Kirona DRS simulator"
        )
    northgate = stack.enter_context(
        simulator("northgate-housing", base_port, {"requests_per_second": str(NORTHGATE_DEMO_RATE)})
    )
    totalmobile = stack.enter_context(simulator("totalmobile", base_port))
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
def notify_simulator(gateway_base: str, base_port: int | None = None) -> Iterator[NotifyDemo | None]:
    """Serve the GOV.UK Notify simulator if its adaptor is installed, its delivery receipts
    going to the demo gateway's callback for Northfield; yields where it is and what to
    configure. Without the adaptor, None: the councils keep the log sender."""
    import httpx

    from repairs_gateway.config.schema import MESSAGE_KINDS
    from repairs_gateway.ports import SimulatorOptions
    from repairs_gateway.registry import discover_plugins

    plugin = discover_plugins().get("govuk-notify")
    if plugin is None or plugin.simulator is None:
        yield None
        return
    app = plugin.simulator(SimulatorOptions()).app
    with serve_simulator(app, "govuk-notify", simulator_port(base_port, "govuk-notify")) as url:
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


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # SystemExit unwinds the demo's ExitStack, so a `kill` cleans up as Ctrl-C does.
    raise SystemExit(128 + signum)


def _terminate_on_sighup(signum: int, frame: object) -> None:
    # A closed terminal stops the demo as a `kill` does: uvicorn, serving, shuts down
    # gracefully on SIGTERM before the demo cleans up; uvicorn does not handle SIGHUP.
    signal.raise_signal(signal.SIGTERM)


def gateway_socket(port: int) -> socket.socket:
    """The gateway's listening socket, bound before anything starts so a taken port is a
    clear error at once rather than after the simulators and the database are ready."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(("127.0.0.1", port))
        # Listening at once keeps the port from a simulator given the same one by --base-port
        # (a bound socket that is not listening would let it bind too); connections wait.
        sock.listen()
    except OSError as exc:
        sock.close()
        raise PortTaken(port, "the gateway", "--port", exc.strerror or str(exc)) from exc
    return sock


def run_demo(port: int, data_dir: Path | None, base_port: int | None = None) -> None:
    """Prepare the demo and serve it until interrupted (Ctrl-C, SIGTERM or SIGHUP). Without
    ``data_dir`` the database is in a temporary folder, deleted when the demo stops. With
    ``base_port`` the simulators listen on it and the ports after it, in the order of
    ``SIMULATOR_OFFSETS``; otherwise on free ports."""
    handlers = {signal.SIGTERM: _exit_on_sigterm, signal.SIGHUP: _terminate_on_sighup}
    previous = {signum: signal.signal(signum, handler) for signum, handler in handlers.items()}
    try:
        with ExitStack() as stack:
            _run_demo(stack, port, data_dir, base_port)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def _run_demo(stack: ExitStack, port: int, data_dir: Path | None, base_port: int | None) -> None:
    import uvicorn

    from repairs_gateway import logs
    from repairs_gateway import server as edges
    from repairs_gateway.api.app import create_app
    from repairs_gateway.web.demo_sites import resident_sites

    sock = stack.enter_context(gateway_socket(port))
    if data_dir is None:
        # Entered before the simulators and the gateway, so removed after they have stopped.
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="repairs-gateway-demo-")))
        kept = "deleted when the demo stops"
    else:
        folder = data_dir
        folder.mkdir(parents=True, exist_ok=True)
        kept = "kept after the demo stops"
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'demo.db'}",
        config_file=demo_config_path(),
        token_secret=secrets.token_urlsafe(48),
    )
    base = f"http://127.0.0.1:{port}"
    drs_endpoint = stack.enter_context(drs_simulator(base_port))
    notify = stack.enter_context(notify_simulator(base, base_port))
    partners = partner_councils(stack, drs_endpoint, base_port)
    environ = {**os.environ, DRS_PASSWORD_VARIABLE: DRS_SIMULATOR_PASSWORD, **partners.environ}
    document = demo_document(drs_endpoint)
    document["councils"].extend(partners.councils)
    if notify is not None:
        document = with_notify(document, notify)
        environ |= {NOTIFY_KEY_VARIABLE: notify.api_key, NOTIFY_RECEIPT_VARIABLE: notify.receipt_token}
    config = parse_config(document, environ=environ)
    keys = asyncio.run(prepare(settings, config))
    click.echo(f"repairs-gateway demo: councils {', '.join(sorted(config.councils))}")
    click.echo(f"Data in {folder} (SQLite, {kept}; simulated councils and addresses)")
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
    # A resident site per council, calling the gateway's public API as any front-end would.
    for line in stack.enter_context(resident_sites(base, keys.key, sorted(config.councils), base_port)):
        click.echo(line)
    click.echo(f"Gateway: {base} (with a worker: bookings a backend could not take are retried)")
    click.echo(f"API key: {keys.key}")
    click.echo(examples(base, keys, list(config.councils)))
    app = create_app(settings, config, with_worker=True)
    # The gateway's lines with time, level and request id, as `serve` writes them; warnings
    # only unless LOG_LEVEL says otherwise, so the demo's output stays its instructions.
    logs.configure(os.environ.get("REPAIRS_GATEWAY_LOG_LEVEL", "WARNING"), settings.log_format)
    # The edges `serve` has: oversized headers (431), slow clients and too many connections
    # are answered with problem documents, as the README says of the gateway.
    limits = edges.EdgeLimits.from_settings(settings)
    edges.configure(limits)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            log_config=None,
            **edges.uvicorn_options(limits),
        )
    )
    server.run(sockets=[sock])
