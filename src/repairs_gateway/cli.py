"""The ``repairs-gateway`` command."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click

from repairs_gateway.config.loader import ConfigError, GatewayConfig, load_config
from repairs_gateway.contract.command import contract_test
from repairs_gateway.domain.tokens import TokenSigner
from repairs_gateway.settings import Settings


def _settings() -> Settings:
    return Settings()


def _logging(settings: Settings) -> None:
    """Log lines with time and level, at the configured level."""
    import logging

    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


@click.group()
@click.version_option(package_name="repairs-gateway")
def main() -> None:
    """repairs-gateway: the Repairs API v1 for UK council housing repairs.

    Settings come from REPAIRS_GATEWAY_* environment variables (DATABASE_URL, CONFIG_FILE,
    TOKEN_SECRET, ...); see the README.
    """


def _config(settings: Settings) -> GatewayConfig:
    try:
        return load_config(settings.config_file)
    except ConfigError as exc:
        _fail("The councils file is not valid:\n" + "\n".join(f"  {p}" for p in exc.problems))
        raise  # unreachable: _fail exits


def _signer(settings: Settings) -> TokenSigner:
    try:
        return TokenSigner(settings.token_secret.get_secret_value())
    except ValueError as exc:
        _fail(f"Cannot start: {exc} (set REPAIRS_GATEWAY_TOKEN_SECRET)")
        raise  # unreachable: _fail exits


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--with-worker",
    is_flag=True,
    help="Run a worker in this process too (settles crashed changes, books repairs whose "
    "backend was down). Without it, run `repairs-gateway worker` beside the gateway.",
)
def serve(host: str, port: int, with_worker: bool) -> None:
    """Serve the gateway for the councils in the configured file."""
    import uvicorn

    from repairs_gateway.api.app import create_app

    settings = _settings()
    _logging(settings)
    _signer(settings)
    app = create_app(settings, _config(settings), with_worker=with_worker)
    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower())


@main.command()
@click.option("--once", is_flag=True, help="Run the jobs due now, then exit.")
def worker(once: bool) -> None:
    """Run the job queue: settle changes whose process died, book repairs whose backend was
    down once it answers, withdraw what failed changes left behind. Several workers may share
    one PostgreSQL; on SQLite run one."""
    import signal

    from repairs_gateway.assembly import assembled
    from repairs_gateway.metrics import Metrics
    from repairs_gateway.worker.runner import Worker

    settings = _settings()
    _logging(settings)
    config, signer = _config(settings), _signer(settings)

    async def run() -> None:
        async with assembled(settings, config, signer, Metrics()) as parts:
            runner = Worker(parts)
            if once:
                ran = await runner.run_until_idle()
                click.echo(f"ran {ran} job(s)")
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await runner.run(stop)

    asyncio.run(run())


@main.command()
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--data-dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Where to keep the demo database (default: a new temporary folder).",
)
def demo(port: int, data_dir: Path | None) -> None:
    """Run the gateway on 127.0.0.1 with demo councils, addresses and calendars."""
    from repairs_gateway.demo.run import run_demo

    run_demo(port, data_dir)


@main.group()
def db() -> None:
    """Database schema."""


@db.command()
def upgrade() -> None:
    """Apply every migration to the configured database."""
    from repairs_gateway.persistence.migrate import upgrade as run_upgrade

    run_upgrade(_settings().database_url)
    click.echo("database is up to date")


@main.command("check-config")
@click.argument("file", type=click.Path(path_type=Path), required=False)
def check_config(file: Path | None) -> None:
    """Validate a councils file (default: REPAIRS_GATEWAY_CONFIG_FILE)."""
    path = file or _settings().config_file
    try:
        config = load_config(path)
    except ConfigError as exc:
        _fail(f"{path} is not valid:\n" + "\n".join(f"  {p}" for p in exc.problems))
    names = ", ".join(sorted(config.councils))
    click.echo(f"{path} is valid: {len(config.councils)} council(s): {names}")


@main.group()
def clients() -> None:
    """API clients (council front-ends)."""


@clients.command("create")
@click.option("--council", "councils", multiple=True, required=True, help="A council id; repeatable.")
@click.option("--name", required=True, help="Who the key is for.")
def clients_create(councils: tuple[str, ...], name: str) -> None:
    """Create an API client and print its key (shown once; only a hash is stored)."""
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.services.clients import create_client

    settings = _settings()
    try:
        known = load_config(settings.config_file).councils
    except ConfigError as exc:
        _fail("The councils file is not valid:\n" + "\n".join(f"  {p}" for p in exc.problems))
    unknown = sorted(set(councils) - set(known))
    if unknown:
        _fail(f"--council: no such council in {settings.config_file}: {', '.join(unknown)}")

    async def create() -> str:
        engine = make_engine(settings.database_url)
        try:
            return await create_client(make_sessionmaker(engine), name, list(councils))
        finally:
            await engine.dispose()

    key = asyncio.run(create())
    click.echo(f"API key: {key}")
    click.echo("Keep it now: it cannot be shown again.", err=True)


@main.group()
def addresses() -> None:
    """The built-in address register."""


@addresses.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--council", required=True, help="The council the addresses belong to.")
def addresses_import(file: Path, council: str) -> None:
    """Add or replace addresses from a CSV (uprn, address_line_1..4, postcode, kind, property_ref)."""
    from repairs_gateway.builtin.address_register import CsvImportError, import_csv
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker

    settings = _settings()

    text = file.read_text(encoding="utf-8-sig")

    async def run() -> int:
        engine = make_engine(settings.database_url)
        try:
            result = await import_csv(make_sessionmaker(engine), council, text)
            return result.imported
        finally:
            await engine.dispose()

    try:
        count = asyncio.run(run())
    except CsvImportError as exc:
        _fail(f"{file}: nothing imported:\n" + "\n".join(f"  {p}" for p in exc.problems))
    click.echo(f"imported {count} address(es) for council {council}")


@main.command()
@click.argument("adapter")
@click.option("--port", default=8100, show_default=True, type=int)
@click.option("--latency-ms", default=0.0, show_default=True, type=float)
@click.option("--fail-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option("--seed", default=None, type=int)
def simulate(adapter: str, port: int, latency_ms: float, fail_rate: float, seed: int | None) -> None:
    """Run the simulator an adaptor ships, on 127.0.0.1."""
    import uvicorn

    from repairs_gateway.ports import SimulatorOptions
    from repairs_gateway.registry import discover_plugins

    plugins = discover_plugins()
    with_simulators = sorted(name for name, p in plugins.items() if p.simulator)
    plugin = plugins.get(adapter)
    if plugin is None or plugin.simulator is None:
        _fail(f"no simulator for {adapter!r}; installed: {', '.join(with_simulators) or 'none'}")
        return
    backend = plugin.simulator(SimulatorOptions(latency_ms, fail_rate, seed))
    click.echo(backend.describe(f"http://127.0.0.1:{port}"))
    uvicorn.run(backend.app, host="127.0.0.1", port=port, log_level="warning")


main.add_command(contract_test)

if __name__ == "__main__":
    main()
