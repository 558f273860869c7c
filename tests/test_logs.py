"""Log lines and the request id (issue 12): every line says when, how bad, where from and,
within a request, which request, council and operation; every answer carries the request's
id in X-Request-Id; what the gateway answers as designed (a full window) is not a warning."""

from __future__ import annotations

import contextlib
import io
import json
import logging
import os
import re
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from repairs_gateway.demo.data import demo_config_path, demo_document

from demo_process import demo_command, free_port
from gateway_support import Gateway
from journey import NORTHFIELD, OTHER_UPRN, create, first_window, repair_body

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def _one_place_a_window() -> dict[str, Any]:
    """The demo councils, Northfield's calendar taking one repair a window."""
    document = demo_document()
    calendar = document["councils"][0]["schedulers"][0]["settings"]
    calendar["windows"] = [{"start": "08:00", "end": "12:00", "capacity": {"*": 1}}]
    return document


@pytest.fixture
def json_logs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """The gateway's logging set up as the commands set it up, at DEBUG, as JSON to stderr
    (a buffer here); yields a function answering the lines written since it was last called,
    parsed. The process's logging is put back afterwards."""
    from repairs_gateway.cli import _logging
    from repairs_gateway.settings import Settings

    stderr = io.StringIO()
    monkeypatch.setattr(sys, "stderr", stderr)
    monkeypatch.setenv("REPAIRS_GATEWAY_LOG_FORMAT", "json")
    monkeypatch.setenv("REPAIRS_GATEWAY_LOG_LEVEL", "DEBUG")
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    _logging(Settings())
    # aiosqlite and the HTTP clients are chatty at DEBUG; they are not what is tested here.
    quiet = [logging.getLogger(name) for name in ("aiosqlite", "httpx", "httpcore", "asyncio")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.WARNING)
    read = 0

    def lines() -> list[dict[str, Any]]:
        nonlocal read
        written = stderr.getvalue()[read:]
        read += len(written)
        return [json.loads(line) for line in written.splitlines() if line.strip()]

    yield lines
    root.handlers[:] = handlers
    root.setLevel(level)
    for logger, saved in zip(quiet, levels, strict=True):
        logger.setLevel(saved)


async def test_a_full_window_logs_one_json_debug_line_with_the_request_id_council_and_operation(
    make_gateway: Any, json_logs: Any
) -> None:
    gateway: Gateway = await make_gateway(document=_one_place_a_window())
    window = await first_window(gateway)
    same_window_next_door = await first_window(gateway, OTHER_UPRN)
    assert (await create(gateway, repair_body(window["id"]))).status_code == 201
    json_logs()  # what came before the refusal

    taken = await gateway.client.post(
        f"{NORTHFIELD}/repairs",
        json=repair_body(same_window_next_door["id"], uprn=OTHER_UPRN),
        headers={**gateway.auth(), "X-Request-Id": "front-end-42"},
    )

    assert taken.status_code == 409
    assert taken.headers["X-Request-Id"] == "front-end-42"
    lines = json_logs()
    assert lines, "nothing was logged for the refused booking"
    full = [line for line in lines if "full" in line["message"]]
    assert len(full) == 1, lines
    (line,) = full
    assert line["level"] == "DEBUG"
    assert line["logger"] == "repairs_gateway.backend"
    assert line["request_id"] == "front-end-42"
    assert line["council"] == "northfield"
    assert line["operation"] == "createRepair"
    assert datetime.fromisoformat(line["time"]).utcoffset() is not None
    assert line["time"].endswith("Z")
    assert "(None)" not in line["message"]
    # A window taken since it was offered is answered as designed: nothing above debug.
    assert [x for x in lines if x["level"] not in ("DEBUG", "INFO")] == []


async def test_a_full_window_is_not_logged_as_a_failure(
    make_gateway: Any, caplog: pytest.LogCaptureFixture
) -> None:
    gateway: Gateway = await make_gateway(document=_one_place_a_window())
    window = await first_window(gateway)
    same_window_next_door = await first_window(gateway, OTHER_UPRN)
    assert (await create(gateway, repair_body(window["id"]))).status_code == 201
    caplog.set_level(logging.DEBUG, logger="repairs_gateway")
    caplog.clear()

    taken = await create(gateway, repair_body(same_window_next_door["id"], uprn=OTHER_UPRN))

    assert taken.status_code == 409
    told = [r for r in caplog.records if r.name.startswith("repairs_gateway")]
    assert [r.getMessage() for r in told if r.levelno >= logging.WARNING] == []
    (full,) = [r.getMessage() for r in told if "full" in r.getMessage()]
    assert "None" not in full


async def test_a_backend_down_once_then_answering_is_no_warning_and_down_for_good_is_one(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from repairs_gateway.metrics import Metrics
    from repairs_gateway.ports import BackendUnavailable
    from repairs_gateway.resilience import BackendCaller

    caller = BackendCaller(Metrics(), timeout=5, retries=2, backoff=0)
    failures = iter([BackendUnavailable("connection refused", detail="ECONNREFUSED")])

    async def flaky() -> str:
        for failure in failures:
            raise failure
        return "answered"

    caplog.set_level(logging.DEBUG, logger="repairs_gateway")
    assert await caller.call("drs", "slots", flaky, idempotent=True) == "answered"
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    (tried,) = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert "connection refused" in tried and "ECONNREFUSED" in tried

    caplog.clear()

    async def down() -> str:
        raise BackendUnavailable("connection refused")

    with pytest.raises(BackendUnavailable):
        await caller.call("drs", "slots", down, idempotent=True)
    (warned,) = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warned == "drs.slots failed (unavailable): connection refused"


async def test_an_unexpected_error_answers_and_logs_with_the_request_id(
    gateway: Gateway, json_logs: Any
) -> None:
    async def broken() -> None:
        raise RuntimeError("a bug")

    app: FastAPI = gateway.app
    app.add_api_route("/v1/broken", broken, operation_id="brokenForTest")
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
        answer = await client.get("/v1/broken", headers={"X-Request-Id": "trace-500"})

    assert answer.status_code == 500
    assert answer.headers["X-Request-Id"] == "trace-500"
    (line,) = [x for x in json_logs() if x["level"] == "ERROR"]
    assert line["request_id"] == "trace-500"
    assert line["operation"] == "brokenForTest"
    assert "RuntimeError: a bug" in line["exception"]


async def test_a_worker_job_logs_with_its_job_council_and_repair(gateway: Gateway, json_logs: Any) -> None:
    from repairs_gateway.persistence.queue import JobQueue, NewJob
    from repairs_gateway.worker.runner import Worker

    # A kind no handler takes: the worker gives it up and says so, at error level.
    await JobQueue(gateway.sessions).enqueue(
        NewJob("no-such-kind", "no-such-kind:77", council_id="southmoor", repair_id=77)
    )
    json_logs()
    assert await Worker(gateway.app.state.gateway.parts).run_until_idle(10) == 1

    (line,) = [x for x in json_logs() if x["level"] == "ERROR"]
    assert "needs a person" in line["message"]
    assert line["council"] == "southmoor"
    assert line["repair_id"] == 77
    assert line["job_kind"] == "no-such-kind" and isinstance(line["job"], int)
    assert "request_id" not in line


async def test_a_request_id_given_is_echoed_and_one_is_made_up_when_none_is(gateway: Gateway) -> None:
    given = await gateway.client.get(
        f"{NORTHFIELD}/triage", headers={**gateway.auth(), "X-Request-Id": "abc-123.4:5_6"}
    )
    assert given.status_code == 200
    assert given.headers["X-Request-Id"] == "abc-123.4:5_6"

    first = await gateway.client.get(f"{NORTHFIELD}/triage", headers=gateway.auth())
    second = await gateway.client.get(f"{NORTHFIELD}/triage", headers=gateway.auth())
    assert UUID.match(first.headers["X-Request-Id"]), first.headers
    assert UUID.match(second.headers["X-Request-Id"]), second.headers
    assert first.headers["X-Request-Id"] != second.headers["X-Request-Id"]


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        ("GET", "/v1/no-such-thing", 404, None),
        ("DELETE", f"{NORTHFIELD}/triage", 405, None),
        ("GET", f"{NORTHFIELD}/addresses?postcode=not-one", 400, None),
        ("GET", f"{NORTHFIELD}/triage", 401, None),  # no key
        ("POST", f"{NORTHFIELD}/repairs", 413, ("application/json", b'"' + b"x" * 40_000 + b'"')),
        ("POST", f"{NORTHFIELD}/repairs", 415, ("text/plain", b"a blocked sink")),
    ],
)
async def test_problem_documents_carry_the_request_id(
    gateway: Gateway, method: str, path: str, status: int, body: tuple[str, bytes] | None
) -> None:
    headers = {} if status == 401 else gateway.auth()
    content = None
    if body is not None:
        headers["Content-Type"], content = body
    answer = await gateway.client.request(
        method, path, headers={**headers, "X-Request-Id": "problem-7"}, content=content
    )
    assert answer.status_code == status
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.headers["X-Request-Id"] == "problem-7"
    made_up = await gateway.client.request(method, path, headers=headers, content=content)
    assert UUID.match(made_up.headers["X-Request-Id"])


@pytest.mark.parametrize(
    "unsafe",
    ["has spaces", "x" * 65, 'quote"d', "semi;colon", "new\tline", ""],
)
async def test_an_unsafe_or_long_request_id_is_replaced(gateway: Gateway, unsafe: str) -> None:
    answer = await gateway.client.get(
        f"{NORTHFIELD}/triage", headers={**gateway.auth(), "X-Request-Id": unsafe}
    )
    assert answer.status_code == 200  # a bad id is no reason to refuse the request
    assert UUID.match(answer.headers["X-Request-Id"]), answer.headers["X-Request-Id"]


def test_the_spec_declares_the_request_id_on_every_answer() -> None:
    from repairs_gateway.spec import spec_document

    document = spec_document()

    def resolved(node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = document["components"]["responses"][node["$ref"].rsplit("/", 1)[-1]]
        return node

    missing = [
        f"{operation['operationId']} {status}"
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in {"get", "post", "put", "patch", "delete"}
        for status, answer in operation["responses"].items()
        if "X-Request-Id" not in resolved(answer).get("headers", {})
    ]
    assert missing == []
    pattern = document["components"]["headers"]["RequestId"]["schema"]["pattern"]
    assert re.match(pattern, "front-end-42") and not re.match(pattern, "has spaces")
    assert "X-Request-Id" in document["info"]["description"]


def _log_a_line(stderr: int, **env: str) -> None:
    """Run a process that sets up logging as the commands do and logs one warning."""
    script = (
        "import logging\n"
        "from repairs_gateway.cli import _logging\n"
        "from repairs_gateway.settings import Settings\n"
        "_logging(Settings())\n"
        "logging.getLogger('repairs_gateway.backend').warning('drs.book failed (unavailable): down')\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("REPAIRS_GATEWAY_LOG")}
    subprocess.run(
        [sys.executable, "-c", script], stderr=stderr, env={**environment, **env}, check=True, timeout=60
    )


def _read_pty(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the other end is closed and everything has been read
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks).decode()


def test_lines_are_json_off_a_terminal_and_readable_on_one(tmp_path: Path) -> None:
    piped = tmp_path / "stderr"
    with piped.open("w") as file:
        _log_a_line(file.fileno())
    (line,) = piped.read_text().splitlines()
    logged = json.loads(line)
    assert logged["level"] == "WARNING"
    assert logged["logger"] == "repairs_gateway.backend"
    assert logged["message"] == "drs.book failed (unavailable): down"
    assert datetime.fromisoformat(logged["time"])

    controller, terminal = os.openpty()
    try:
        _log_a_line(terminal)
        os.close(terminal)
        shown = _read_pty(controller).strip()
    finally:
        os.close(controller)
    assert not shown.startswith("{"), shown
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARNING +repairs_gateway\.backend: ", shown), (
        shown
    )
    assert shown.endswith("drs.book failed (unavailable): down")


def test_the_log_format_setting_overrides_the_terminal_check(tmp_path: Path) -> None:
    controller, terminal = os.openpty()
    try:
        _log_a_line(terminal, REPAIRS_GATEWAY_LOG_FORMAT="json")
        os.close(terminal)
        shown = _read_pty(controller).strip()
    finally:
        os.close(controller)
    assert json.loads(shown)["level"] == "WARNING"

    piped = tmp_path / "stderr"
    with piped.open("w") as file:
        _log_a_line(file.fileno(), REPAIRS_GATEWAY_LOG_FORMAT="text")
    written = piped.read_text().strip()
    assert " WARNING " in written and not written.startswith("{"), written


def test_the_log_sender_keeps_the_resident_out_of_info_lines(caplog: pytest.LogCaptureFixture) -> None:
    import asyncio

    from repairs_gateway.builtin.log_notifier import LogNotifier
    from repairs_gateway.ports import OutgoingMessage

    personal = {
        "name": "Sam Resident",
        "phone": "07700 900123",
        "contact_number": "07700 900123",
        "email": "sam@example.org",
        "address": "1 Acacia Road, Northfield",
        "description": "The kitchen sink is blocked",
        "repair": "The kitchen sink is blocked",
    }
    message = OutgoingMessage(
        "northfield",
        "booked",
        "sms",
        "07700 900123",
        "template-1",
        {"reference": "NF-7KQ3M9X", "appointment": "Monday 4 January", **personal},
        "NF-7KQ3M9X/booked",
    )
    caplog.set_level(logging.DEBUG, logger="repairs_gateway")
    asyncio.run(LogNotifier("northfield").send(message))
    told = " ".join(r.getMessage() for r in caplog.records if r.levelno >= logging.INFO)
    assert "NF-7KQ3M9X" in told and "Monday 4 January" in told
    for value in personal.values():
        assert value not in told, value


@pytest.mark.xdist_group("processes")
def test_serve_writes_its_access_log_as_json_lines_with_the_request_id(tmp_path: Path) -> None:
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REPAIRS_GATEWAY_")},
        "REPAIRS_GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'serve.db'}",
        "REPAIRS_GATEWAY_CONFIG_FILE": str(demo_config_path()),
        "REPAIRS_GATEWAY_TOKEN_SECRET": secrets.token_urlsafe(40),
        "PYTHONUNBUFFERED": "1",
    }
    command = [sys.executable, "-m", "repairs_gateway.cli"]
    subprocess.run([*command, "db", "upgrade"], env=env, check=True, capture_output=True, timeout=120)
    port = free_port()
    log_file = tmp_path / "stderr"
    with log_file.open("w") as stderr:
        process = subprocess.Popen(
            [*command, "serve", "--port", str(port)], env=env, stderr=stderr, stdout=subprocess.DEVNULL
        )
        try:
            answer = _get_when_up(f"http://127.0.0.1:{port}{NORTHFIELD}/triage", "access-log-1")
            too_large = _raw_answer(port, b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 20_000)
        finally:
            process.terminate()
            process.wait(timeout=30)
    # A head too large to read is answered before the app, with an id of its own.
    status_line, _, rest = too_large.partition(b"\r\n")
    assert status_line.startswith(b"HTTP/1.1 431"), too_large[:200]
    (made_up,) = re.findall(rb"(?im)^x-request-id: (\S+)\r$", rest.partition(b"\r\n\r\n")[0] + b"\r")
    assert UUID.match(made_up.decode())
    assert answer.status_code == 401  # no key: a problem document, and an access line
    assert answer.headers["X-Request-Id"] == "access-log-1"
    lines = [json.loads(line) for line in log_file.read_text().splitlines()]
    (access,) = [line for line in lines if line["logger"] == "uvicorn.access"]
    assert access["request_id"] == "access-log-1"
    assert access["operation"] == "getTriage"
    assert access["council"] == "northfield"
    assert access["status"] == 401 and access["method"] == "GET"
    assert access["level"] == "INFO" and access["time"].endswith("Z")
    assert any(line["logger"].startswith("uvicorn") and "startup" in line["message"] for line in lines)


@pytest.mark.xdist_group("processes")
def test_the_demo_writes_the_gateways_lines_with_the_request_context(tmp_path: Path) -> None:
    port = free_port()
    output = tmp_path / "output"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("REPAIRS_GATEWAY_")},
        "REPAIRS_GATEWAY_LOG_LEVEL": "DEBUG",
        "PYTHONUNBUFFERED": "1",
    }
    with output.open("w") as written:
        # To a file, not a pipe: nothing here reads the demo's output while it runs.
        process = subprocess.Popen(
            demo_command(port, "--data-dir", str(tmp_path / "data")),
            env=env,
            stdout=written,
            stderr=subprocess.STDOUT,
        )
        try:
            key = _wait_for_key(output, process)
            url = f"http://127.0.0.1:{port}{NORTHFIELD}/triage"
            answer = _get_when_up(url, "not a safe id", {"Authorization": f"Bearer {key}"})
        finally:
            process.terminate()
            process.wait(timeout=30)
    assert answer.status_code == 200
    request_id = answer.headers["X-Request-Id"]
    assert UUID.match(request_id)
    lines = [json.loads(line) for line in output.read_text().splitlines() if line.startswith("{")]
    (replaced,) = [line for line in lines if line.get("request_id") == request_id]
    assert replaced["level"] == "DEBUG" and replaced["logger"] == "repairs_gateway.api"
    assert replaced["council"] == "northfield" and replaced["operation"] == "getTriage"


def _wait_for_key(output: Path, process: subprocess.Popen[bytes]) -> str:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if found := re.search(r"^API key: (\S+)$", output.read_text(), re.MULTILINE):
            return found.group(1)
        assert process.poll() is None, output.read_text()
        time.sleep(0.1)
    raise AssertionError("the demo printed no API key:\n" + output.read_text())


def _raw_answer(port: int, head: bytes) -> bytes:
    """What the gateway answers ``head`` (sent as it is, then the end of the headers)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        # It may answer and close before reading all that was sent.
        with contextlib.suppress(OSError):
            sock.sendall(head + b"\r\n\r\n")
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
        return received


async def test_a_connection_over_the_cap_is_refused_with_a_request_id() -> None:
    from repairs_gateway.server.edges import refuse_busy

    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    async def receive() -> Any:
        return {"type": "http.request", "body": b""}

    await refuse_busy({"type": "http", "headers": []}, receive, send)
    await refuse_busy({"type": "http", "headers": []}, receive, send)
    starts = [dict(m["headers"]) for m in sent if m["type"] == "http.response.start"]
    ids = [headers[b"x-request-id"].decode() for headers in starts]
    assert all(UUID.match(i) for i in ids) and len(set(ids)) == 2


def _get_when_up(url: str, request_id: str, headers: dict[str, str] | None = None) -> httpx.Response:
    deadline = time.monotonic() + 60
    while True:
        try:
            return httpx.get(url, headers={**(headers or {}), "X-Request-Id": request_id}, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
