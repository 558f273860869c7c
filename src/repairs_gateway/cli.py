"""The ``repairs-gateway`` command."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import click

from repairs_gateway.config.loader import ConfigError, GatewayConfig, load_config
from repairs_gateway.contract.command import contract_test
from repairs_gateway.domain.tokens import TokenSigner
from repairs_gateway.settings import Settings
from repairs_gateway.web.command import web

if TYPE_CHECKING:
    from repairs_gateway.services.staff import Retried, StaffRepair, StaffService

UTC_ZONE = ZoneInfo("UTC")


def _settings() -> Settings:
    return Settings()


def _logging(settings: Settings) -> None:
    """Log lines with time, level and the request's context, at the configured level: JSON
    when stderr is not a terminal, readable text on one (``LOG_FORMAT`` overrides)."""
    from repairs_gateway import logs

    logs.configure(settings.log_level, settings.log_format)


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


def _require_current_database(settings: Settings) -> None:
    """Stop, saying to run ``db upgrade``, when the database is not at this version's newest
    migration: a command on it would otherwise fail on a missing table with a long SQL trace."""
    from repairs_gateway.persistence.db import make_engine
    from repairs_gateway.persistence.migrate import behind_by

    async def check() -> str | None:
        engine = make_engine(settings.database_url)
        try:
            return await behind_by(engine)
        finally:
            await engine.dispose()

    problem = asyncio.run(check())
    if problem is not None:
        _fail(f"Cannot use the database: {problem}. Run `repairs-gateway db upgrade` first.")


CONFIG_VARIABLE = "REPAIRS_GATEWAY_CONFIG_FILE"


def _missing_default(path: Path, given: Path | None, how_to_name: str) -> str | None:
    """Why there is no councils file, when none was named and the default is not there: a
    bare "councils.yaml: cannot read" does not say that nobody asked for that file."""
    if given is not None or os.environ.get(CONFIG_VARIABLE) or path.exists():
        return None
    return (
        f"No councils file: none was given, and the default, {path} in the current directory"
        f" ({Path.cwd()}), does not exist. {how_to_name}"
    )


def _config(settings: Settings) -> GatewayConfig:
    missing = _missing_default(settings.config_file, None, f"Set {CONFIG_VARIABLE} to its path.")
    if missing is not None:
        _fail(missing)
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
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Gateway processes sharing the port. The gateway keeps no state in a process, so "
    "any number serve the same answers; about one per core.",
)
@click.option(
    "--with-worker",
    is_flag=True,
    help="Run one queue worker too (settles crashed changes, books repairs whose backend was "
    "down): in this process, or beside the N processes of --workers N. Without it, run "
    "`repairs-gateway worker` beside the gateway.",
)
@click.option(
    "--access-log/--no-access-log",
    default=True,
    show_default=True,
    help="A log line per request (uvicorn's), in the gateway's log format with method, path, "
    "status and the request id; --no-access-log leaves only the gateway's own lines.",
)
def serve(host: str, port: int, workers: int, with_worker: bool, access_log: bool) -> None:
    """Serve the gateway for the councils in the configured file."""
    import subprocess

    import uvicorn

    from repairs_gateway import logs
    from repairs_gateway import server as edges
    from repairs_gateway.api.app import create_app

    settings = _settings()
    _logging(settings)
    _signer(settings)
    config = _config(settings)  # checked here, so a bad file fails once with its problems
    # Before the listener opens, so that the --workers processes inherit the raised limit.
    edges.raise_open_file_limit()
    limits = edges.EdgeLimits.from_settings(settings)
    edges.configure(limits)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": settings.log_level.lower(),
        "access_log": access_log,
        # uvicorn's lines (the access log too) in the gateway's format, in every process.
        "log_config": logs.dict_config(settings.log_level, settings.log_format),
        **edges.uvicorn_options(limits),
    }
    if workers == 1:
        uvicorn.run(create_app(settings, config, with_worker=with_worker), **options)
        return
    # Each process builds its own app from the environment. The queue worker is one process
    # of its own, not one per gateway process: N of them would only compete for the queue.
    queue_worker = (
        subprocess.Popen([sys.executable, "-m", "repairs_gateway.cli", "worker"]) if with_worker else None
    )
    try:
        uvicorn.run("repairs_gateway.api.app:app_from_environment", factory=True, workers=workers, **options)
    finally:
        if queue_worker is not None:
            queue_worker.terminate()
            queue_worker.wait(timeout=30)


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
    help="Where to keep the demo database (default: a temporary folder, deleted when the demo stops).",
)
@click.option(
    "--base-port",
    type=click.IntRange(1, 65535 - 4),
    default=None,
    help="Pin the simulators' ports: Kirona DRS on this one, then Civica UH, Northgate,"
    " Totalmobile and GOV.UK Notify on the next four (default: free ports).",
)
def demo(port: int, data_dir: Path | None, base_port: int | None) -> None:
    """Run the gateway on 127.0.0.1 with demo councils, addresses and calendars."""
    from repairs_gateway.demo.run import run_demo

    run_demo(port, data_dir, base_port)


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
@click.option(
    "--offline",
    is_flag=True,
    help="Read no secret: check everything else, and list the secrets not checked.",
)
def check_config(file: Path | None, offline: bool) -> None:
    """Check a councils file (default: REPAIRS_GATEWAY_CONFIG_FILE): its fields, each
    adaptor's settings, that each secret is set in the environment, that every triage job
    and SoR code reaches a scheduler for its trade, and that every trade named is known.
    Every problem is listed, naming the council, the scheduler or the triage path."""
    path = file or _settings().config_file
    missing = _missing_default(
        path, file, f"Name one (repairs-gateway check-config FILE), or set {CONFIG_VARIABLE}."
    )
    if missing is not None:
        _fail(missing)
    try:
        config = load_config(path, offline=offline)
    except ConfigError as exc:
        _fail(f"{path} is not valid:\n" + "\n".join(f"  {p}" for p in exc.problems) + _skipped(exc.skipped))
        raise  # unreachable: _fail exits
    names = ", ".join(sorted(config.councils))
    click.echo(f"{path} is valid: {len(config.councils)} council(s): {names}{_skipped(config.skipped)}")


def _skipped(skipped: Sequence[str]) -> str:
    """The lines saying what an offline check did not check ("" when nothing)."""
    if not skipped:
        return ""
    return "\nNot checked (--offline):\n" + "\n".join(f"  {line}" for line in skipped)


@main.group()
def clients() -> None:
    """API clients (council front-ends)."""


@clients.command("create")
@click.option("--council", "councils", multiple=True, required=True, help="A council id; repeatable.")
@click.option("--name", required=True, help="Who the key is for.")
@click.option(
    "--scope",
    type=click.Choice(["resident", "staff"]),
    default="resident",
    show_default=True,
    help="resident: a front-end for residents. staff: also lists repairs and retries failed work.",
)
def clients_create(councils: tuple[str, ...], name: str, scope: str) -> None:
    """Create an API client and print its key (shown once; only a hash is stored)."""
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.services.clients import create_client

    settings = _settings()
    _require_current_database(settings)
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
            return await create_client(make_sessionmaker(engine), name, list(councils), scope)
        finally:
            await engine.dispose()

    key = asyncio.run(create())
    click.echo(f"API key: {key}")
    click.echo("Keep it now: it cannot be shown again.", err=True)


@clients.command("list")
def clients_list() -> None:
    """Every API client: id, scope, councils, when created and when revoked (never a key)."""
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.services.clients import ClientRow, list_clients

    settings = _settings()
    _require_current_database(settings)

    async def read() -> Sequence[ClientRow]:
        engine = make_engine(settings.database_url)
        try:
            return await list_clients(make_sessionmaker(engine))
        finally:
            await engine.dispose()

    for row in asyncio.run(read()):
        revoked = f"revoked {row.revoked_at:%Y-%m-%d %H:%M}Z" if row.revoked_at else "active"
        click.echo(
            f"{row.client_id}\t{row.name}\t{row.scope}\t{','.join(row.councils)}\t"
            f"created {row.created_at:%Y-%m-%d %H:%M}Z\t{revoked}"
        )


@clients.command("revoke")
@click.argument("client_id", type=int)
def clients_revoke(client_id: int) -> None:
    """Refuse a client's key from now on (its id is in `clients list`). A running gateway
    refuses it within REPAIRS_GATEWAY_API_KEY_CACHE_SECONDS."""
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.services.clients import revoke_client

    settings = _settings()
    _require_current_database(settings)

    async def revoke() -> bool:
        engine = make_engine(settings.database_url)
        try:
            return await revoke_client(make_sessionmaker(engine), client_id)
        finally:
            await engine.dispose()

    if not asyncio.run(revoke()):
        _fail(f"no API client with id {client_id} (see `repairs-gateway clients list`)")
    click.echo(
        f"revoked API client {client_id}; running gateways refuse its key within "
        f"{settings.api_key_cache_seconds:g} s"
    )


@main.group()
def addresses() -> None:
    """The built-in address register."""


@addresses.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--council", required=True, help="The council the addresses belong to.")
def addresses_import(file: Path, council: str) -> None:
    """Add or replace addresses from a CSV (uprn, address_line_1..4, postcode, kind, property_ref).

    Rows that break a rule are listed with their line numbers and left out; the others are
    imported. Exit status: 0 when every row was imported, 3 when some were rejected (the
    rest are imported), 1 when nothing was (a bad header, a file that is not UTF-8).
    """
    import io

    from repairs_gateway.builtin.address_import import MAX_REPORTED, ImportReport, import_addresses
    from repairs_gateway.builtin.address_register import CsvImportError
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.progress import Progress

    settings = _settings()
    _require_current_database(settings)
    if council not in _config(settings).councils:
        _fail(f"--council: no such council in {settings.config_file}: {council}")

    async def run(lines: io.TextIOWrapper, progress: Progress) -> ImportReport:
        engine = make_engine(settings.database_url)
        try:
            return await import_addresses(make_sessionmaker(engine), council, lines, progress=progress.update)
        finally:
            await engine.dispose()

    # Read as the import goes, never whole: a national register is gigabytes.
    with file.open("rb") as raw:
        progress = Progress(sys.stdout, total=file.stat().st_size, done=raw.tell)
        try:
            report = asyncio.run(run(io.TextIOWrapper(raw, encoding="utf-8-sig", newline=""), progress))
        except CsvImportError as exc:
            _fail(f"{file}: nothing imported:\n" + "\n".join(f"  {p}" for p in exc.problems))
        except UnicodeDecodeError as exc:
            _fail(f"{file}: nothing imported: not UTF-8 ({exc.reason} before byte {raw.tell():,})")
        progress.finish(report.imported + report.rejected_count)
    click.echo(f"imported {report.imported} address(es) for council {council}")
    if report.rejected_count:
        listed = "\n".join(f"  {p}" for p in report.problems)
        more = report.rejected_count - len(report.rejected)
        if more:
            listed += f"\n  ... and {more} more (only the first {MAX_REPORTED} are listed)"
        click.echo(f"{file}: rejected {report.rejected_count} row(s), not imported:\n{listed}", err=True)
        sys.exit(3)


def _simulator_settings(
    _context: click.Context, _param: click.Parameter, given: tuple[str, ...]
) -> dict[str, str]:
    """``--set KEY=VALUE`` (repeated) as a mapping; a key given twice is refused, since
    which of the two was meant cannot be told."""
    settings: dict[str, str] = {}
    for item in given:
        key, equals, value = item.partition("=")
        key = key.strip()
        if not equals or not key:
            raise click.BadParameter(f"{item!r} is not KEY=VALUE")
        if key in settings:
            raise click.BadParameter(f"{key} is given twice")
        settings[key] = value
    return settings


@main.command()
@click.argument("adapter")
@click.option("--port", default=8100, show_default=True, type=int)
@click.option("--latency-ms", default=0.0, show_default=True, type=float)
@click.option("--fail-rate", default=0.0, show_default=True, type=click.FloatRange(0, 1))
@click.option("--seed", default=None, type=int)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    callback=_simulator_settings,
    help=(
        "A setting of this adaptor's simulator (repeatable); see the adaptor's README. "
        "northgate-housing: requests_per_second (default 50; calls a second before 429); "
        "totalmobile: token_lifetime_seconds (default 3600). The others take none yet. "
        "An unknown key or a bad value is refused, naming the keys accepted."
    ),
)
def simulate(
    adapter: str, port: int, latency_ms: float, fail_rate: float, seed: int | None, settings: dict[str, str]
) -> None:
    """Run the simulator an adaptor ships, on 127.0.0.1.

    \b
    e.g. repairs-gateway simulate northgate-housing --set requests_per_second=1000
    """
    import uvicorn

    from repairs_gateway.ports import SimulatorOptions, SimulatorSettingError
    from repairs_gateway.registry import discover_plugins

    plugins = discover_plugins()
    with_simulators = sorted(name for name, p in plugins.items() if p.simulator)
    plugin = plugins.get(adapter)
    if plugin is None or plugin.simulator is None:
        _fail(f"no simulator for {adapter!r}; installed: {', '.join(with_simulators) or 'none'}")
        return
    try:
        backend = plugin.simulator(SimulatorOptions(latency_ms, fail_rate, seed, settings))
    except SimulatorSettingError as exc:
        # A usage error (exit 2), as a bad value of any other option is.
        raise click.BadParameter(f"the {adapter} simulator: {exc}", param_hint="'--set'") from exc
    click.echo(backend.describe(f"http://127.0.0.1:{port}"))
    uvicorn.run(backend.app, host="127.0.0.1", port=port, log_level="warning")


# ------------------------------------------------------------------ staff: repairs and jobs


@asynccontextmanager
async def _staff(settings: Settings) -> AsyncIterator[StaffService]:
    """The staff use cases on the configured database (the same code as the API's)."""
    import secrets as _secrets
    from datetime import timedelta

    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.persistence.queue import Backoff, JobQueue
    from repairs_gateway.persistence.repair_store import RepairStore
    from repairs_gateway.services.staff import StaffService

    secret = settings.token_secret.get_secret_value()
    # Listing cursors stay inside this command, so any key signs them when none is set.
    signer = TokenSigner(secret if len(secret) >= 32 else _secrets.token_urlsafe(32))
    engine = make_engine(settings.database_url)
    try:
        sessions = make_sessionmaker(engine)
        store = RepairStore(sessions, timedelta(seconds=settings.lease_seconds))
        queue = JobQueue(sessions, Backoff(settings.retry_base_seconds, settings.retry_cap_seconds))
        yield StaffService(store, queue, sessions, signer)
    finally:
        await engine.dispose()


def _council_zone(settings: Settings, council: str) -> ZoneInfo:
    councils = _config(settings).councils
    if council not in councils:
        _fail(f"--council: no such council in {settings.config_file}: {council}")
    return ZoneInfo(councils[council].spec.timezone)


def _age(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes}m"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours}h{minutes:02d}m"
    days, hours = divmod(hours, 24)
    return f"{days}d{hours:02d}h"


def _when(value: datetime | None, zone: ZoneInfo) -> str:
    if value is None:
        return "-"
    if value <= datetime.now(UTC):
        return "now"
    return value.astimezone(zone).strftime("%d %b %H:%M")


def _clip(text: str | None, width: int = 70) -> str:
    text = " ".join((text or "-").split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    lines = [header, *rows]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True)).rstrip()
        for line in lines
    )


def _repair_line(item: StaffRepair, zone: ZoneInfo) -> list[str]:
    job = item.job
    queued = job is not None and job.state == "queued"
    return [
        item.row.reference,
        item.row.status,
        _age(item.age_seconds),
        f"{job.kind} {job.state} x{job.attempts}" if job is not None else "-",
        _when(job.run_after if queued and job is not None else None, zone),
        _clip((job.last_error if job is not None and job.last_error else None) or item.row.backend_note),
    ]


REPAIR_COLUMNS = ["REFERENCE", "STATUS", "AGE", "ATTEMPTS", "NEXT TRY", "LAST ERROR"]


@main.group()
def repairs() -> None:
    """Repairs, as a council's staff see them (reads REPAIRS_GATEWAY_DATABASE_URL)."""


@repairs.command("list")
@click.option("--council", required=True, help="The council whose repairs to list.")
@click.option(
    "--status",
    "statuses",
    multiple=True,
    help="received, booking, booked, in_progress, completed, cancelled or needs_attention; "
    "repeatable or comma-separated (default: every status).",
)
@click.option(
    "--older-than-minutes", type=click.IntRange(0), default=None, help="Only repairs older than this."
)
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True, help="At most this many.")
def repairs_list(council: str, statuses: tuple[str, ...], older_than_minutes: int | None, limit: int) -> None:
    """A council's repairs, oldest first: status, age, the newest job's attempts and next
    try, and the last backend error."""
    from repairs_gateway.domain.errors import DomainError
    from repairs_gateway.services.staff import MAX_LIMIT

    settings = _settings()
    _require_current_database(settings)
    zone = _council_zone(settings, council)

    async def run() -> tuple[list[StaffRepair], bool]:
        found: list[StaffRepair] = []
        cursor: str | None = None
        async with _staff(settings) as staff:
            while len(found) < limit:
                page = await staff.list_repairs(
                    council, statuses, older_than_minutes, cursor, min(MAX_LIMIT, limit - len(found))
                )
                found.extend(page.repairs)
                cursor = page.next_cursor
                if cursor is None:
                    break
        return found, cursor is not None

    try:
        found, more = asyncio.run(run())
    except DomainError as exc:
        _fail(f"--{exc.field or 'status'}: {exc.message}")
        return
    if not found:
        click.echo("no repairs match")
        return
    click.echo(_table(REPAIR_COLUMNS, [_repair_line(item, zone) for item in found]))
    if more:
        click.echo(f"... more repairs match: raise --limit (now {limit})", err=True)


@repairs.command("retry")
@click.argument("reference")
@click.option("--council", required=True, help="The council the repair belongs to.")
def repairs_retry(reference: str, council: str) -> None:
    """Queue a repair's failed work again (dead jobs), or a booking into the window its
    resident asked for; the worker carries it out."""
    from repairs_gateway.domain.errors import DomainError
    from repairs_gateway.domain.references import InvalidReference, parse_reference

    settings = _settings()
    _require_current_database(settings)
    zone = _council_zone(settings, council)
    try:
        parsed = parse_reference(reference)
    except InvalidReference as exc:
        _fail(f"{reference}: {exc}")
        return

    async def run() -> Retried:
        async with _staff(settings) as staff:
            return await staff.retry(council, parsed)

    try:
        retried = asyncio.run(run())
    except DomainError as exc:
        _fail(f"{parsed}: {exc.message}")
        return
    click.echo(f"{parsed}: {retried.action}")
    click.echo(_table(REPAIR_COLUMNS, [_repair_line(retried.repair, zone)]))


@main.group()
def jobs() -> None:
    """The worker's job queue (reads REPAIRS_GATEWAY_DATABASE_URL)."""


@jobs.command("list")
@click.option("--state", type=click.Choice(["queued", "running", "done", "dead"]), default=None)
@click.option("--limit", type=click.IntRange(1), default=100, show_default=True)
def jobs_list(state: str | None, limit: int) -> None:
    """Jobs, newest first: kind, state, council and repair, attempts, next try, last error."""
    settings = _settings()
    _require_current_database(settings)

    async def run() -> list[Any]:
        async with _staff(settings) as staff:
            return await staff.jobs(state, limit)

    found = asyncio.run(run())
    if not found:
        click.echo("no jobs" + (f" in state {state}" if state else ""))
        return
    rows = [
        [
            str(job.id),
            job.kind,
            job.state,
            job.council_id or "-",
            str(job.repair_id) if job.repair_id is not None else "-",
            f"{job.attempts}/{job.max_attempts}",
            _when(job.run_after if job.state == "queued" else None, UTC_ZONE),
            _clip(job.last_error),
        ]
        for job in found
    ]
    header = ["ID", "KIND", "STATE", "COUNCIL", "REPAIR", "ATTEMPTS", "NEXT TRY (UTC)", "LAST ERROR"]
    click.echo(_table(header, rows))


main.add_command(contract_test)
main.add_command(web)

if __name__ == "__main__":
    main()
