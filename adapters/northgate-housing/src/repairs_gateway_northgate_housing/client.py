"""Calling the Northgate API: an OAuth 2 client-credentials token, and one JSON call
turned into a validated answer or one of the ports' typed errors.

Nothing else in the adaptor touches httpx, so no bare exception can leave it: transport
failures, time-outs, 5xx and 429 are ``BackendUnavailable``; refusals (4xx) and answers
that are not what was asked for are ``BackendRejected``; a 404 is ``NorthgateNotFound``
(a ``NotFound``) carrying the backend's error code, for the caller to interpret.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ValidationError
from repairs_gateway.ports import BackendRejected, BackendUnavailable, NotFound

from .settings import NorthgateSettings
from .wire import ErrorAnswer, Token

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
Clock = Callable[[], datetime]

UNAVAILABLE = "The housing management system is not available at the moment."
UNREADABLE = "The housing management system gave an answer that could not be used."
REFUSED = "The housing management system refused the request."
LOGIN_REFUSED = "The housing management system refused the gateway's credentials."

TOKEN_PROBLEMS = frozenset({"TOKEN_EXPIRED", "TOKEN_INVALID"})
"""Error codes of a 401 after which a new token is worth one more try."""


class NorthgateNotFound(NotFound):
    """The backend answered 404; ``code`` is its own error code (``PROPERTY_NOT_FOUND``)."""

    def __init__(self, message: str, *, code: str, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.code = code


class NorthgateRefused(BackendRejected):
    """The backend refused the call (4xx other than 404); ``code`` is its error code."""

    def __init__(self, message: str, *, code: str, status: int, detail: str | None = None) -> None:
        super().__init__(message, detail=detail)
        self.code = code
        self.status = status


class UnreadableAnswer(BackendRejected):
    """The backend answered 2xx with something that is not the answer asked for: it may have
    carried the call out all the same."""


class _TokenRefused(BackendRejected):
    """A 401 for the token itself (expired, revoked): worth one more try with a new one."""


@dataclass(frozen=True, slots=True)
class _Token:
    value: str
    renew_at: datetime


class NorthgateClient:
    """One installation's API, with the gateway's token cached until shortly before it
    expires; concurrent callers share one fetch of a new token."""

    def __init__(
        self,
        settings: NorthgateSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._settings = settings
        self._timeout = settings.timeout_seconds
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._http = httpx.AsyncClient(timeout=settings.timeout_seconds, transport=transport)
        self._lock = asyncio.Lock()
        self._token: _Token | None = None
        self.tokens_fetched = 0

    async def aclose(self) -> None:
        """Close the HTTP connections."""
        await self._http.aclose()

    async def call(
        self,
        method: str,
        path: str,
        model: type[M],
        *,
        params: Mapping[str, str] | None = None,
        body: Mapping[str, Any] | None = None,
    ) -> M:
        """One API call, bounded as a whole by the settings' time limit (httpx's own
        timeout bounds each read, not the answer), answered as ``model``."""
        what = f"{method} {path}"
        try:
            async with asyncio.timeout(self._timeout):
                response = await self._authorised(method, path, params, body)
        except TimeoutError:
            raise BackendUnavailable(UNAVAILABLE, detail=f"{what}: no answer within {self._timeout:g} s") from None
        return _parse(model, response, what)

    # ------------------------------------------------------------------ tokens

    async def _authorised(
        self, method: str, path: str, params: Mapping[str, str] | None, body: Mapping[str, Any] | None
    ) -> httpx.Response:
        token = await self._current_token()
        try:
            return await self._send(method, path, params, body, token)
        except _TokenRefused as refused:
            # A 401 means the call was not carried out, so sending it again is safe even
            # for a POST; the token may have been revoked or expired before its time.
            log.info("Northgate refused the token (%s); fetching a new one", refused.detail)
        token = await self._renew(token)
        return await self._send(method, path, params, body, token)

    async def _current_token(self) -> str:
        token = self._token
        if token is not None and self._clock() < token.renew_at:
            return token.value
        async with self._lock:
            # Whoever waited on the lock finds the token the first caller fetched.
            token = self._token
            if token is not None and self._clock() < token.renew_at:
                return token.value
            return await self._fetch()

    async def _renew(self, stale: str) -> str:
        async with self._lock:
            token = self._token
            if token is not None and token.value != stale and self._clock() < token.renew_at:
                return token.value  # another caller already renewed it
            return await self._fetch()

    async def _fetch(self) -> str:
        self._token = None
        form = {
            "grant_type": "client_credentials",
            "client_id": self._settings.client_id,
            "client_secret": self._settings.client_secret.get_secret_value(),
            "scope": self._settings.scope,
        }
        url = self._settings.token_endpoint()
        try:
            response = await self._http.post(url, data=form, headers={"Accept": "application/json"})
        except httpx.HTTPError as exc:
            raise BackendUnavailable(UNAVAILABLE, detail=f"POST token: {exc!r}") from exc
        if _unavailable(response.status_code):
            raise BackendUnavailable(UNAVAILABLE, detail=f"POST token: HTTP {response.status_code}")
        if response.status_code in (400, 401, 403):
            raise BackendRejected(
                LOGIN_REFUSED, detail=f"POST token: HTTP {response.status_code}: {response.text[:200]}"
            )
        answer = _parse(Token, response, "POST token")
        if answer.token_type.lower() != "bearer":
            raise BackendRejected(UNREADABLE, detail=f"POST token: token_type {answer.token_type!r}")
        # Renew a little early, so that a token does not expire between check and use.
        margin = min(60.0, answer.expires_in / 10)
        renew_at = self._clock() + timedelta(seconds=answer.expires_in - margin)
        self._token = _Token(answer.access_token, renew_at)
        self.tokens_fetched += 1
        return answer.access_token

    # ------------------------------------------------------------------ transport

    async def _send(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None,
        body: Mapping[str, Any] | None,
        token: str,
    ) -> httpx.Response:
        what = f"{method} {path}"
        try:
            response = await self._http.request(
                method,
                self._settings.api_url() + path,
                params=params,
                json=body,
                headers={"Authorization": f"Bearer {token}", "Accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            raise BackendUnavailable(UNAVAILABLE, detail=f"{what}: {exc!r}") from exc
        status = response.status_code
        if _unavailable(status):
            raise BackendUnavailable(UNAVAILABLE, detail=f"{what}: HTTP {status}: {_error_text(response)}")
        if status == 404:
            code = _error_code(response)
            if code is None:
                # A 404 without the backend's error shape is a wrong URL or a proxy,
                # not the backend saying it does not know the thing asked for.
                raise BackendRejected(REFUSED, detail=f"{what}: HTTP 404 without an error body")
            raise NorthgateNotFound(REFUSED, code=code, detail=f"{what}: {_error_text(response)}")
        if status == 401 and _error_code(response) in TOKEN_PROBLEMS:
            raise _TokenRefused(LOGIN_REFUSED, detail=f"{what}: HTTP 401: {_error_text(response)}")
        if status in (401, 403):
            raise BackendRejected(LOGIN_REFUSED, detail=f"{what}: HTTP {status}: {_error_text(response)}")
        if 400 <= status < 500:
            raise NorthgateRefused(
                REFUSED,
                code=_error_code(response) or f"HTTP_{status}",
                status=status,
                detail=f"{what}: HTTP {status}: {_error_text(response)}",
            )
        return response


def _unavailable(status: int) -> bool:
    """Down, busy or throttled: worth trying again later."""
    return status >= 500 or status == 429


def _parse(model: type[M], response: httpx.Response, what: str) -> M:
    """The answer as ``model``; ``BackendRejected`` when it is not JSON of that shape."""
    if not 200 <= response.status_code < 300:
        raise UnreadableAnswer(UNREADABLE, detail=f"{what}: HTTP {response.status_code}")
    try:
        return model.model_validate_json(response.content)
    except ValidationError as exc:
        raise UnreadableAnswer(UNREADABLE, detail=f"{what}: {exc}"[:1000]) from exc


def _error(response: httpx.Response) -> ErrorAnswer | None:
    try:
        return ErrorAnswer.model_validate_json(response.content)
    except ValidationError:
        return None


def _error_code(response: httpx.Response) -> str | None:
    error = _error(response)
    return error.Error.Code if error else None


def _error_text(response: httpx.Response) -> str:
    """The backend's own code and message, for logs only."""
    error = _error(response)
    if error is None:
        return response.text[:200]
    return f"{error.Error.Code}: {error.Error.Message or ''} (correlation {error.Error.CorrelationID})"
