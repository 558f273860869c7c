"""OAuth 2 client credentials: one access token per adaptor, fetched once for everyone.

The token is kept until ``margin`` before it expires. Concurrent callers that find no
usable token wait for a single fetch (an ``asyncio.Lock``); a caller whose token was
refused (HTTP 401) asks ``refresh(stale)``, which fetches again only if nobody has
already replaced that token.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


@dataclass(frozen=True, slots=True)
class Token:
    """An access token, when the identity server said it expires, and its lifetime."""

    value: str
    expires_at: datetime
    lifetime_seconds: float


Fetch = Callable[[], Awaitable[Token]]
"""Asks the identity server for a new token (raises the ports' typed errors)."""


class TokenCache:
    """The adaptor's bearer token, with one fetch shared by all who need it."""

    def __init__(self, fetch: Fetch, clock: Clock, margin_seconds: float) -> None:
        self._fetch = fetch
        self._clock = clock
        self._margin = margin_seconds
        self._token: Token | None = None
        self._lock = asyncio.Lock()
        self.fetched = 0

    def _usable(self, token: Token | None) -> bool:
        if token is None:
            return False
        # A token living less than twice the margin is kept for half its life, not never.
        margin = min(self._margin, token.lifetime_seconds / 2)
        return self._clock() < token.expires_at - timedelta(seconds=margin)

    async def current(self) -> str:
        """A token good for a while yet; fetched if there is none."""
        token = self._token
        if self._usable(token):
            assert token is not None
            return token.value
        async with self._lock:
            # Whoever waited on the lock finds the token the first caller fetched.
            token = self._token
            if self._usable(token):
                assert token is not None
                return token.value
            return await self._renew()

    async def refresh(self, stale: str) -> str:
        """A token other than ``stale``, which the API refused: fetched unless another
        caller has already replaced it."""
        async with self._lock:
            token = self._token
            if token is not None and token.value != stale and self._usable(token):
                return token.value
            log.info("Totalmobile refused an access token (expired early?); fetching a new one")
            return await self._renew()

    def forget(self) -> None:
        """Drop the token (on shutdown)."""
        self._token = None

    async def _renew(self) -> str:
        self._token = None
        token = await self._fetch()
        self._token = token
        self.fetched += 1
        return token.value
