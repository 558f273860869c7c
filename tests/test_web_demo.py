"""The demo starts a resident site beside the gateway for each council and prints where
(a real `repairs-gateway demo` process on 127.0.0.1)."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from repairs_gateway.web.command import default_assets

from demo_process import running_demo

pytestmark = pytest.mark.xdist_group("processes")


def test_the_demo_serves_a_resident_site_per_council(tmp_path: Path) -> None:
    if not (default_assets() / "govuk-frontend.min.css").is_file():
        pytest.skip("GOV.UK Frontend is not installed (./dev runs npm ci)")
    with running_demo(tmp_path) as demo:
        sites = dict(re.findall(r"Resident site for (\S+): (http://127\.0\.0\.1:\d+)", demo.output))
        assert {"northfield", "eastbrook"} <= set(sites), demo.output
        with httpx.Client(timeout=30) as browser:
            start = browser.get(sites["eastbrook"])
            assert start.status_code == 200
            assert "Eastbrook" in start.text
            css = browser.get(f"{sites['northfield']}/govuk-frontend/govuk-frontend.min.css")
            assert css.status_code == 200
            # The site reaches the gateway: a postcode finds the council's addresses.
            form = browser.get(f"{sites['northfield']}/report/postcode")
            token = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert token
            addresses = browser.post(
                f"{sites['northfield']}/report/postcode",
                data={"csrf_token": token.group(1), "postcode": "NF1 1AA"},
                follow_redirects=True,
            )
            assert "Flat 1, Beech Court" in addresses.text
