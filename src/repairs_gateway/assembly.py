"""The long-lived parts of one gateway process, built from its settings: the database,
each council's adapters, the repair store, the job queue and the repair use cases. The
HTTP app, the worker and the demo all start from here, so they share one wiring."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from repairs_gateway.config.loader import GatewayConfig
from repairs_gateway.domain.tokens import TokenSigner
from repairs_gateway.metrics import Metrics
from repairs_gateway.persistence.db import make_engine, make_sessionmaker
from repairs_gateway.persistence.queue import Backoff, JobQueue
from repairs_gateway.persistence.repair_store import RepairStore
from repairs_gateway.resilience import BackendCaller
from repairs_gateway.runtime import CouncilRuntime, build_councils, close_councils, prepare_councils
from repairs_gateway.services.messages import MessageService
from repairs_gateway.services.repairs import RepairService
from repairs_gateway.settings import Settings


@dataclass
class Parts:
    """What a running process holds."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    councils: dict[str, CouncilRuntime]
    signer: TokenSigner
    metrics: Metrics
    store: RepairStore
    queue: JobQueue
    repairs: RepairService
    messages: MessageService


@asynccontextmanager
async def assembled(
    settings: Settings, config: GatewayConfig, signer: TokenSigner, metrics: Metrics
) -> AsyncIterator[Parts]:
    """Build the parts; close adapters and the database on the way out."""
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    caller = BackendCaller(
        metrics,
        settings.backend_timeout_seconds,
        settings.backend_retries,
        booking_timeout=settings.booking_timeout_seconds,
    )
    councils = build_councils(config, caller, sessions)
    store = RepairStore(sessions, timedelta(seconds=settings.lease_seconds))
    queue = JobQueue(sessions, Backoff(settings.retry_base_seconds, settings.retry_cap_seconds))
    # Sessions and tokens are opened while the gateway starts, not on a resident's first page.
    preparing = asyncio.create_task(prepare_councils(councils))
    try:
        yield Parts(
            settings=settings,
            engine=engine,
            sessions=sessions,
            councils=councils,
            signer=signer,
            metrics=metrics,
            store=store,
            queue=queue,
            repairs=RepairService(store, signer, settings.retry_base_seconds),
            messages=MessageService(sessions),
        )
    finally:
        preparing.cancel()
        await asyncio.gather(preparing, return_exceptions=True)
        await close_councils(councils)
        await engine.dispose()
