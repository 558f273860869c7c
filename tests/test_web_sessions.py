"""The resident site's session and forms: every POST route refuses a form without this
session's CSRF token, and the session cookie is signed, HttpOnly, SameSite and, over
https, Secure."""

from __future__ import annotations

import httpx
import pytest
from fastapi.routing import APIRoute

from repairs_gateway.web import check, report

from gateway_support import Gateway
from journey import NORTHFIELD, create, first_window, repair_body
from web_support import Site, heading, site_app, site_for, text

# Every form of the site, with a path that reaches its route (the reference filled in).
POST_ROUTES = {
    "/report/postcode": "/report/postcode",
    "/report/address": "/report/address",
    "/report/triage": "/report/triage",
    "/report/triage/{path:path}": "/report/triage/kitchen",
    "/report/description": "/report/description",
    "/report/appointments": "/report/appointments",
    "/report/contact": "/report/contact",
    "/report/check": "/report/check",
    "/check": "/check",
    "/repair/{reference}/cancel": "/repair/{reference}/cancel",
    "/repair/{reference}/appointments": "/repair/{reference}/appointments",
}


def test_the_csrf_tests_cover_every_post_route() -> None:
    # Each part's own routes: a router that includes another holds it, not its routes.
    routes = [*(route for part in report.PARTS for route in part.router.routes), *check.router.routes]
    posted = {
        route.path for route in routes if isinstance(route, APIRoute) and "POST" in (route.methods or ())
    }
    assert posted == set(POST_ROUTES)


async def _booked_and_found(gateway: Gateway, site: Site) -> str:
    """A booked repair, which ``site``'s session has found (so it may cancel or move it)."""
    window = await first_window(gateway)
    reference = str((await create(gateway, repair_body(window["id"]))).json()["reference"])
    await site.get("/check")
    found = await site.submit("/check", {"reference": reference, "postcode": "NF1 1AA"})
    assert heading(found) == f"Repair {reference}"
    return reference


@pytest.mark.parametrize("token", ["none", "another session's"])
async def test_every_form_without_this_sessions_token_is_refused_with_a_page_and_sends_nothing(
    gateway: Gateway, token: str
) -> None:
    site, other = site_for(gateway), site_for(gateway)
    await site.get("/report/postcode")
    own_token = site.token()
    reference = await _booked_and_found(gateway, site)
    await other.get("/report/postcode")
    fields = {"postcode": "NF1 1AA", "uprn": "100012345001", "answer": "kitchen", "description": "x"}
    if token != "none":
        fields["csrf_token"] = other.token()
        assert fields["csrf_token"] != own_token
    sent: list[str] = []

    async def record(request: httpx.Request) -> None:
        sent.append(f"{request.method} {request.url.path}")

    gateway.client.event_hooks["request"].append(record)
    for path in POST_ROUTES.values():
        refused = await site.client.post(path.format(reference=reference), data=fields)
        assert refused.status_code == 403, path
        assert heading(refused) == "Your form could not be checked", path
        assert "Go back to the start and try again" in text(refused)
    assert not [call for call in sent if call.startswith("POST")], sent
    stored = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    assert stored.json()["status"] == "booked"
    assert await gateway.count() == 1


def _session_cookie(response: httpx.Response) -> str:
    cookies = [value for name, value in response.headers.multi_items() if name == "set-cookie"]
    assert len(cookies) == 1, cookies
    return cookies[0]


async def test_the_session_cookie_is_httponly_and_samesite_and_secure_only_over_https(
    gateway: Gateway,
) -> None:
    app = site_app(gateway)
    over_http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web")
    cookie = _session_cookie(await over_http.get("/report/postcode"))
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert cookie.startswith("repairs_session_northfield=")
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    # The demo serves http on loopback: a Secure cookie would never come back over it.
    assert "secure" not in attributes
    over_https = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://web")
    secure = [part.strip().lower() for part in _session_cookie(await over_https.get("/")).split(";")]
    assert "secure" in secure and "httponly" in secure and "samesite=lax" in secure


async def test_a_session_cookie_changed_in_the_browser_is_not_believed(gateway: Gateway) -> None:
    site = site_for(gateway)
    await site.get("/report/postcode")
    addresses = await site.submit("/report/postcode", {"postcode": "NF1 1AA"})
    assert heading(addresses) == "Where is the repair needed?"
    cookie = next(iter(site.client.cookies.jar))
    assert cookie.value
    # One character of the signed value changed: the report in progress is not read.
    changed = cookie.value[:-2] + ("A" if cookie.value[-2] != "A" else "B") + cookie.value[-1]
    site.client.cookies.set(cookie.name, changed, domain=cookie.domain)
    again = await site.get("/report/address")
    assert again.url.path == "/report/postcode"
