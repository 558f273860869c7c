"""How repairs are stored and changed safely: one change at a time, always released.

A change takes the repair's ``in_flight`` flag with a conditional UPDATE and re-reads the
row while holding it, so a decision is never made on a state another request has since
changed. The flag is released on every way out, normal or not; a flag left by a crashed
process is taken over once it is older than ``stale_after`` (longer than the slowest
backend call the settings allow).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.domain.references import new_reference
from repairs_gateway.persistence.models import Repair
from repairs_gateway.services.problems import conflict, not_found, unacceptable

IN_PROGRESS_DETAIL = "another change to this repair is in progress; try again shortly"


def stale_after_for(timeout_seconds: float, retries: int) -> timedelta:
    """How long a change may hold a repair: twice the longest a create can spend in backends
    (a works order and a booking, each with every retry), and never under two minutes."""
    return max(timedelta(minutes=2), timedelta(seconds=2 * 2 * timeout_seconds * (retries + 1)))


class Change:
    """A repair held for one change: ``row`` as it is now, ``save`` to write and release."""

    def __init__(self, store: RepairStore, row: Repair) -> None:
        self.row = row
        self._store = store
        self.done = False

    async def save(self, **changes: Any) -> Repair:
        """Write ``changes`` and release the repair."""
        self.row = await self._store.save(self.row.id, **changes)
        self.done = True
        return self.row


class RepairStore:
    """The ``repairs`` table, as the use cases need it."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], stale_after: timedelta) -> None:
        self._sessions = sessions
        self.stale_after = stale_after

    async def load(self, council_id: str, reference: str) -> Repair:
        """The council's repair with this reference; 404 otherwise."""
        async with self._sessions() as session:
            row = await session.scalar(
                select(Repair).where(Repair.council_id == council_id).where(Repair.reference == reference)
            )
        if row is None:
            raise not_found("repair-not-found", f"repair {reference}", "reference")
        return row

    async def save(self, repair_id: int, **changes: Any) -> Repair:
        """Write ``changes``, release the repair and answer it as stored."""
        changes.setdefault("in_flight", False)
        changes["updated_at"] = datetime.now(UTC)
        async with self._sessions.begin() as session:
            await session.execute(update(Repair).where(Repair.id == repair_id).values(**changes))
            fresh = await session.get(Repair, repair_id, populate_existing=True)
        assert fresh is not None
        return fresh

    def held_by_another(self, row: Repair) -> bool:
        """Whether a change of another request holds the repair now."""
        return row.in_flight and row.updated_at > datetime.now(UTC) - self.stale_after

    @asynccontextmanager
    async def changing(self, row: Repair) -> AsyncIterator[Change]:
        """Hold the repair for one change (409 if another holds it), with the row re-read."""
        stale = datetime.now(UTC) - self.stale_after
        async with self._sessions.begin() as session:
            taken = await session.execute(
                update(Repair)
                .where(Repair.id == row.id)
                .where(Repair.in_flight.is_(False) | (Repair.updated_at < stale))
                .values(in_flight=True, updated_at=datetime.now(UTC))
            )
            if taken.rowcount != 1:  # type: ignore[attr-defined]
                raise conflict(IN_PROGRESS_DETAIL, "request-in-progress")
            fresh = await session.get(Repair, row.id, populate_existing=True)
        assert fresh is not None
        change = Change(self, fresh)
        try:
            yield change
        finally:
            if not change.done:
                await self.save(fresh.id)

    def adopt(self, row: Repair) -> Change:
        """The change of a repair this request has just inserted with its flag set."""
        return Change(self, row)

    async def insert(self, values: dict[str, Any], prefix: str) -> Repair | None:
        """Insert a repair under a fresh reference; None when its Idempotency-Key was stored
        first by a concurrent request."""
        for _ in range(5):
            row = Repair(reference=new_reference(prefix), **values)
            try:
                async with self._sessions.begin() as session:
                    session.add(row)
                return row
            except IntegrityError as exc:
                # The driver's message names the violated constraint (the statement's own
                # text names every column, so it cannot tell the two apart).
                if "idempotency" in str(exc.orig).lower():
                    return None
        raise RuntimeError("could not draw a unique reference")

    async def delete(self, repair_id: int) -> None:
        """Withdraw a repair that promised nothing (its window was taken)."""
        async with self._sessions.begin() as session:
            row = await session.get(Repair, repair_id)
            if row is not None:
                await session.delete(row)

    async def replay(self, council_id: str, client_id: int, key: str, digest: str) -> Repair | None:
        """The repair an earlier request with this Idempotency-Key made, if any; 422 when
        that request had another body, 409 while it is still being made."""
        async with self._sessions() as session:
            row = await session.scalar(
                select(Repair)
                .where(Repair.council_id == council_id)
                .where(Repair.client_id == client_id)
                .where(Repair.idempotency_key == key)
            )
        if row is None:
            return None
        if row.request_hash != digest:
            raise unacceptable(
                "idempotency-key-reused",
                "Idempotency-Key",
                "header",
                "was used before with a different request body",
            )
        if self.held_by_another(row):
            raise conflict("a request with this Idempotency-Key is still in progress", "request-in-progress")
        return row

    async def refresh(self, row: Repair, **changes: Any) -> Repair:
        """Apply what a backend reports, unless the repair changed since ``row`` was read."""
        async with self._sessions.begin() as session:
            await session.execute(
                update(Repair)
                .where(Repair.id == row.id)
                .where(Repair.in_flight.is_(False))
                .where(Repair.updated_at == row.updated_at)
                .values(**changes, updated_at=datetime.now(UTC))
            )
            fresh = await session.get(Repair, row.id, populate_existing=True)
        assert fresh is not None
        return fresh
