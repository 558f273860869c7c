"""Plumbing shared by the runner's tests: a proxy in front of a real gateway that passes every
request on, byte for byte, unless a subclass answers or rewrites it, and `contract-test` run
from the command line with little generation.

Imported relatively (``from .proxy_support import ...``): the module belongs to the
``contract_suite`` package, so its name cannot shadow a support module elsewhere in tests/."""

from __future__ import annotations

import dataclasses

import httpx
from click.testing import CliRunner, Result
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from repairs_gateway.cli import main
from repairs_gateway.contract.endpoint import Endpoint

# Headers that belong to one connection, not to the request or answer passed on.
HOP_HEADERS = {"content-length", "transfer-encoding", "connection", "host"}


@dataclasses.dataclass(frozen=True)
class ProxiedRequest:
    """A request the proxy received, read whole: ``path`` is the decoded path to match on,
    ``raw_path`` (and ``query_string``) what is passed on; ``headers`` are without the
    hop-by-hop ones."""

    method: str
    path: str
    raw_path: bytes
    query_string: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes

    def header(self, name: bytes) -> str:
        """The value of the header ``name`` (lower case), or "" when it was not sent."""
        return dict(self.headers).get(name, b"").decode("latin-1")


class Proxy:
    """An ASGI app in front of the gateway at ``upstream``: every request is passed on, and
    its answer relayed, by ``answer``; a subclass overrides ``answer`` to answer a request
    itself, or to rewrite the request (``dataclasses.replace``) or its answer (``relay``)."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.client: httpx.AsyncClient | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        request = ProxiedRequest(
            method=scope["method"],
            path=scope["path"],
            raw_path=scope["raw_path"],
            query_string=scope["query_string"],
            headers=[(k, v) for k, v in scope["headers"] if k.decode("latin-1").lower() not in HOP_HEADERS],
            body=body,
        )
        await (await self.answer(request))(scope, receive, send)

    async def answer(self, request: ProxiedRequest) -> Response:
        """The answer to ``request``: by default, the gateway's to it, relayed unchanged."""
        return relay(await self.forward(request))

    async def forward(self, request: ProxiedRequest) -> httpx.Response:
        """``request`` sent on to the gateway; its answer."""
        assert self.client is not None
        raw = request.raw_path + (b"?" + request.query_string if request.query_string else b"")
        return await self.client.request(
            request.method,
            httpx.URL(self.upstream).copy_with(raw_path=raw),
            headers=request.headers,
            content=request.body,
        )

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                self.client = httpx.AsyncClient(timeout=30)
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def relay(answer: httpx.Response, content: bytes | None = None) -> Response:
    """The gateway's ``answer`` passed back without its hop-by-hop headers; with ``content``
    instead of its own body when given."""
    kept = {k: v for k, v in answer.headers.items() if k.lower() not in HOP_HEADERS}
    body = answer.content if content is None else content
    return Response(body, status_code=answer.status_code, headers=kept)


def run_contract_test(
    gateway: Endpoint, *options: str, key: str | None = None, examples: int = 1, scenarios: int = 1
) -> Result:
    """`contract-test` against the gateway's first council, with little generation (one
    example and one scenario unless told), with ``key`` (else the gateway's) as the API key."""
    return CliRunner().invoke(
        main,
        [
            "contract-test",
            "--base-url",
            gateway.base_url,
            "--council",
            gateway.council,
            "--examples",
            str(examples),
            "--scenarios",
            str(scenarios),
            "--quiet",
            *options,
        ],
        env={"REPAIRS_API_KEY": key or gateway.api_key},
    )
