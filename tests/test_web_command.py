"""`repairs-gateway web`: it refuses to start without what it needs, saying what to do, and
serves GOV.UK Frontend's files from the folder npm installed."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from repairs_gateway.cli import main
from repairs_gateway.web.app import create_web_app

from web_support import Site


def test_web_without_the_assets_tells_the_user_to_run_the_setup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SITE_KEY", "rgk_test")
    result = CliRunner().invoke(
        main,
        [
            "web",
            "--gateway-url",
            "http://127.0.0.1:9",
            "--api-key-env",
            "SITE_KEY",
            "--council",
            "northfield",
            "--assets",
            str(tmp_path / "missing"),
        ],
    )
    assert result.exit_code == 1
    assert "GOV.UK Frontend is not installed" in result.output
    assert "npm ci" in result.output


def test_web_without_an_api_key_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SITE_KEY", raising=False)
    result = CliRunner().invoke(
        main,
        [
            "web",
            "--gateway-url",
            "http://127.0.0.1:9",
            "--api-key-env",
            "SITE_KEY",
            "--council",
            "northfield",
        ],
    )
    assert result.exit_code == 1
    assert "SITE_KEY" in result.output


async def test_govuk_frontend_files_are_served_from_the_assets_folder(tmp_path: Path) -> None:
    (tmp_path / "assets" / "fonts").mkdir(parents=True)
    (tmp_path / "govuk-frontend.min.css").write_text(".govuk-body{}")
    (tmp_path / "assets" / "fonts" / "bold.woff2").write_bytes(b"font")
    gateway = httpx.AsyncClient(base_url="http://127.0.0.1:9")
    app = create_web_app(gateway, "northfield", "rgk_test", secrets.token_urlsafe(32), tmp_path)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web") as client:
        css = await client.get("/govuk-frontend/govuk-frontend.min.css")
        font = await client.get("/assets/fonts/bold.woff2")
        script = await client.get("/static/init.js")
        # The gateway is not running: the page says so, and it is not a crash.
        site = Site(client)
        await site.get("/report/postcode")
        page = await site.submit("/report/postcode", {"postcode": "NF1 1AA"})
    assert css.status_code == 200 and css.text == ".govuk-body{}"
    assert font.content == b"font"
    assert "initAll" in script.text
    assert page.status_code == 503
    assert "Sorry, there is a problem with the service" in page.text
    await gateway.aclose()
