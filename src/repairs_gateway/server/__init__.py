"""How the gateway's HTTP server treats connections: time to send a request, a cap on
connections, a cap on header size and the process's open-file limit (decision 0016)."""

from repairs_gateway.server.edges import (
    EdgeLimits,
    configure,
    raise_open_file_limit,
    uvicorn_options,
)

__all__ = ["EdgeLimits", "configure", "raise_open_file_limit", "uvicorn_options"]
