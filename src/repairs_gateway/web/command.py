"""``repairs-gateway web``: serve the resident site for one council."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from pathlib import Path

import click

SECRET_ENV = "REPAIRS_GATEWAY_WEB_SECRET"
ASSETS_ENV = "REPAIRS_GATEWAY_WEB_ASSETS"

log = logging.getLogger("repairs_gateway.web")


def default_assets() -> Path:
    """GOV.UK Frontend's ``dist/govuk`` folder: $REPAIRS_GATEWAY_WEB_ASSETS, else the one npm
    installed in the checkout (``./dev`` runs ``npm ci``), else under the current folder."""
    if os.environ.get(ASSETS_ENV):
        return Path(os.environ[ASSETS_ENV])
    relative = Path("node_modules/govuk-frontend/dist/govuk")
    checkout = Path(__file__).resolve().parents[3] / relative
    return checkout if checkout.is_dir() else Path.cwd() / relative


def session_secret() -> str:
    """The key that signs the session cookie: $REPAIRS_GATEWAY_WEB_SECRET, else a new one
    for this process (sessions then end when it stops, and several processes disagree)."""
    secret = os.environ.get(SECRET_ENV, "")
    if secret:
        return secret
    log.warning("%s is not set: sessions are signed with a key made for this process only", SECRET_ENV)
    return secrets.token_urlsafe(48)


@click.command()
@click.option("--gateway-url", required=True, help="The Repairs API's base URL, e.g. http://127.0.0.1:8000")
@click.option(
    "--api-key-env",
    required=True,
    help="The environment variable holding the API key (a key is never given on the command line).",
)
@click.option("--council", required=True, help="The council's id in the API, e.g. northfield.")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8080, show_default=True, type=int)
@click.option(
    "--assets",
    type=click.Path(path_type=Path),
    default=None,
    help=f"GOV.UK Frontend's dist/govuk folder (default: ${ASSETS_ENV}, else node_modules in the checkout).",
)
def web(gateway_url: str, api_key_env: str, council: str, host: str, port: int, assets: Path | None) -> None:
    """Serve the resident site for one council, on the gateway's public API only.

    Sessions are signed with $REPAIRS_GATEWAY_WEB_SECRET (one is made per process if unset).
    """
    import httpx
    import uvicorn

    from repairs_gateway.web.app import create_web_app

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    api_key = os.environ.get(api_key_env, "")
    if not api_key:
        click.echo(f"Cannot start: the environment variable {api_key_env} holds no API key", err=True)
        sys.exit(1)
    folder = assets or default_assets()
    if not (folder / "govuk-frontend.min.css").is_file():
        click.echo(
            f"Cannot start: GOV.UK Frontend is not installed at {folder}. Run `npm ci` in the "
            "repository's root (./dev demo and ./dev test do it), or point --assets at its "
            "dist/govuk folder.",
            err=True,
        )
        sys.exit(1)
    client = httpx.AsyncClient(base_url=gateway_url.rstrip("/"), timeout=httpx.Timeout(35.0, connect=5.0))
    app = create_web_app(client, council, api_key, session_secret(), folder)
    click.echo(f"Resident site for {council} on http://{host}:{port}")
    uvicorn.run(app, host=host, port=port, log_level="info")
