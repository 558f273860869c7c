"""Calling Totalmobile: the token endpoint and the world-scoped REST API over httpx.

``TotalmobileClient.call`` sends one request with the current bearer token, fetches a new
token and sends it once more after a 401, and answers the status and JSON body. What
stops an answer from being read is turned into the ports' typed errors here; deciding
what a 404 or a 409 means is the scheduler's job, so those come back as answers.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from repairs_gateway.ports import BackendRejected, BackendUnavailable

from .settings import TotalmobileSettings
from .tokens import Clock, Token, TokenCache

log = logging.getLogger(__name__)

UNAVAILABLE = "The repairs scheduling system is not available at the moment."
UNREADABLE = "The repairs scheduling system gave an answer that could not be understood."
REFUSED = "The repairs scheduling system refused the request."
LOGIN_REFUSED = "The repairs scheduling system refused the gateway's credentials."

ANSWERED = frozenset({404, 409})
"""Statuses the scheduler reads for itself (an unknown job or offer, a conflict)."""


class LostAnswer(BackendUnavailable):
    """The request was sent but no answer came back (a timeout, a dropped connection, a
    gateway error): Totalmobile may have carried it out."""


class UnreadableAnswer(BackendRejected):
    """Totalmobile answered success, but not so that the answer can be read: it may have
    carried the call out all the same."""


MAYBE_DONE = (LostAnswer, UnreadableAnswer)
"""Failures after which Totalmobile may hold what was asked for: look before failing."""


@dataclass(frozen=True, slots=True)
class Answer:
    """An HTTP answer: its status, its JSON body (None when empty) and, for an error, the
    ``errorCode`` of Totalmobile's problem document."""

    status: int
    body: Any
    code: str | None = None

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return 200 <= self.status < 300

    def __str__(self) -> str:
        return f"HTTP {self.status} {self.code or ''}: {self.body!r}"[:400]


class TotalmobileClient:
    """One Totalmobile instance and world, reached with OAuth 2 client credentials."""

    def __init__(
        self,
        settings: TotalmobileSettings,
        *,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._settings = settings
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._owns_http = http_client is None
        # Sized so a page's parallel offer calls and concurrent residents share
        # connections instead of queueing behind httpx's default of 10 keep-alives.
        limits = httpx.Limits(
            max_connections=settings.max_connections,
            max_keepalive_connections=settings.max_connections,
        )
        self._http = http_client or httpx.AsyncClient(
            transport=transport, limits=limits, timeout=httpx.Timeout(settings.timeout_seconds)
        )
        self.tokens = TokenCache(
            self._fetch_token, self._clock, settings.token_refresh_margin_seconds
        )

    async def aclose(self) -> None:
        """Close the HTTP connections this client opened."""
        self.tokens.forget()
        if self._owns_http:
            await self._http.aclose()

    # ------------------------------------------------------------------ the API

    async def call(
        self,
        method: str,
        path: str = "",
        *,
        json_body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> Answer:
        """Send ``method`` to the world's jobs collection + ``path``. Raises the ports'
        typed errors for everything but a 2xx, 404 or 409 answer."""
        url = self._settings.jobs_url() + path
        token = await self.tokens.current()
        response = await self._send(method, url, token, json_body, params)
        if response.status_code == 401:
            # Not carried out: safe to send once more with a new token, whatever the method.
            token = await self.tokens.refresh(token)
            response = await self._send(method, url, token, json_body, params)
            if response.status_code == 401:
                raise BackendRejected(LOGIN_REFUSED, detail=_describe(method, path, response))
        return _answer(method, path, response)

    async def _send(
        self,
        method: str,
        url: str,
        token: str,
        json_body: Mapping[str, Any] | None,
        params: Mapping[str, str] | None,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        return await self._request(
            method,
            url,
            headers=headers,
            json=dict(json_body) if json_body is not None else None,
            params=params,
        )

    async def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One round trip within the time limit, the whole answer read."""
        timeout = self._settings.timeout_seconds
        what = f"{method} {url.removeprefix(self._settings.root())}"
        try:
            async with asyncio.timeout(timeout):
                response = await self._http.request(method, url, **kwargs)
                await response.aread()
        except TimeoutError as exc:
            raise LostAnswer(UNAVAILABLE, detail=f"{what}: no answer within {timeout:g} s") from exc
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            # Never reached Totalmobile: nothing was done.
            raise BackendUnavailable(UNAVAILABLE, detail=f"{what}: {exc!r}") from exc
        except httpx.HTTPError as exc:
            raise LostAnswer(UNAVAILABLE, detail=f"{what}: {exc!r}") from exc
        return response

    # ------------------------------------------------------------------ tokens

    async def _fetch_token(self) -> Token:
        settings = self._settings
        asked_at = self._clock()
        response = await self._request(
            "POST",
            settings.token_url(),
            data={
                "grant_type": "client_credentials",
                "client_id": settings.client_id,
                "client_secret": settings.client_secret.get_secret_value(),
                "scope": settings.scope,
            },
            headers={"Accept": "application/json"},
        )
        status = response.status_code
        if status == 429 or status >= 500:
            raise BackendUnavailable(UNAVAILABLE, detail=_describe("POST", "token", response))
        body = _json(response)
        if status != 200:
            error = body.get("error") if isinstance(body, dict) else None
            message = (
                LOGIN_REFUSED if error in ("invalid_client", "unauthorized_client") else REFUSED
            )
            raise BackendRejected(message, detail=_describe("POST", "token", response))
        if not isinstance(body, dict):
            raise BackendRejected(UNREADABLE, detail="token: the answer is not a JSON object")
        value, lifetime, kind = (
            body.get("access_token"),
            body.get("expires_in"),
            body.get("token_type"),
        )
        if (
            not isinstance(value, str)
            or not value.strip()
            or isinstance(lifetime, bool)
            or not isinstance(lifetime, int | float)
            or lifetime <= 0
            or not isinstance(kind, str)
            or kind.lower() != "bearer"
        ):
            raise BackendRejected(
                UNREADABLE,
                detail=f"token: no bearer access_token with a positive expires_in: {sorted(body)}",
            )
        # Counted from when it was asked for: the answer may have taken a while.
        return Token(value, asked_at + timedelta(seconds=float(lifetime)), float(lifetime))


def _json(response: httpx.Response) -> Any:
    if not response.content:
        return None
    try:
        return json.loads(response.content)
    except ValueError:
        return None


def _answer(method: str, path: str, response: httpx.Response) -> Answer:
    status = response.status_code
    if status == 429 or status in (502, 503, 504):
        # Busy or down in front of Totalmobile. A 503 or 429 was not carried out; a 502 or
        # 504 from a proxy may hide one that was.
        failure = BackendUnavailable if status in (429, 503) else LostAnswer
        raise failure(UNAVAILABLE, detail=_describe(method, path, response))
    if status >= 500:
        raise LostAnswer(UNAVAILABLE, detail=_describe(method, path, response))
    body = _json(response)
    if 200 <= status < 300:
        if response.content and body is None:
            raise UnreadableAnswer(UNREADABLE, detail=_describe(method, path, response))
        return Answer(status, body)
    code = body.get("errorCode") if isinstance(body, dict) else None
    if status in ANSWERED and isinstance(code, str):
        return Answer(status, body, code)
    if status in ANSWERED:
        # A 404 or 409 that is not Totalmobile's problem document (a proxy's page, a wrong
        # path) says nothing about the job.
        raise BackendRejected(UNREADABLE, detail=_describe(method, path, response))
    raise BackendRejected(REFUSED, detail=_describe(method, path, response))


def _describe(method: str, path: str, response: httpx.Response) -> str:
    text = response.text[:300] if response.content else ""
    return f"{method} {path or '/'}: HTTP {response.status_code}: {text}"
