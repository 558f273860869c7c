"""The gateway's log lines: one formatter for its own loggers and uvicorn's, and the context
(request id, council, operation, job) that every line logged within a request or a job carries.

The context lives in a ``ContextVar``, so code below the API (services, adaptors) logs with
plain ``logging`` and its lines still say which request they belong to. A line is a JSON
object when stderr is not a terminal (what a log collector reads) and a readable line when it
is; ``REPAIRS_GATEWAY_LOG_FORMAT`` (``json``, ``text`` or ``auto``) chooses otherwise.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Iterator, Mapping, MutableMapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any, Literal

LogFormat = Literal["auto", "json", "text"]
FORMATS: tuple[str, ...] = ("auto", "json", "text")

ACCESS_LOGGER = "uvicorn.access"
HANDLER_NAME = "repairs_gateway"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", ACCESS_LOGGER, "uvicorn.asgi")
_PLAIN = re.compile(r"^[\w.:/@+-]+$")


@dataclass(frozen=True, slots=True)
class _Context:
    fields: Mapping[str, str | int] = field(default_factory=dict)
    # The request's ASGI scope: the router adds the route and path parameters to it once it
    # has matched, so the operation and council are read from it when a line is written.
    scope: MutableMapping[str, Any] | None = None


_current: ContextVar[_Context | None] = ContextVar("repairs_gateway_log_context", default=None)
_EMPTY = _Context()


def context_fields() -> dict[str, str | int]:
    """What lines logged here and now carry: request id, council, operation, job, ..."""
    context = _current.get() or _EMPTY
    found: dict[str, str | int] = dict(context.fields)
    scope = context.scope
    if scope is not None:
        route = scope.get("route")
        # Routes outside the spec (/healthz, /metrics) have no operationId: their name, then.
        operation = getattr(route, "operation_id", None) or getattr(route, "name", None)
        if isinstance(operation, str):
            found["operation"] = operation
        council = (scope.get("path_params") or {}).get("councilId")
        if isinstance(council, str) and council:
            found.setdefault("council", council[:63])
    return found


@contextmanager
def bound(scope: MutableMapping[str, Any] | None = None, **fields: str | int | None) -> Iterator[None]:
    """Lines logged inside carry ``fields`` (None values left out) besides those already bound,
    and the operation and council of ``scope``, an HTTP request's, when given."""
    outer = _current.get() or _EMPTY
    merged = {**outer.fields, **{k: v for k, v in fields.items() if v is not None}}
    token = _current.set(_Context(merged, scope if scope is not None else outer.scope))
    try:
        yield
    finally:
        _current.reset(token)


def _time(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _access_fields(record: logging.LogRecord) -> dict[str, Any]:
    """uvicorn's access line, as fields: it logs (client, method, path, HTTP version, status)."""
    args = record.args
    if record.name != ACCESS_LOGGER or not isinstance(args, tuple) or len(args) != 5:
        return {}
    client, method, path, _version, status = args
    return {"client": client, "method": method, "path": path, "status": status}


class JsonLineFormatter(logging.Formatter):
    """A JSON object a line: time (ISO 8601, UTC), level, logger, message, the context."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "time": _time(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(context_fields())
        entry.update(_access_fields(record))
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, default=str, ensure_ascii=False)


def _text_value(value: str | int) -> str:
    # Quoted when it holds spaces or control characters, so one line stays one line.
    text = str(value)
    return text if _PLAIN.match(text) else json.dumps(text, ensure_ascii=False)


class TextLineFormatter(logging.Formatter):
    """A line for people at a terminal: time, level, logger, message, then the context."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a readable line (an exception's traceback on the lines after)."""
        context = " ".join(f"{k}={_text_value(v)}" for k, v in context_fields().items())
        line = f"{_time(record)} {record.levelname:<7} {record.name}: {record.getMessage()}"
        if context:
            line += f"  [{context}]"
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        if record.stack_info:
            line += "\n" + self.formatStack(record.stack_info)
        return line


def chosen_format(choice: str, stream: IO[str]) -> Literal["json", "text"]:
    """``json`` or ``text``: as chosen, or for ``auto`` text on a terminal and JSON elsewhere."""
    if choice == "json":
        return "json"
    if choice == "text":
        return "text"
    if choice != "auto":
        raise ValueError(f"log format {choice!r} is not one of {', '.join(FORMATS)}")
    try:
        return "text" if stream.isatty() else "json"
    except (AttributeError, ValueError):  # a closed or unusual stream
        return "json"


def formatter(choice: str = "auto", stream: IO[str] | None = None) -> logging.Formatter:
    """The formatter for ``stream`` (stderr by default), ``choice`` as in ``chosen_format``."""
    chosen = chosen_format(choice, stream if stream is not None else sys.stderr)
    return TextLineFormatter() if chosen == "text" else JsonLineFormatter()


def dict_config(level: str = "INFO", choice: str = "auto") -> dict[str, Any]:
    """A ``logging.config.dictConfig`` document: every line to stderr through ``formatter``,
    uvicorn's included. ``serve`` gives it to uvicorn too, which applies it again in each
    process of ``--workers N`` (they do not inherit the first process's logging)."""
    chosen_format(choice, sys.stderr)  # a bad choice fails here, not inside dictConfig
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"gateway": {"()": f"{__name__}.formatter", "choice": choice}},
        "handlers": {
            "stderr": {"class": "logging.StreamHandler", "formatter": "gateway", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["stderr"], "level": level.upper()},
        # uvicorn's loggers lose handlers of their own and pass their lines to the root's.
        "loggers": {name: {"handlers": [], "propagate": True} for name in UVICORN_LOGGERS},
    }


def configure(level: str = "INFO", choice: str = "auto", stream: IO[str] | None = None) -> None:
    """Send every log line of this process to ``stream`` (stderr) in the chosen format, at
    ``level``. Called again, it replaces its own handler and leaves others be (dictConfig
    would close every handler of the process, a test runner's among them)."""
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(formatter(choice, handler.stream))
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == HANDLER_NAME]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
