"""A repair as the API answers it: the repair with its history, as its resident reads it.

The history is the repair's events (``repair_events``) that a resident sees
(``domain.history.RESIDENT_EVENTS``: never ``needs_attention``), oldest first, read in one
query. An event's detail names an appointment at most, never a backend's error or a staff
note; the words are ``domain.history.describe``'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.domain.history import RESIDENT_EVENTS
from repairs_gateway.persistence.models import Repair, RepairEvent
from repairs_gateway.runtime import CouncilRuntime
from repairs_gateway.services.duplicates import Duplicates
from repairs_gateway.services.repairs import NewRepair, RepairService


@dataclass(frozen=True, slots=True)
class HistoryEvent:
    """One event of a repair's history: when, what (an ``EventKind`` a resident sees) and
    its detail (the appointment's ``start``, ``end`` and ``label`` where it names one)."""

    at: datetime
    kind: str
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class RepairAnswer:
    """A repair with its history; for createRepair, also whether the answer replays an
    earlier request and, for a report that joined an open repair, its reporter's channel."""

    row: Repair
    history: list[HistoryEvent] = field(default_factory=list)
    replayed: bool = False
    joined_channel: str | None = None

    @property
    def joined(self) -> bool:
        """Whether the report joined an open repair rather than making one."""
        return self.joined_channel is not None


async def history_of(sessions: async_sessionmaker[AsyncSession], repair_id: int) -> list[HistoryEvent]:
    """The repair's events a resident sees, oldest first (same moment: in the order recorded)."""
    async with sessions() as session:
        rows = await session.execute(
            select(RepairEvent.at, RepairEvent.kind, RepairEvent.detail)
            .where(RepairEvent.repair_id == repair_id)
            .where(RepairEvent.kind.in_(sorted(RESIDENT_EVENTS)))
            .order_by(RepairEvent.at, RepairEvent.id)
        )
        return [HistoryEvent(at, kind, dict(detail or {})) for at, kind, detail in rows.all()]


class RepairAnswers:
    """The resident's repair use cases, each answering the repair with its history: one
    call per route."""

    def __init__(self, repairs: RepairService, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._repairs = repairs
        self._sessions = sessions

    async def _answer(
        self, row: Repair, replayed: bool = False, joined_channel: str | None = None
    ) -> RepairAnswer:
        return RepairAnswer(row, await history_of(self._sessions, row.id), replayed, joined_channel)

    async def create(
        self, council: CouncilRuntime, client_id: int, request: NewRepair, idempotency_key: str | None
    ) -> RepairAnswer:
        """createRepair: a new repair, an open one the report joined, or a replay."""
        created = await self._repairs.create(
            council, client_id, request, idempotency_key, Duplicates(self._sessions)
        )
        return await self._answer(created.row, created.replayed, created.joined_channel)

    async def get(self, council: CouncilRuntime, reference: str) -> RepairAnswer:
        """getRepair."""
        return await self._answer(await self._repairs.get(council, reference))

    async def cancel(self, council: CouncilRuntime, reference: str) -> RepairAnswer:
        """cancelRepair."""
        return await self._answer(await self._repairs.cancel(council, reference))

    async def reschedule(self, council: CouncilRuntime, reference: str, window_id: str) -> RepairAnswer:
        """rescheduleRepair."""
        return await self._answer(await self._repairs.reschedule(council, reference, window_id))
