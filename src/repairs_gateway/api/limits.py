"""Body size, content type and charset, checked before any route parses a body."""

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


UTF16_32_MARKS = (b"\xfe\xff", b"\xff\xfe")
"""Byte-order marks of UTF-16 and UTF-32 (little-endian UTF-32 starts with UTF-16's)."""


def _media_and_charset(content_type: bytes) -> tuple[bytes, bytes | None]:
    """The media type of a Content-Type header, lower-cased, and its charset if it names one."""
    media, *parameters = content_type.split(b";")
    charset = None
    for parameter in parameters:
        name, _, value = parameter.partition(b"=")
        if name.strip().lower() == b"charset":
            charset = value.strip().strip(b'"').lower()
    return media.strip().lower(), charset


def _not_utf8(body: bytes) -> bool:
    """Whether ``body`` is JSON in UTF-16 or UTF-32, which Python's JSON parser would take
    quietly: a byte-order mark, or a NUL in the first four bytes (no JSON text starts with one)."""
    return body.startswith(UTF16_32_MARKS) or b"\x00" in body[:4]


async def _problem(
    send: Send,
    status: int,
    kind: str,
    title: str,
    detail: str,
    path: str,
    field: tuple[str, str] = ("body", "body"),
) -> None:
    body = json.dumps(
        {
            "type": PROBLEM_BASE + kind,
            "title": title,
            "status": status,
            "detail": detail,
            "instance": instance_of(path),
            "errors": [{"field": field[0], "location": field[1], "message": detail}],
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
    """Answers 413 for a body over ``max_bytes`` and 415 for a body that is not UTF-8 JSON."""

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
            refusal = self._refusal(headers.get(b"content-type", b""), body, path)
            if refusal is not None:
                await _problem(
                    send,
                    415,
                    "unsupported-media-type",
                    "Unsupported media type",
                    refusal,
                    path,
                    ("Content-Type", "header"),
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

    @staticmethod
    def _refusal(content_type: bytes, body: bytes, path: str) -> str | None:
        """Why a body of ``content_type`` is not taken, or None when it is: only UTF-8 JSON
        (and XML on a scheduler's SOAP callback, whose encoding its XML declaration names)."""
        media, charset = _media_and_charset(content_type)
        if media in XML_MEDIA and SOAP_CALLBACK.match(path) is not None:
            return None
        if media != b"application/json" and not media.endswith(b"+json"):
            shown = media.decode("latin-1") or "no Content-Type"
            return f"the body must be application/json in UTF-8, not {shown}"
        if charset is not None and charset not in (b"utf-8", b"utf8"):
            named = charset.decode("latin-1")
            return f"the body must be UTF-8 JSON, not charset={named}"
        if _not_utf8(body):
            return "the body must be UTF-8 JSON; it looks like UTF-16 or UTF-32"
        return None
