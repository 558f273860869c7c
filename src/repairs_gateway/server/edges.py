"""uvicorn's HTTP protocols with the limits uvicorn lacks (decision 0016).

uvicorn bounds idle keep-alive time but not the time a client takes to send a request: a
client that sends half its headers, or half its body, holds a connection (and a file) for as
long as it likes. The protocols here start a timer when a connection is made and when a
request begins, cancel it once the request has been read, and close the connection if it
fires first. They also refuse connections over a cap with a 503 problem document, and answer
a request whose headers are too large with a 431 problem document, and one they cannot parse
with a 400 problem document, where uvicorn answers plain text.
"""

from __future__ import annotations

import asyncio
import json
import logging
import resource
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from repairs_gateway.api.request_ids import new_request_id

if TYPE_CHECKING:
    from starlette.types import Receive, Scope, Send

    from repairs_gateway.settings import Settings

log = logging.getLogger("repairs_gateway.server")

FILE_RESERVE = 128
"""Files kept back from connections for the database pool, backends, logs and the listener."""


@dataclass(frozen=True, slots=True)
class EdgeLimits:
    """The limits every connection of one process is held to."""

    request_read_seconds: float = 10.0
    max_connections: int = 1000
    max_header_bytes: int = 16 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> EdgeLimits:
        """The limits the settings name."""
        return cls(
            request_read_seconds=settings.request_read_timeout_seconds,
            max_connections=settings.max_connections,
            max_header_bytes=settings.max_header_bytes,
        )


_configured: EdgeLimits | None = None


def configure(limits: EdgeLimits) -> None:
    """Hold connections of this process to ``limits`` (else they come from the environment)."""
    global _configured
    _configured = limits


def current_limits() -> EdgeLimits:
    """The limits set by ``configure``, or read once from the environment: each process of
    ``serve --workers N`` imports the protocols by name and reads its own."""
    global _configured
    if _configured is None:
        from repairs_gateway.settings import Settings

        _configured = EdgeLimits.from_settings(Settings())
    return _configured


def raise_open_file_limit() -> int:
    """Raise this process's soft limit on open files to its hard limit, and log both; returns
    the soft limit now in force. A common soft limit of 1,024 is what let 1,100 half-sent
    requests stop the gateway answering anyone (issue 14)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else max(soft, 1 << 20)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError) as error:
            log.warning("could not raise the open-file limit from %d to %d: %s", soft, target, error)
        else:
            log.info("open-file limit raised from %d to %d (the hard limit)", soft, target)
            return target
    log.info("open-file limit is %d (hard limit %s)", soft, hard)
    return soft


def connection_cap(limits: EdgeLimits, open_files: int) -> int:
    """The connections one process takes: the configured cap, lowered to what the open-file
    limit leaves after ``FILE_RESERVE``, so that the database and backends keep their files."""
    return max(1, min(limits.max_connections, open_files - FILE_RESERVE))


def problem_bytes(status: int, kind: str, title: str, detail: str) -> bytes:
    """A problem document in the shape the API uses everywhere else."""
    from repairs_gateway.api.problems import PROBLEM_BASE

    document = {"type": PROBLEM_BASE + kind, "title": title, "status": status, "detail": detail}
    return json.dumps(document).encode()


def raw_problem_response(status: int, reason: str, kind: str, title: str, detail: str) -> bytes:
    """A whole HTTP/1.1 answer carrying a problem document, for a connection that is then
    closed: the request never reached the app."""
    body = problem_bytes(status, kind, title, detail)
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "content-type: application/problem+json\r\n"
        f"content-length: {len(body)}\r\n"
        # A new id: the caller's may be in the very headers that could not be read.
        f"x-request-id: {new_request_id()}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode("ascii") + body


async def refuse_busy(scope: Scope, receive: Receive, send: Send) -> None:
    """The app a connection over the cap gets: 503 at once, the connection closed after."""
    body = problem_bytes(
        503,
        "server-busy",
        "Service unavailable",
        "The gateway has as many connections as it takes; try again shortly.",
    )
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", b"1"),
                (b"x-request-id", new_request_id().encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class _Edges:
    """What both protocols add: the request timer, the connection cap and the 431.

    Mixed in before uvicorn's class, whose attributes (``transport``, ``connections``,
    ``app``, ``logger``, ``loop``) it uses."""

    transport: asyncio.Transport
    connections: set[Any]
    app: Any
    logger: logging.Logger
    loop: asyncio.AbstractEventLoop
    _request_timer: asyncio.TimerHandle | None = None
    _headers_too_large = False

    def _limits_cap(self) -> tuple[EdgeLimits, int]:
        limits = current_limits()
        return limits, connection_cap(limits, resource.getrlimit(resource.RLIMIT_NOFILE)[0])

    def _start_request_timer(self) -> None:
        if self._request_timer is None:
            seconds = current_limits().request_read_seconds
            self._request_timer = self.loop.call_later(seconds, self._request_too_slow)

    def _stop_request_timer(self) -> None:
        if self._request_timer is not None:
            self._request_timer.cancel()
            self._request_timer = None

    def _request_too_slow(self) -> None:
        # No answer is written: a client this slow is not reading either, and the point is to
        # get the file back now.
        self._request_timer = None
        if not self.transport.is_closing():
            self.logger.info("closing a connection that did not send a whole request in time")
            self.transport.close()

    def _admit(self) -> None:
        """Called once the connection is counted: over the cap, its request gets a 503."""
        _, cap = self._limits_cap()
        if len(self.connections) > cap:
            self.logger.warning("over %d connections: answering 503", cap)
            self.app = refuse_busy
        self._start_request_timer()

    def _answer_bad_request(self) -> None:
        # uvicorn's own answer to a request it cannot parse is plain text.
        self.transport.write(
            raw_problem_response(
                400,
                "Bad Request",
                "invalid-request",
                "Invalid request",
                "the request is not valid HTTP/1.1",
            )
        )
        self.transport.close()

    def _answer_headers_too_large(self) -> None:
        limit = current_limits().max_header_bytes
        self.transport.write(
            raw_problem_response(
                431,
                "Request Header Fields Too Large",
                "headers-too-large",
                "Request header fields too large",
                f"the request line and headers have more than {limit} bytes",
            )
        )
        self.transport.close()


def _httptools_protocol() -> type[asyncio.Protocol] | None:
    try:
        import httptools
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:  # uvicorn without [standard]
        return None

    class HeadersTooLarge(httptools.HttpParserError):
        """Stops the parser; uvicorn answers any parser error, and we answer this one 431."""

    class GuardedHttpTools(_Edges, HttpToolsProtocol):
        """uvicorn's httptools protocol, held to ``EdgeLimits``."""

        _header_bytes = 0
        _head_done = False
        _head_seen = 0

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._admit()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_request_timer()
            super().connection_lost(exc)

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self._header_bytes = 0
            self._start_request_timer()

        def _count(self, size: int) -> None:
            self._header_bytes += size
            if self._header_bytes > current_limits().max_header_bytes:
                self._headers_too_large = True
                raise HeadersTooLarge("request headers too large")

        def on_url(self, url: bytes) -> None:
            self._count(len(url))
            super().on_url(url)

        def on_header(self, name: bytes, value: bytes) -> None:
            self._count(len(name) + len(value) + 4)  # ": " and CRLF
            super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._head_done = True
            super().on_headers_complete()

        def on_message_complete(self) -> None:
            self._stop_request_timer()
            self._head_done, self._head_seen = False, 0
            super().on_message_complete()

        def data_received(self, data: bytes) -> None:
            # httptools holds a header's value until it ends, so the exact count above sees a
            # huge header only once it is whole; this counts bytes as they come instead.
            if not self._head_done:
                self._head_seen += len(data)
            super().data_received(data)
            limit = current_limits().max_header_bytes
            if not self._head_done and self._head_seen > limit and not self.transport.is_closing():
                self._headers_too_large = True
                self._answer_headers_too_large()

        def send_400_response(self, msg: str) -> None:
            if self._headers_too_large:
                self._answer_headers_too_large()
            else:
                self._answer_bad_request()

    return GuardedHttpTools


class GuardedH11(_Edges, H11Protocol):
    """uvicorn's h11 protocol, held to ``EdgeLimits`` (used where httptools is missing)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        # h11 refuses a request whose head outgrows this buffer; we turn that into a 431.
        self.conn._max_incomplete_event_size = current_limits().max_header_bytes
        self._admit()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_request_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self.conn.their_state is h11.IDLE:
            self._start_request_timer()  # the next request on a kept-alive connection
            # h11 checks its limit only on a head still incomplete: one that arrives whole in
            # a single read is taken at any size, so the head is measured here.
            buffered = self.conn.trailing_data[0] + data
            end = buffered.find(b"\r\n\r\n")
            if (end + 4 if end >= 0 else len(buffered)) > current_limits().max_header_bytes:
                self._headers_too_large = True
                self._answer_headers_too_large()
                return
        super().data_received(data)
        if self.conn.their_state in (h11.DONE, h11.MUST_CLOSE, h11.CLOSED):
            self._stop_request_timer()

    def send_400_response(self, msg: str) -> None:
        buffered = len(self.conn.trailing_data[0])
        if buffered > current_limits().max_header_bytes:
            self._headers_too_large = True
            self._answer_headers_too_large()
        else:
            self._answer_bad_request()


GuardedHttpTools = _httptools_protocol()
HTTP_PROTOCOL: type[asyncio.Protocol] = GuardedHttpTools or GuardedH11
"""What ``serve`` runs: httptools (faster) where installed, else h11."""

PROTOCOL_PATHS = {
    "httptools": "repairs_gateway.server.edges:GuardedHttpTools",
    "h11": "repairs_gateway.server.edges:GuardedH11",
}


def uvicorn_options(limits: EdgeLimits, http: str = "auto") -> dict[str, Any]:
    """uvicorn.run's options for ``limits``: the guarded protocol, named by import path so
    that every process of ``--workers N`` loads it too."""
    if http == "auto":
        http = "httptools" if GuardedHttpTools is not None else "h11"
    return {
        "http": PROTOCOL_PATHS[http],
        # uvicorn's own cap answers plain text; ours (above) answers a problem document.
        "limit_concurrency": None,
        "h11_max_incomplete_event_size": limits.max_header_bytes,
    }
