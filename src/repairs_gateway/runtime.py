"""The running gateway's view of each council: its adaptors (guarded), routing and catalogue."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.config.loader import BoundAdapter, CouncilConfig, GatewayConfig
from repairs_gateway.config.schema import CouncilSpec
from repairs_gateway.domain.triage import Catalogue
from repairs_gateway.persistence.known_properties import KnownProperties, RememberingAddresses
from repairs_gateway.ports import (
    AdapterContext,
    AddressSource,
    Closable,
    HazardSource,
    Preparable,
    PropertyLookup,
    Scheduler,
    for_trade,
)
from repairs_gateway.registry import build_adapter
from repairs_gateway.resilience import (
    BackendCaller,
    GuardedAddresses,
    GuardedHazards,
    GuardedNotifier,
    GuardedScheduler,
    GuardedWorksOrders,
)

log = logging.getLogger("repairs_gateway.backend")


@dataclass
class CouncilRuntime:
    """One council, ready to serve."""

    spec: CouncilSpec
    catalogue: Catalogue
    addresses: AddressSource
    schedulers: dict[str, Scheduler]
    routes: dict[str, str]
    works_orders: GuardedWorksOrders | None = None
    notifier: GuardedNotifier | None = None
    # Where the housing system records cautionary alerts and asbestos (for operatives).
    hazards: GuardedHazards | None = None
    raw_adapters: list[Any] = field(default_factory=list)

    @property
    def zone(self) -> ZoneInfo:
        """The council's time zone."""
        return ZoneInfo(self.spec.timezone)

    def scheduler_for(self, trade: str) -> str | None:
        """The name of the scheduler that takes jobs of this trade."""
        return for_trade(self.routes, trade)


def _build(bound: BoundAdapter, context: AdapterContext) -> Any:
    # Refuses, naming the plugin and each missing method, an adapter lacking a declared role.
    return build_adapter(bound.plugin, bound.settings, context)


def build_council(
    config: CouncilConfig,
    caller: BackendCaller,
    sessions: async_sessionmaker[AsyncSession],
) -> CouncilRuntime:
    """Instantiate a council's adaptors, each wrapped by the shared ``BackendCaller``."""
    spec = config.spec
    context = AdapterContext(council_id=spec.id, timezone=spec.timezone, database=sessions)
    raw: list[Any] = []

    address_source = _build(config.addresses, context)
    raw.append(address_source)
    schedulers: dict[str, Scheduler] = {}
    routes: dict[str, str] = {}
    for route, bound in config.schedulers:
        scheduler = _build(bound, context)
        raw.append(scheduler)
        schedulers[route.name] = GuardedScheduler(scheduler, bound.plugin.name, caller)
        routes.update({trade: route.name for trade in route.trades})
    works = sink = None
    if config.works_orders is not None:
        sink = _build(config.works_orders, context)
        raw.append(sink)
        works = GuardedWorksOrders(sink, config.works_orders.plugin.name, caller)
    notifier = None
    if config.notifications is not None:
        sender = _build(config.notifications, context)
        raw.append(sender)
        notifier = GuardedNotifier(sender, config.notifications.plugin.name, caller)
    guarded = GuardedAddresses(address_source, config.addresses.plugin.name, caller)
    addresses: AddressSource = guarded
    if isinstance(address_source, PropertyLookup):
        addresses = RememberingAddresses(spec.id, guarded, guarded, KnownProperties(sessions))
    return CouncilRuntime(
        spec=spec,
        catalogue=Catalogue(spec),
        addresses=addresses,
        schedulers=schedulers,
        routes=routes,
        works_orders=works,
        notifier=notifier,
        hazards=_hazards(config, sink, address_source, caller),
        raw_adapters=raw,
    )


def _hazards(
    config: CouncilConfig, sink: Any, address_source: Any, caller: BackendCaller
) -> GuardedHazards | None:
    """The council's hazard source: its works-order system's, else its address source's."""
    if isinstance(sink, HazardSource) and config.works_orders is not None:
        return GuardedHazards(sink, config.works_orders.plugin.name, caller)
    if isinstance(address_source, HazardSource):
        return GuardedHazards(address_source, config.addresses.plugin.name, caller)
    return None


def build_councils(
    config: GatewayConfig, caller: BackendCaller, sessions: async_sessionmaker[AsyncSession]
) -> dict[str, CouncilRuntime]:
    """Every configured council."""
    return {cid: build_council(c, caller, sessions) for cid, c in config.councils.items()}


async def prepare_councils(councils: dict[str, CouncilRuntime]) -> None:
    """Let every adaptor that has set-up to do (``Preparable``) do it now, once each, all at
    once; failures are logged, not raised: the first real call does the set-up instead."""
    seen: dict[int, Preparable] = {}
    for council in councils.values():
        for adapter in council.raw_adapters:
            if isinstance(adapter, Preparable):
                seen.setdefault(id(adapter), adapter)
    results = await asyncio.gather(*(a.prepare() for a in seen.values()), return_exceptions=True)
    for adapter, result in zip(seen.values(), results, strict=True):
        if isinstance(result, Exception):
            log.warning("%s could not prepare: %s", type(adapter).__name__, result)


async def close_councils(councils: dict[str, CouncilRuntime]) -> None:
    """Close every adaptor that holds connections or sessions, once each."""
    seen: set[int] = set()
    for council in councils.values():
        for adapter in council.raw_adapters:
            if id(adapter) not in seen and isinstance(adapter, Closable):
                seen.add(id(adapter))
                await adapter.aclose()
