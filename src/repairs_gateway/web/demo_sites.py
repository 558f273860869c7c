"""The demo's resident sites: one per demo council, beside the gateway, on loopback."""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager

import click

from repairs_gateway.web.command import default_assets

# With the demo's --base-port, council number i's site listens on base port + this + i
# (after the simulators' offsets).
SITE_PORT_OFFSET = 10


@contextmanager
def resident_sites(
    gateway_url: str, api_key: str, councils: Sequence[str], base_port: int | None = None
) -> Iterator[list[str]]:
    """Serve a resident site for each council (free ports, or from ``base_port``) until the
    block ends; yields the lines to print, which say where each is, or why none started
    (GOV.UK Frontend not installed: the demo runs without them)."""
    import httpx

    from repairs_gateway.serving import serve_asgi
    from repairs_gateway.web.app import create_web_app

    assets = default_assets()
    if not (assets / "govuk-frontend.min.css").is_file():
        yield [f"Resident sites: not started, GOV.UK Frontend is not installed at {assets} (run `npm ci`)"]
        return
    with ExitStack() as stack:
        lines = []
        for number, council in enumerate(councils):
            # Each site calls the gateway over HTTP, as any council's front-end would.
            client = httpx.AsyncClient(base_url=gateway_url, timeout=httpx.Timeout(35.0, connect=5.0))
            app = create_web_app(client, council, api_key, secrets.token_urlsafe(48), assets)
            port = 0 if base_port is None else base_port + SITE_PORT_OFFSET + number
            try:
                url = stack.enter_context(serve_asgi(app, name=f"{council} resident site", port=port))
            except OSError as exc:
                raise click.ClickException(
                    f"port {port} (the resident site for {council}) cannot be used: "
                    f"{exc.strerror or exc}. Choose another --base-port."
                ) from exc
            lines.append(f"Resident site for {council}: {url}")
        yield lines
