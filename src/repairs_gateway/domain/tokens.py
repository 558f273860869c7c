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
import re
import time
from dataclasses import asdict, dataclass, fields
from datetime import datetime, timedelta
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


_UPRN = re.compile(r"[0-9]{1,12}")
_JOB = re.compile(r"[0-9a-f]{16}")
# The most a window may span: a day's windows are hours long; anything longer is not ours.
_LONGEST_WINDOW = timedelta(days=1)
# As the repairs table keeps them (``window_label`` 40, ``window_ref`` 200 characters).
_LABEL_MAX = 40
_REF_MAX = 200
_NAME_MAX = 100
_CLAIM_FIELDS = frozenset(f.name for f in fields(WindowClaim))


def _text(claims: dict[str, Any], name: str, longest: int, *, empty: bool = False) -> str:
    value = claims[name]
    if not isinstance(value, str):
        raise InvalidToken(f"is not a window id: its {name} is not text")
    if not value and not empty:
        raise InvalidToken(f"is not a window id: its {name} is empty")
    if len(value) > longest or not value.isprintable():
        raise InvalidToken(f"is not a window id: its {name} is too long or has control characters")
    return value


def _moment(claims: dict[str, Any], name: str) -> datetime:
    text = _text(claims, name, 64)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidToken(f"is not a window id: its {name} is not a date and time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InvalidToken(f"is not a window id: its {name} has no time zone")
    return moment


def checked_window(raw: Any) -> WindowClaim:
    """A window claim whose every member has the type and shape this gateway signs, so that
    nothing downstream (the stored repair, the booking call) meets a value it cannot use;
    ``InvalidToken`` naming the member otherwise. Signed ids are checked too: a leaked or
    misused secret must not become a way to store unreadable rows."""
    if not isinstance(raw, dict) or set(raw) != _CLAIM_FIELDS:
        raise InvalidToken("is not a window id")
    council = _text(raw, "council", _NAME_MAX)
    uprn = _text(raw, "uprn", 12)
    if not _UPRN.fullmatch(uprn):
        raise InvalidToken("is not a window id: its uprn is not 1 to 12 digits")
    job = _text(raw, "job", 16)
    if not _JOB.fullmatch(job):
        raise InvalidToken("is not a window id: its job is not a job fingerprint")
    scheduler = _text(raw, "scheduler", _NAME_MAX)
    start, end = _moment(raw, "start"), _moment(raw, "end")
    if not start < end <= start + _LONGEST_WINDOW:
        raise InvalidToken("is not a window id: its end is not after its start, within a day")
    label = _text(raw, "label", _LABEL_MAX)
    ref = _text(raw, "ref", _REF_MAX, empty=True)
    expires = raw["expires"]
    # bool is an int to Python, never to this gateway.
    if not isinstance(expires, int) or isinstance(expires, bool) or not 0 < expires < 2**53:
        raise InvalidToken("is not a window id: its expiry is not a time")
    return WindowClaim(council, uprn, job, scheduler, raw["start"], raw["end"], label, ref, expires)


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
        claim = checked_window(self.open(token).get("w"))
        if claim.expires < (time.time() if now is None else now):
            raise InvalidToken("has expired: ask for the appointments again")
        return claim
