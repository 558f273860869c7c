"""The request id: taken from a caller's ``X-Request-Id`` when it is a safe, short token, made
up otherwise, echoed on every answer and carried by every log line of the request."""

from __future__ import annotations

import logging
import re
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from repairs_gateway import logs

HEADER = b"x-request-id"
VALID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")
"""What a caller's id may be: a UUID, a W3C traceparent, a load balancer's token. Anything
else (long, spaces, quotes, control characters) would make the logs ambiguous or unsafe."""

log = logging.getLogger("repairs_gateway.api")


def new_request_id() -> str:
    """A fresh request id."""
    return str(uuid.uuid4())


def request_id_from(scope: Scope) -> tuple[str, bool]:
    """The request's id, and whether the caller's was replaced (a given id not ``VALID`` is
    replaced, not refused: a request id is no reason to turn a request away)."""
    for name, value in scope.get("headers", ()):
        if name == HEADER:
            text = value.decode("latin-1")
            if VALID.match(text):
                return text, False
            return new_request_id(), True
    return new_request_id(), False


class RequestIds:
    """Gives each HTTP request an id: in ``X-Request-Id`` on its answer, whatever answered it
    (a route, a problem handler, the router's 404/405, a 500), and in its log lines."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id, replaced = request_id_from(scope)
        header = request_id.encode("ascii")

        async def echo(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", ()) if k.lower() != HEADER]
                message = {**message, "headers": [*headers, (HEADER, header)]}
                if replaced:  # said here, once routed, so the line names the operation
                    log.debug("the X-Request-Id given was not a short token of safe characters; replaced")
            await send(message)

        with logs.bound(scope, request_id=request_id):
            await self.app(scope, receive, echo)
