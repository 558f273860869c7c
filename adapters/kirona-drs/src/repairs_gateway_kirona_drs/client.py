"""Calling DRS: a zeep client over httpx and the installation's one session a day.

``DrsClient.call`` sends one operation inside the shared session and answers its reply
whatever the reply's ``status``: deciding what a business error means is the
scheduler's job. Everything that stops a reply from being read at all is turned into
the ports' typed errors here, so no bare exception leaves the adaptor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import zeep
import zeep.exceptions
import zeep.helpers
from repairs_gateway.ports import BackendRejected, BackendUnavailable
from zeep.proxy import AsyncServiceProxy

from .protocol import BINDING_QNAME, WSDL_PATH, is_session_problem
from .settings import DrsSettings
from .wire import AnswerCheck, CheckedTransport, HttpFailure, MalformedAnswer

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Payload = Callable[[str], Mapping[str, Any]]
"""Builds an operation's command from the session id it is to be sent with."""

UNAVAILABLE = "The repairs scheduling system is not available at the moment."
UNREADABLE = "The repairs scheduling system gave an answer that could not be understood."
REFUSED = "The repairs scheduling system refused the request."
UNSENDABLE = "The repair's details could not be sent to the repairs scheduling system."


class UnreadableAnswer(BackendRejected):
    """DRS answered, but not so that the answer can be read: it may have acted on the
    call all the same (created the order, moved the booking)."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A DRS answer: its ``status``, its ``errorMsg`` and its other fields (plain Python
    values: dicts, lists, strings, aware datetimes)."""

    operation: str
    status: str | None
    error: str | None
    body: Mapping[str, Any]

    @property
    def ok(self) -> bool:
        """Whether DRS says the command succeeded (errorMsg may still hold a warning)."""
        return self.status == "success"

    def describe(self) -> str:
        """For logs and error details: the operation, status and DRS's own text."""
        return f"{self.operation}: status={self.status} errorMsg={self.error!r}"


@dataclass(frozen=True, slots=True)
class _Session:
    id: str
    day: date


class DrsClient:
    """One DRS installation, reached through the WSDL this package ships."""

    def __init__(
        self,
        settings: DrsSettings,
        *,
        timezone: str = "Europe/London",
        http_client: httpx.AsyncClient | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._settings = settings
        self._tz = ZoneInfo(timezone)
        self._clock: Clock = clock or (lambda: datetime.now(UTC))
        self._owns_http = http_client is None
        # httpx's default pool (100 connections) would queue the second half of 100
        # concurrent pages behind the first: each page is two checkAvailability calls.
        self._http = http_client or httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout_seconds),
            limits=httpx.Limits(
                max_connections=settings.max_connections,
                max_keepalive_connections=min(
                    settings.max_keepalive_connections, settings.max_connections
                ),
            ),
        )
        # zeep wants a sync client for fetching WSDLs; ours is read from the package.
        self._wsdl_http = httpx.Client()
        transport = CheckedTransport(client=self._http, wsdl_client=self._wsdl_http)
        self._zeep = zeep.AsyncClient(  # type: ignore[no-untyped-call, unused-ignore]
            str(WSDL_PATH),
            transport=transport,
            settings=zeep.Settings(strict=True),
            plugins=[AnswerCheck()],
        )
        binding = self._zeep.wsdl.bindings[BINDING_QNAME]
        # create_service() would give a sync proxy even on an AsyncClient.
        self._service = AsyncServiceProxy(  # type: ignore[no-untyped-call, unused-ignore]
            self._zeep, binding, address=settings.endpoint_url()
        )
        self._lock = asyncio.Lock()
        self._session: _Session | None = None
        self._logins_done = 0  # so a request can tell a login ended while it waited
        self._failure: BackendRejected | BackendUnavailable | None = None
        self.sessions_opened = 0

    # ------------------------------------------------------------------ calls

    async def call(self, operation: str, payload: Payload) -> Reply:
        """Send ``operation`` within today's session. If DRS says the session has expired,
        open a new one and send it once more."""
        session_id = await self._current_session()
        reply = await self._send(operation, payload(session_id))
        if not reply.ok and is_session_problem(reply.error):
            log.info("DRS session expired (%s); opening a new one", reply.describe())
            session_id = await self._renew(session_id)
            reply = await self._send(operation, payload(session_id))
        return reply

    async def open_session(self) -> None:
        """Open today's session now unless one is open (``BackendRejected`` or
        ``BackendUnavailable`` when DRS will not)."""
        await self._current_session()

    async def aclose(self) -> None:
        """Close the session (best effort) and the HTTP connections."""
        session, self._session = self._session, None
        if session is not None:
            with contextlib.suppress(BackendUnavailable, BackendRejected):
                reply = await self._send("closeSession", {"sessionId": session.id})
                if not reply.ok:
                    log.info("DRS did not close the session: %s", reply.describe())
        if self._owns_http:
            await self._http.aclose()
        self._wsdl_http.close()

    # ------------------------------------------------------------------ sessions

    def _today(self) -> date:
        return self._clock().astimezone(self._tz).date()

    async def _current_session(self) -> str:
        session = self._session
        if session is not None and session.day == self._today():
            return session.id
        attempt = self._logins_done
        async with self._lock:
            # Whoever waited on the lock finds the session the first caller opened.
            session = self._session
            if session is not None and session.day == self._today():
                return session.id
            return (await self._open(attempt)).id

    async def _renew(self, stale_id: str) -> str:
        attempt = self._logins_done
        async with self._lock:
            session = self._session
            if session is not None and session.id != stale_id:
                return session.id  # another request has already reopened it
            return (await self._open(attempt)).id

    async def _open(self, attempt: int) -> _Session:
        failed = self._failure
        if failed is not None and self._logins_done != attempt:
            # A login failed while this request waited: share that answer rather than
            # queueing one more login behind each waiting request.
            raise type(failed)(str(failed), detail=failed.detail)
        self._session = None
        # A failure is shared only by the requests that waited for that very login: one
        # cut short (cancelled) must not leave an older failure for the next waiter.
        self._failure = None
        try:
            self._session = await self._login()
        except (BackendRejected, BackendUnavailable) as exc:
            self._failure = exc
            raise
        finally:
            self._logins_done += 1
        self._failure = None
        self.sessions_opened += 1
        return self._session

    async def _login(self) -> _Session:
        reply = await self._send(
            "openSession",
            {
                "login": self._settings.login,
                "password": self._settings.password.get_secret_value(),
            },
        )
        if not reply.ok:
            raise BackendRejected(
                "The repairs scheduling system refused the gateway's login.",
                detail=reply.describe(),
            )
        session_id = reply.body.get("sessionId")
        if not isinstance(session_id, str) or not session_id.strip():
            raise BackendRejected(UNREADABLE, detail="openSession: success without a sessionId")
        return _Session(session_id.strip(), self._today())

    # ------------------------------------------------------------------ transport

    async def _send(self, operation: str, command: Mapping[str, Any]) -> Reply:
        timeout = self._settings.timeout_seconds
        method = getattr(self._service, operation)
        arguments = {operation: dict(command)}
        try:
            # Built once beforehand so that a request that cannot be written (text XML
            # cannot carry, a value not of its type) is told apart from an unreadable answer.
            self._zeep.create_message(self._service, operation, **arguments)  # type: ignore[no-untyped-call, unused-ignore]
        except (zeep.exceptions.Error, ValueError, TypeError, AttributeError) as exc:
            # Sending it again will not help.
            raise BackendRejected(UNSENDABLE, detail=f"{operation}: request: {exc!r}") from exc
        try:
            async with asyncio.timeout(timeout):
                result = await method(**arguments)
        except TimeoutError as exc:
            raise BackendUnavailable(
                UNAVAILABLE, detail=f"{operation}: no answer within {timeout:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise BackendUnavailable(UNAVAILABLE, detail=f"{operation}: {exc!r}") from exc
        except HttpFailure as exc:
            # A proxy's or server's error page: down or busy (5xx, 429), or refused (4xx).
            failure = BackendUnavailable if exc.unavailable else BackendRejected
            raise failure(
                UNAVAILABLE if exc.unavailable else REFUSED, detail=f"{operation}: {exc}"
            ) from exc
        except zeep.exceptions.TransportError as exc:
            # Answers that are not XML at all (cut short, garbled).
            raise BackendUnavailable(
                UNAVAILABLE,
                detail=f"{operation}: HTTP {exc.status_code}: {str(exc.message)[:300]}",
            ) from exc
        except zeep.exceptions.Fault as exc:
            raise BackendRejected(
                REFUSED, detail=f"{operation}: SOAP fault {exc.code}: {exc.message}"
            ) from exc
        except MalformedAnswer as exc:
            raise UnreadableAnswer(UNREADABLE, detail=f"{operation}: {exc}") from exc
        except (
            zeep.exceptions.Error,
            LookupError,
            ValueError,
            TypeError,
            AttributeError,
        ) as exc:
            # The request was written (above), so this is an answer that passed the checks
            # above but that zeep still cannot read: DRS may have acted on the call.
            raise UnreadableAnswer(UNREADABLE, detail=f"{operation}: {exc!r}") from exc
        return _reply(operation, result)


def _reply(operation: str, result: Any) -> Reply:
    body = zeep.helpers.serialize_object(result, dict)  # type: ignore[no-untyped-call, unused-ignore]
    if not isinstance(body, dict):
        raise BackendRejected(UNREADABLE, detail=f"{operation}: empty answer")
    status = body.get("status")
    error = body.get("errorMsg")
    return Reply(
        operation=operation,
        status=str(status) if status is not None else None,
        error=str(error) if error is not None else None,
        body=body,
    )
