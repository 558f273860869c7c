"""What one running app holds: the process's parts, named as the routes use them."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from repairs_gateway.assembly import Parts
from repairs_gateway.domain.tokens import TokenSigner
from repairs_gateway.metrics import Metrics
from repairs_gateway.persistence.queue import JobQueue
from repairs_gateway.runtime import CouncilRuntime
from repairs_gateway.services.clients import KeyCache
from repairs_gateway.services.repairs import RepairService
from repairs_gateway.settings import Settings


@dataclass
class GatewayState:
    """The app's long-lived objects."""

    parts: Parts
    keys: KeyCache = field(default_factory=lambda: KeyCache(0))
    """Callers by API key, read at most once per ``api_key_cache_seconds``."""

    @property
    def settings(self) -> Settings:
        """The process's settings."""
        return self.parts.settings

    @property
    def engine(self) -> AsyncEngine:
        """The database engine."""
        return self.parts.engine

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        """Database sessions."""
        return self.parts.sessions

    @property
    def councils(self) -> dict[str, CouncilRuntime]:
        """Every configured council."""
        return self.parts.councils

    @property
    def signer(self) -> TokenSigner:
        """Signs window ids and cursors."""
        return self.parts.signer

    @property
    def metrics(self) -> Metrics:
        """The app's metrics."""
        return self.parts.metrics

    @property
    def repairs(self) -> RepairService:
        """The repair use cases."""
        return self.parts.repairs

    @property
    def queue(self) -> JobQueue:
        """The job queue."""
        return self.parts.queue
