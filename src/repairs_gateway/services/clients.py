"""API clients: keys are shown once, and only their SHA-256 is stored.

A key carries 256 random bits, so a fast hash is enough: there is nothing to guess by
brute force, and looking a key up by its hash needs no per-row salt.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.persistence.models import ApiClient, ApiClientCouncil

KEY_PREFIX = "rgk_"


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated API client and the councils it may use."""

    client_id: int
    name: str
    councils: frozenset[str]


def hash_key(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


async def create_client(sessions: async_sessionmaker[AsyncSession], name: str, councils: list[str]) -> str:
    """Create a client scoped to ``councils``; answers its new key (shown once, never stored)."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    async with sessions.begin() as session:
        client = ApiClient(name=name, key_hash=hash_key(key))
        session.add(client)
        await session.flush()
        session.add_all(ApiClientCouncil(client_id=client.id, council_id=c) for c in set(councils))
    return key


async def authenticate(sessions: async_sessionmaker[AsyncSession], key: str) -> Caller | None:
    """The client holding ``key``, or None."""
    async with sessions() as session:
        client = await session.scalar(select(ApiClient).where(ApiClient.key_hash == hash_key(key)))
        if client is None:
            return None
        councils = await session.scalars(
            select(ApiClientCouncil.council_id).where(ApiClientCouncil.client_id == client.id)
        )
        return Caller(client.id, client.name, frozenset(councils))
