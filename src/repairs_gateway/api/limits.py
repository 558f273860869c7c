"""Body size and content type, checked before any route parses a body."""

from __future__ import annotations

import json
import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from repairs_gateway.api.errors import instance_of
from repairs_gateway.api.problems import PROBLEM_BASE

BODY_METHODS = {"POST", "PUT", "PATCH"}
SOAP_CALLBACK = re.compile(r"^/v1/callbacks/[^/]+/schedulers/[^/]+$")
"""A scheduler's push (DRS's bookingConfirmation) is SOAP: XML is taken there, and only there."""
XML_MEDIA = {b"text/xml", b"application/soap+xml", b"application/xml"}


async def _problem(send: Send, status: int, kind: str, title: str, detail: str, path: str) -> None:
    body = json.dumps(
        {
            "type": PROBLEM_BASE + kind,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": instance_of(path),
            "errors": [{"field": "body", "location": "body", "message": detail}],
        }
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/problem+json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodyLimits:
    """Answers 413 for a body over ``max_bytes`` and 415 for a body that is not JSON."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        path = scope["path"]
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await _problem(
                send,
                413,
                "payload-too-large",
                "Payload too large",
                f"the body has more than {self.max_bytes} bytes",
                path,
            )
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                await _problem(
                    send,
                    413,
                    "payload-too-large",
                    "Payload too large",
                    f"the body has more than {self.max_bytes} bytes",
                    path,
                )
                return
            chunks.append(chunk)
            more = message.get("more_body", False)
        body = b"".join(chunks)
        if body:
            media = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
            xml_ok = media in XML_MEDIA and SOAP_CALLBACK.match(path) is not None
            if media != b"application/json" and not media.endswith(b"+json") and not xml_ok:
                await _problem(
                    send,
                    415,
                    "unsupported-media-type",
                    "Unsupported media type",
                    "the body must be application/json",
                    path,
                )
                return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
