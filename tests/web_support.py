"""Driving the resident site (repairs_gateway.web) over HTTP in-process, against a real
gateway app: what the tests/test_web_*.py share."""

from __future__ import annotations

import html
import re
import secrets
from dataclasses import dataclass
from typing import Any

import httpx

from repairs_gateway.web.app import create_web_app

from gateway_support import Gateway

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
H1 = re.compile(r"<h1[^>]*>(.*?)</h1>", re.S)
LEGEND_H1 = re.compile(r'<h1 class="govuk-fieldset__heading">(.*?)</h1>', re.S)


@dataclass
class Site:
    """The site for one council, and a browser-like client for it (cookies kept)."""

    client: httpx.AsyncClient
    page: httpx.Response | None = None

    async def get(self, url: str) -> httpx.Response:
        """GET a page, following redirects, and remember it (for its CSRF token)."""
        self.page = await self.client.get(url, follow_redirects=True)
        return self.page

    async def submit(self, url: str, fields: dict[str, str], follow: bool = True) -> httpx.Response:
        """POST a form as the browser would from the last page: with its CSRF token."""
        token = self.token()
        response = await self.client.post(url, data={"csrf_token": token, **fields}, follow_redirects=follow)
        if follow:
            self.page = response
        return response

    def token(self) -> str:
        """The CSRF token of the last page shown."""
        assert self.page is not None, "no page shown yet"
        found = CSRF.search(self.page.text)
        assert found, "the page has no form"
        return found.group(1)


def site_app(gateway: Gateway, council: str = "northfield", key: str | None = None) -> Any:
    """The resident site's app for ``council``, calling ``gateway`` through its HTTP client."""
    return create_web_app(gateway.client, council, key or gateway.key, secrets.token_urlsafe(32), None)


def site_for(gateway: Gateway, council: str = "northfield", key: str | None = None) -> Site:
    """The resident site for ``council``, and a client for it."""
    app = site_app(gateway, council, key)
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web")
    return Site(client)


def heading(response: httpx.Response) -> str:
    """The page's one <h1>, as text."""
    found = H1.findall(response.text)
    assert len(found) == 1, f"expected one h1, found {len(found)}"
    return html.unescape(re.sub(r"<[^>]+>", "", found[0])).strip()


def text(response: httpx.Response) -> str:
    """The page's text with the markup taken out and spaces collapsed, for 'says' checks."""
    body = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.text, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


WINDOW_RADIO = re.compile(r'name="windowId" type="radio" value="([^"]+)"')


def window_choices(page: httpx.Response) -> list[str]:
    """The windows a page offers, as its radios name them (start|end|label)."""
    return [html.unescape(value) for value in WINDOW_RADIO.findall(page.text)]


async def report_to_check(
    site: Site,
    *,
    postcode: str = "NF1 1AA",
    uprn: str = "100012345001",
    description: str = "The sink will not drain.",
    contact: dict[str, str] | None = None,
) -> httpx.Response:
    """Walk the report journey (the blocked kitchen sink, the first window offered) up to
    the check-your-answers page, and answer it."""
    await site.get("/report/postcode")
    await site.submit("/report/postcode", {"postcode": postcode})
    await site.submit("/report/address", {"uprn": uprn})
    await site.submit("/report/triage", {"answer": "kitchen"})
    await site.submit("/report/triage/kitchen", {"answer": "sink"})
    await site.submit("/report/triage/kitchen/sink", {"answer": "blocked"})
    times = await site.submit("/report/description", {"description": description})
    await site.submit("/report/appointments", {"windowId": window_choices(times)[0], "page": "1"})
    fields = contact or {
        "name": "Sam Resident",
        "phone": "07700 900123",
        "email": "",
        "preferredChannel": "sms",
    }
    return await site.submit("/report/contact", fields)
