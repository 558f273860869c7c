"""The gateway itself, served on 127.0.0.1 for one contract target: a fresh SQLite
database, the target's councils and addresses, and API keys to test with. The contract
suite's in-process matrix finds ``serve_gateway`` through the entry point group
``repairs_gateway.contract_gateway`` (the suite's package imports nothing of the app).

The gateway runs in a child process of its own: in a thread of the test process, client
and server would take turns on one interpreter lock and every request would wait for it.
This module imports the application and its database (in the child); the live runner never
does."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import queue
import secrets
import socket
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.contract.targets import ContractTarget, TargetEnvironment
from repairs_gateway.serving import STARTUP_SECONDS

STOP_SECONDS = 10.0


async def _prepare(
    database_url: str,
    addresses: Mapping[str, str],
    councils: list[str],
    other: str | None,
    staff_councils: list[str] | None = None,
) -> tuple[str, str | None, str]:
    """Migrate, import the addresses, and issue three keys: one for every council, one for
    the other council only (which must get 403 at the council under test), and a staff key
    for ``staff_councils`` (default: every council), for the staff operations."""
    from repairs_gateway.demo.data import load_addresses
    from repairs_gateway.persistence.db import make_engine, make_sessionmaker
    from repairs_gateway.persistence.migrate import upgrade_async
    from repairs_gateway.services.clients import create_client

    await upgrade_async(database_url)
    engine = make_engine(database_url)
    try:
        sessions = make_sessionmaker(engine)
        await load_addresses(sessions, addresses)
        key = await create_client(sessions, "contract suite", councils)
        other_key = await create_client(sessions, "contract suite, other council", [other]) if other else None
        staff_key = await create_client(
            sessions, "contract suite, staff", staff_councils or councils, scope="staff"
        )
        return key, other_key, staff_key
    finally:
        await engine.dispose()


def _serve(
    ready: Any,
    councils: Mapping[str, Any],
    environ: Mapping[str, str],
    addresses: Mapping[str, str],
    other: str | None,
    folder: str,
    staff_councils: list[str] | None,
) -> None:
    """The child process: build the gateway, report its port and keys, serve until stopped."""
    try:
        import uvicorn

        # Refused bookings are expected by the thousand here; errors still show.
        logging.getLogger("repairs_gateway").setLevel(logging.ERROR)

        from repairs_gateway.api.app import create_app
        from repairs_gateway.config.loader import parse_config
        from repairs_gateway.settings import Settings

        config = parse_config(councils, environ={**os.environ, **environ})
        settings = Settings(
            database_url=f"sqlite+aiosqlite:///{Path(folder) / 'contract.db'}",
            config_file=Path(folder) / "councils.yaml",
            token_secret=secrets.token_urlsafe(48),
        )
        key, other_key, staff_key = asyncio.run(
            _prepare(settings.database_url, addresses, sorted(config.councils), other, staff_councils)
        )
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Accepted connections inherit this: without it, keep-alive requests wait on delayed ACKs.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(uvicorn.Config(create_app(settings, config), log_level="warning"))
        ready.put(("ok", sock.getsockname()[1], key, other_key, staff_key))
    except Exception as exc:  # the parent shows why the gateway could not start
        ready.put(("error", f"{type(exc).__name__}: {exc}", None, None, None))
        return
    server.run(sockets=[sock])


def _wait_until_up(port: int, process: Any) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and process.is_alive():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"the gateway did not start listening on 127.0.0.1:{port}")


@contextmanager
def serve_gateway(target: ContractTarget, *, staff_for_every_council: bool = True) -> Iterator[Endpoint]:
    """Start the target's backends and the gateway wired to them; yield the endpoint.

    The staff key is issued for every council unless ``staff_for_every_council`` is False:
    then for the council under test only, as a supplier's staff key may well be."""
    context = multiprocessing.get_context("spawn")
    with target.start() as environment, tempfile.TemporaryDirectory(prefix="repairs-contract-") as folder:
        primary, secondary = environment.primary, environment.secondary
        ready = context.Queue()
        process = context.Process(
            target=_serve,
            args=(
                ready,
                dict(environment.councils),
                dict(environment.environ),
                dict(environment.addresses),
                secondary,
                folder,
                None if staff_for_every_council else [primary],
            ),
            name=f"gateway on {target.name}",
            daemon=True,
        )
        process.start()
        try:
            try:
                outcome, port, key, other_key, staff_key = ready.get(timeout=STARTUP_SECONDS * 2)
            except queue.Empty:
                raise RuntimeError(f"the gateway on {target.name} did not start") from None
            if outcome != "ok":
                raise RuntimeError(f"the gateway on {target.name} did not start: {port}")
            _wait_until_up(port, process)
            yield _endpoint(port, key, other_key, staff_key, environment, primary, secondary)
        finally:
            process.terminate()
            process.join(STOP_SECONDS)


def _endpoint(
    port: int,
    key: str,
    other_key: str | None,
    staff_key: str,
    environment: TargetEnvironment,
    primary: str,
    secondary: str | None,
) -> Endpoint:
    return Endpoint(
        base_url=f"http://127.0.0.1:{port}",
        api_key=key,
        council=primary,
        other_council=secondary,
        other_api_key=other_key,
        postcodes=tuple(environment.postcodes.get(primary, ())),
        other_postcodes=tuple(environment.postcodes.get(secondary, ())) if secondary else (),
        staff_api_key=staff_key,
    )
