"""API clients: keys are shown once, and only their SHA-256 is stored.

A key carries 256 random bits, so a fast hash is enough: there is nothing to guess by
brute force, and looking a key up by its hash needs no per-row salt.

A key has a scope: ``resident`` (a council's front-end for residents, the default) or
``staff`` (a council's own tools: everything a resident key may do, plus listing repairs
by status and age and retrying the work that failed for them).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.persistence.models import ApiClient, ApiClientCouncil

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
            )
        ).all()
    if not rows:
        return None
    client_id, name, scope, _ = rows[0]
    councils = frozenset(council for *_, council in rows if council is not None)
    # A scope this version does not know grants nothing beyond a resident's.
    return Caller(client_id, name, councils, scope if scope in SCOPES else RESIDENT)
