"""Serving an ASGI app on a free port of 127.0.0.1 in a background thread: the demo's and
the contract suite's simulators, and the test doubles of the contract suite's own tests."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

STARTUP_SECONDS = 30.0


@contextmanager
def serve_asgi(app: Any, name: str = "app", *, http: str = "auto", port: int = 0) -> Iterator[str]:
    """Serve ``app`` (lifespan included) until the block ends; yields its base URL. ``http``
    is uvicorn's HTTP protocol: a name or an import path (the gateway's own, in
    ``repairs_gateway.server.edges.PROTOCOL_PATHS``). ``port`` 0 is a free one; a given port
    that is taken raises ``OSError`` before anything starts."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # Accepted connections inherit this: without it, keep-alive requests wait on delayed ACKs.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        raise
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on", http=http))
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": [sock]}, name=f"serve-{name}", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + STARTUP_SECONDS
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            sock.close()
            raise RuntimeError(f"{name} did not start on 127.0.0.1:{port} (see the log above)")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()
