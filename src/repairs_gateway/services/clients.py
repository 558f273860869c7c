"""API clients: keys are shown once, and only their SHA-256 is stored.

A key carries 256 random bits, so a fast hash is enough: there is nothing to guess by
brute force, and looking a key up by its hash needs no per-row salt.

A key has a scope: ``resident`` (a council's front-end for residents, the default) or
``staff`` (a council's own tools: everything a resident key may do, plus listing repairs
by status and age and retrying the work that failed for them).

A key is revoked with ``clients revoke``; its row stays (repairs name their client), and it
is refused from then on. A process keeps what it read of a key for a few seconds
(``KeyCache``), so a revoked key is refused everywhere within that time.
"""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.persistence.models import ApiClient, ApiClientCouncil, utcnow

KEY_PREFIX = "rgk_"
RESIDENT = "resident"
STAFF = "staff"
SCOPES = (RESIDENT, STAFF)


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated API client, the councils it may use, and its scope."""

    client_id: int
    name: str
    councils: frozenset[str]
    scope: str = RESIDENT

    @property
    def is_staff(self) -> bool:
        """Whether the key may use the staff operations."""
        return self.scope == STAFF


def hash_key(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


async def create_client(
    sessions: async_sessionmaker[AsyncSession], name: str, councils: list[str], scope: str = RESIDENT
) -> str:
    """Create a client scoped to ``councils`` with ``scope`` (resident or staff); answers its
    new key (shown once, never stored)."""
    if scope not in SCOPES:
        raise ValueError(f"scope must be one of {', '.join(SCOPES)}, not {scope!r}")
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    async with sessions.begin() as session:
        client = ApiClient(name=name, key_hash=hash_key(key), scope=scope)
        session.add(client)
        await session.flush()
        session.add_all(ApiClientCouncil(client_id=client.id, council_id=c) for c in set(councils))
    return key


async def authenticate(sessions: async_sessionmaker[AsyncSession], key: str) -> Caller | None:
    """The client holding ``key``, or None: one query, the client joined to its councils."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(ApiClient.id, ApiClient.name, ApiClient.scope, ApiClientCouncil.council_id)
                .outerjoin(ApiClientCouncil, ApiClientCouncil.client_id == ApiClient.id)
                .where(ApiClient.key_hash == hash_key(key))
                .where(ApiClient.revoked_at.is_(None))
            )
        ).all()
    if not rows:
        return None
    client_id, name, scope, _ = rows[0]
    councils = frozenset(council for *_, council in rows if council is not None)
    # A scope this version does not know grants nothing beyond a resident's.
    return Caller(client_id, name, councils, scope if scope in SCOPES else RESIDENT)


class KeyCache:
    """What this process read of each key, kept for ``ttl`` seconds, so a request seldom
    needs the database to know its caller.

    An entry's time runs from *before* the query that read it, so a key revoked at time R
    is refused by every process from R + ``ttl`` at the latest. Unknown and revoked keys are
    not kept: a new key works at once, and wrong keys cannot fill the memory. A ``ttl`` of 0
    reads the database on every request.
    """

    def __init__(
        self, ttl: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, tuple[float, Caller]] = {}
        self._reading: dict[str, asyncio.Future[Caller | None]] = {}

    async def authenticate(self, sessions: async_sessionmaker[AsyncSession], key: str) -> Caller | None:
        """``authenticate``, answered from the cache while the entry is fresh."""
        if self.ttl <= 0:
            return await authenticate(sessions, key)
        digest = hash_key(key)
        now = self.clock()
        entry = self._entries.get(digest)
        if entry is not None and entry[0] > now:
            return entry[1]
        # One read per key at a time: when an entry runs out under load, every request of
        # that key would otherwise query at once and queue for the pool's connections.
        reading = self._reading.get(digest)
        if reading is not None:
            await asyncio.wait((reading,))
            if not reading.cancelled():
                return reading.result()  # the read's own error, if it failed
            return await authenticate(sessions, key)  # its request went away: read anew
        reading = asyncio.get_running_loop().create_future()
        self._reading[digest] = reading
        try:
            found = await authenticate(sessions, key)
        except asyncio.CancelledError:
            reading.cancel()
            raise
        except Exception as exc:
            reading.set_exception(exc)
            reading.exception()  # retrieved, so a failed read nobody shared is not logged
            raise
        else:
            reading.set_result(found)
        finally:
            del self._reading[digest]
        if found is None:
            self._entries.pop(digest, None)
            return None
        if len(self._entries) >= self.max_entries:
            self._evict(now)
        self._entries[digest] = (now + self.ttl, found)
        return found

    def _evict(self, now: float) -> None:
        self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
        while len(self._entries) >= self.max_entries:
            # Oldest first: dicts keep insertion order, and entries are re-inserted on refresh.
            del self._entries[next(iter(self._entries))]


@dataclass(frozen=True, slots=True)
class ClientRow:
    """An API client as an operator sees it (never its key)."""

    client_id: int
    name: str
    scope: str
    councils: tuple[str, ...]
    created_at: datetime
    revoked_at: datetime | None


async def list_clients(sessions: async_sessionmaker[AsyncSession]) -> Sequence[ClientRow]:
    """Every client, revoked ones included, oldest first."""
    async with sessions() as session:
        rows = (
            await session.execute(
                select(
                    ApiClient.id,
                    ApiClient.name,
                    ApiClient.scope,
                    ApiClient.created_at,
                    ApiClient.revoked_at,
                    ApiClientCouncil.council_id,
                )
                .outerjoin(ApiClientCouncil, ApiClientCouncil.client_id == ApiClient.id)
                .order_by(ApiClient.id, ApiClientCouncil.council_id)
            )
        ).all()
    found: dict[int, ClientRow] = {}
    for client_id, name, scope, created, revoked, council in rows:
        row = found.get(client_id) or ClientRow(client_id, name, scope, (), created, revoked)
        found[client_id] = ClientRow(
            client_id, name, scope, row.councils + ((council,) if council else ()), created, revoked
        )
    return list(found.values())


async def revoke_client(sessions: async_sessionmaker[AsyncSession], client_id: int) -> bool:
    """Refuse the client's key from now on; False when there is no such client. Revoking
    twice keeps the first time."""
    async with sessions.begin() as session:
        exists = await session.scalar(select(ApiClient.id).where(ApiClient.id == client_id))
        if exists is None:
            return False
        await session.execute(
            update(ApiClient)
            .where(ApiClient.id == client_id)
            .where(ApiClient.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    return True
