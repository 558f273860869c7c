"""Only UTF-8 JSON is taken, and heads too large are answered 431 (issue 14): a booking sent
as UTF-16 was stored, a 100 KB header was taken, a 1 MB one got a plain-text 400."""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from repairs_gateway.api.app import create_app
from repairs_gateway.demo.data import demo_config_path
from repairs_gateway.server import edges
from repairs_gateway.serving import serve_asgi
from repairs_gateway.settings import Settings

from gateway_support import Gateway
from journey import NORTHFIELD, first_window, repair_body


def assert_problem(response: httpx.Response, status: int) -> dict[str, object]:
    """The response is a problem document with ``status``; returns it."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    document: dict[str, object] = response.json()
    assert document["status"] == status and document["title"] and document["detail"]
    return document


# ------------------------------------------------------------------------- charsets and types


@pytest.mark.parametrize("charset", ["utf-16", "UTF-16LE", "utf-32", "iso-8859-1", "windows-1252"])
async def test_a_booking_in_another_charset_is_refused_and_nothing_is_stored(
    gateway: Gateway, charset: str
) -> None:
    window = await first_window(gateway)
    body = json.dumps(repair_body(window["id"])).encode(charset.lower())
    answer = await gateway.client.post(
        f"{NORTHFIELD}/repairs",
        content=body,
        headers={**gateway.auth(), "Content-Type": f"application/json; charset={charset}"},
    )
    problem = assert_problem(answer, 415)
    assert charset.lower() in str(problem["detail"]).lower()
    assert problem["type"] == "/problems/unsupported-media-type"
    assert await gateway.count() == 0


async def test_a_utf16_body_that_names_no_charset_is_refused(gateway: Gateway) -> None:
    # Python's JSON parser reads UTF-16 and UTF-32 bytes quietly; the API takes UTF-8 only.
    window = await first_window(gateway)
    for encoding in ("utf-16", "utf-16-le", "utf-32"):
        answer = await gateway.client.post(
            f"{NORTHFIELD}/repairs",
            content=json.dumps(repair_body(window["id"])).encode(encoding),
            headers={**gateway.auth(), "Content-Type": "application/json"},
        )
        assert "UTF-8" in str(assert_problem(answer, 415)["detail"])
    assert await gateway.count() == 0


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "text/json", "application/xml"]
)
async def test_a_body_that_is_not_json_is_refused_naming_its_type(
    gateway: Gateway, content_type: str
) -> None:
    window = await first_window(gateway)
    answer = await gateway.client.post(
        f"{NORTHFIELD}/repairs",
        content=json.dumps(repair_body(window["id"])),
        headers={**gateway.auth(), "Content-Type": content_type},
    )
    assert content_type in str(assert_problem(answer, 415)["detail"])
    assert await gateway.count() == 0


@pytest.mark.parametrize(
    "content_type", ["application/json; charset=UTF-8", 'application/json;charset="utf-8"']
)
async def test_utf8_json_however_the_charset_is_written_is_taken(gateway: Gateway, content_type: str) -> None:
    window = await first_window(gateway)
    answer = await gateway.client.post(
        f"{NORTHFIELD}/repairs",
        content=json.dumps(repair_body(window["id"]), ensure_ascii=False).encode(),
        headers={**gateway.auth(), "Content-Type": content_type},
    )
    assert answer.status_code == 201, answer.text
    assert await gateway.count() == 1


# ------------------------------------------------------------------------------ header sizes


@pytest.fixture(params=["httptools", "h11"])
def served(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[int]:
    """The gateway served by uvicorn with the protocol ``serve`` uses (and its h11 fallback),
    at the default limits; yields its port."""
    monkeypatch.setattr(edges, "_configured", edges.EdgeLimits())
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'gw.db'}",
        config_file=demo_config_path(),
        token_secret=secrets.token_urlsafe(40),
    )
    with serve_asgi(create_app(settings), "gateway", http=edges.PROTOCOL_PATHS[request.param]) as url:
        yield int(url.rsplit(":", 1)[1])


def exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` on a new connection and read the answer until the server closes it
    (or has sent one whole answer)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        # The server may answer and close before taking it all; then read what it said.
        with contextlib.suppress(OSError):
            sock.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received or len(received) < _answer_length(received):
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            received += chunk
        return received


def _answer_length(received: bytes) -> int:
    head, _, _ = received.partition(b"\r\n\r\n")
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(head) + 4 + int(value)
    return len(received) + 1  # no length: read to the end


def parsed(answer: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    return int(lines[0].split()[1]), headers, body


def get_with_header(size: int) -> bytes:
    return b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + b"a" * size + b"\r\n\r\n"


def test_an_ordinary_head_is_taken(served: int) -> None:
    status, _, _ = parsed(exchange(served, get_with_header(8 * 1024)))
    assert status == 200


@pytest.mark.parametrize("size", [100 * 1024, 1024 * 1024])
def test_a_head_too_large_is_answered_431_as_a_problem_document(served: int, size: int) -> None:
    status, headers, body = parsed(exchange(served, get_with_header(size)))
    assert status == 431
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 431 and "16384" in problem["detail"]


def test_many_headers_adding_up_to_too_much_are_431(served: int) -> None:
    many = b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 100) for n in range(200))
    answer = exchange(served, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n" + many + b"\r\n")
    assert parsed(answer)[0] == 431


def test_a_request_that_is_not_http_is_a_400_problem_document(served: int) -> None:
    status, headers, body = parsed(exchange(served, b"GET /healthz HTTP/1.1\r\nBad Header\r\n\r\n"))
    assert status == 400
    assert headers["content-type"] == "application/problem+json"
    assert json.loads(body)["type"] == "/problems/invalid-request"
