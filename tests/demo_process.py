"""Run `repairs-gateway demo` as a real process on 127.0.0.1, as a new user would."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

STARTUP_SECONDS = 60


@dataclass(frozen=True, slots=True)
class RunningDemo:
    """Where the demo listens, the API keys it printed and everything it printed before:
    ``key`` for every council, ``other_key`` for Southmoor only and ``staff_key``, a staff
    key for every council (the keys a live contract run at Northfield needs)."""

    url: str
    key: str
    output: str
    other_key: str
    staff_key: str


def printed_key(output: str, variable: str) -> str:
    """The key the demo printed on its paste-ready ``  VARIABLE=...`` line."""
    match = re.search(rf"^  {variable}=(\S+)", output, re.MULTILINE)
    assert match, f"the demo printed no {variable}= line:\n{output}"
    return match.group(1)


def free_port() -> int:
    """A port of 127.0.0.1 nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_command(port: int, *options: str) -> list[str]:
    """The command line of ``repairs-gateway demo`` on ``port``, with ``options``."""
    return [sys.executable, "-m", "repairs_gateway.cli", "demo", "--port", str(port), *options]


@contextmanager
def running_demo(
    data_dir: Path | None,
    *options: str,
    env: Mapping[str, str] | None = None,
    stop_signal: int = signal.SIGTERM,
) -> Iterator[RunningDemo]:
    """Start the demo (in ``data_dir``, or the temporary folder it makes itself when None),
    wait until it prints its key and accepts connections; stop it after with
    ``stop_signal`` and wait until it has exited."""
    port = free_port()
    folder = [] if data_dir is None else ["--data-dir", str(data_dir)]
    process = subprocess.Popen(
        demo_command(port, *folder, *options),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})},
    )
    try:
        assert process.stdout is not None
        printed: list[str] = []
        key = None
        deadline = time.monotonic() + STARTUP_SECONDS
        # The key, then the lines to paste; the last of them says where the spec is.
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            assert line, "the demo exited before printing its key and examples:\n" + "".join(printed)
            printed.append(line)
            if match := re.match(r"API key: (\S+)", line):
                key = match.group(1)
            if key and line.startswith("The standard: "):
                break
        assert key, "the demo printed no API key"
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        output = "".join(printed)
        yield RunningDemo(
            f"http://127.0.0.1:{port}",
            key,
            output,
            other_key=printed_key(output, "OTHER_KEY"),
            staff_key=printed_key(output, "STAFF_KEY"),
        )
    finally:
        process.send_signal(stop_signal)
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()
