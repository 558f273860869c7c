"""What one running app holds: database, councils, signer, metrics."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from repairs_gateway.domain.tokens import TokenSigner
from repairs_gateway.metrics import Metrics
from repairs_gateway.runtime import CouncilRuntime
from repairs_gateway.services.repairs import RepairService
from repairs_gateway.settings import Settings


@dataclass
class GatewayState:
    """The app's long-lived objects."""

    settings: Settings
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    councils: dict[str, CouncilRuntime]
    signer: TokenSigner
    metrics: Metrics
    repairs: RepairService
