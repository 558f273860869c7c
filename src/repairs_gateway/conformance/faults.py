"""Fault injection for adaptors that reach their backend over HTTP with httpx.

Wrap the transport the adaptor's ``httpx.AsyncClient`` uses (usually an
``httpx.ASGITransport`` over the simulator's app) in a ``FaultyTransport``, and hand its
controls to the harness::

    faults = FaultyTransport(httpx.ASGITransport(app=simulator.app))
    client = httpx.AsyncClient(transport=faults, base_url="http://hms.test")
    AddressSourceHarness(..., down=faults.down_faults(), hang=faults.hang(),
                         malformed=faults.json_faults())
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from repairs_gateway.conformance.harness import FaultControl


@dataclass(frozen=True, slots=True)
class _Refuse:
    """Fail as a refused connection does."""


@dataclass(frozen=True, slots=True)
class _Hang:
    """Accept the request and never answer."""


@dataclass(frozen=True, slots=True)
class _Answer:
    """Answer this instead of what the backend would."""

    status: int
    body: bytes
    content_type: str


_Fault = _Refuse | _Hang | _Answer


class FaultyTransport(httpx.AsyncBaseTransport):
    """An httpx transport that passes requests to ``inner`` except while a fault is on.

    An in-process transport enforces none of httpx's timeouts, so ``hang`` shows whether
    the adaptor bounds each call itself (``asyncio.timeout``), as it must with a real
    network too: httpx's timeouts apply to each read, not to the whole answer.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self._fault: _Fault | None = None
        self.requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on, or fail it as the current fault says."""
        self.requests += 1
        fault = self._fault
        if fault is None:
            return await self._inner.handle_async_request(request)
        if isinstance(fault, _Refuse):
            raise httpx.ConnectError("connection refused (injected by the conformance kit)", request=request)
        if isinstance(fault, _Hang):
            await asyncio.Event().wait()  # until the caller gives up and cancels
            raise AssertionError("unreachable")
        return httpx.Response(
            fault.status, headers={"content-type": fault.content_type}, content=fault.body, request=request
        )

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()

    @asynccontextmanager
    async def _during(self, fault: _Fault) -> AsyncIterator[None]:
        previous, self._fault = self._fault, fault
        try:
            yield
        finally:
            self._fault = previous

    def refused(self) -> FaultControl:
        """Every connection is refused."""
        return lambda: self._during(_Refuse())

    def hang(self) -> FaultControl:
        """Every request is accepted and never answered (use as ``hang=faults.hang()``)."""
        return lambda: self._during(_Hang())

    def answering(
        self, body: bytes | str, *, status: int = 200, content_type: str = "application/json"
    ) -> FaultControl:
        """Every request gets this answer."""
        data = body.encode() if isinstance(body, str) else body
        return lambda: self._during(_Answer(status, data, content_type))

    def down_faults(self) -> Mapping[str, FaultControl]:
        """The usual ways an HTTP backend is down; each must be ``BackendUnavailable``."""
        return {
            "connection refused": self.refused(),
            "HTTP 503 from a load balancer": self.answering(
                "<html><body>503 Service Unavailable</body></html>", status=503, content_type="text/html"
            ),
            "HTTP 502 with an empty body": self.answering(b"", status=502, content_type="text/plain"),
        }

    def json_faults(self) -> Mapping[str, FaultControl]:
        """Malformed answers from a JSON backend; add your own of the right shape with the
        wrong content (a missing field, a number where text belongs)."""
        return {
            "an HTML page with status 200": self.answering(
                "<html><body>Please log in</body></html>", content_type="text/html"
            ),
            "JSON cut short": self.answering('{"items": [{"id": "1'),
            "JSON of another shape": self.answering('{"unexpected": true}'),
            "a JSON list of numbers": self.answering("[1, 2, 3]"),
            "JSON null": self.answering("null"),
        }

    def xml_faults(self) -> Mapping[str, FaultControl]:
        """Malformed answers from a SOAP or XML backend."""
        return {
            "an HTML page with status 200": self.answering(
                "<html><body>Please log in</body></html>", content_type="text/html"
            ),
            "XML cut short": self.answering(
                '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
                "<soap:Body><resp",
                content_type="text/xml; charset=UTF-8",
            ),
            "an empty SOAP body": self.answering(
                '<?xml version="1.0"?><soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/">'
                "<soap:Body/></soap:Envelope>",
                content_type="text/xml; charset=UTF-8",
            ),
        }
