"""Signed, expiring tokens: appointment window ids and page cursors.

A window id carries everything needed to book the window later without trusting the
client: council, property, job, times, the scheduler and its slot handle, and an expiry.
It is signed with HMAC-SHA256; a forged, altered or expired id fails ``verify``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from repairs_gateway.ports import Job


class InvalidToken(ValueError):
    """A token that is malformed, forged, altered or expired; the message says which."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def job_fingerprint(job: Job) -> str:
    """A short stable digest of what a window was offered for."""
    raw = f"{job.trade}|{job.duration_minutes}|{int(job.priority)}|{job.sor_code or ''}"
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class WindowClaim:
    """What a window id asserts."""

    council: str
    uprn: str
    job: str
    scheduler: str
    start: str
    end: str
    label: str
    ref: str
    expires: int

    @property
    def start_at(self) -> datetime:
        """The window's start, timezone-aware."""
        return datetime.fromisoformat(self.start)

    @property
    def end_at(self) -> datetime:
        """The window's end, timezone-aware."""
        return datetime.fromisoformat(self.end)


class TokenSigner:
    """Signs and verifies tokens with one secret key."""

    def __init__(self, secret: str) -> None:
        if len(secret) < 32:
            raise ValueError("the token secret must be at least 32 characters")
        self._key = secret.encode()

    def _sign(self, payload: str) -> str:
        return _b64(hmac.new(self._key, payload.encode(), hashlib.sha256).digest())

    def sign(self, claims: dict[str, Any]) -> str:
        """A token carrying ``claims``."""
        payload = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        return f"{payload}.{self._sign(payload)}"

    def open(self, token: str) -> dict[str, Any]:
        """The claims of a genuine token; raises InvalidToken."""
        payload, dot, signature = token.partition(".")
        # compare_digest refuses non-ASCII text: anything outside base64url is not ours anyway.
        if not dot or not payload or not signature or not token.isascii():
            raise InvalidToken("is not an id this gateway issued")
        if not hmac.compare_digest(self._sign(payload), signature):
            raise InvalidToken("is not an id this gateway issued, or was altered")
        try:
            claims = json.loads(_unb64(payload))
        except (ValueError, TypeError):
            raise InvalidToken("is not an id this gateway issued") from None
        if not isinstance(claims, dict):
            raise InvalidToken("is not an id this gateway issued")
        return claims

    def window_id(self, claim: WindowClaim) -> str:
        """The id of an offered window."""
        return self.sign({"w": asdict(claim)})

    def window(self, token: str, *, now: float | None = None) -> WindowClaim:
        """The claim of a genuine, unexpired window id; raises InvalidToken."""
        claims = self.open(token)
        try:
            claim = WindowClaim(**claims["w"])
        except (KeyError, TypeError):
            raise InvalidToken("is not a window id") from None
        if claim.expires < (time.time() if now is None else now):
            raise InvalidToken("has expired: ask for the appointments again")
        return claim
