"""The resident site when things go wrong: a refused form, a window taken meanwhile, a
scheduler that is down, the API refusing a field; and what it keeps out of URLs and logs."""

from __future__ import annotations

import asyncio
import html
import logging
import re
import secrets
from typing import Any

import httpx
import pytest

from repairs_gateway.web.app import create_web_app

from gateway_support import Gateway
from journey import create, repair_body, windows
from test_backend_failures import flaky_gateway
from web_support import Site, heading, report_to_check, site_for, text, window_choices


async def test_a_form_without_the_sessions_csrf_token_is_refused_and_does_nothing(gateway: Gateway) -> None:
    site = site_for(gateway)
    await report_to_check(site)
    forged = await site.client.post("/report/check", data={"csrf_token": "not-the-token"})
    assert forged.status_code == 403
    assert "Your form could not be checked" in text(forged)
    missing = await site.client.post("/report/postcode", data={"postcode": "NF1 1AA"})
    assert missing.status_code == 403
    assert await gateway.count() == 0


async def test_a_window_taken_meanwhile_says_so_and_offers_the_remaining_windows(gateway: Gateway) -> None:
    site = site_for(gateway)
    check = await report_to_check(site)
    assert heading(check) == "Check your answers before sending your report"
    # Two other residents take the first window's last places (plumbing: 2 a window).
    taken = (await windows(gateway))["days"][0]["windows"][0]
    for uprn in ("100012345002", "100012345003"):
        theirs = (await windows(gateway, uprn))["days"][0]["windows"][0]
        assert theirs["start"] == taken["start"]
        assert (await create(gateway, repair_body(theirs["id"], uprn=uprn))).status_code == 201
    answer = await site.submit("/report/check", {})
    assert heading(answer) == "When can we come?"
    assert "has just been booked by someone else" in text(answer)
    assert 'href="#windowId"' in answer.text
    offered = window_choices(answer)
    assert offered, "the remaining windows are offered"
    assert not any(choice.startswith(taken["start"]) for choice in offered)
    assert await gateway.count() == 2


async def test_a_scheduler_outage_still_records_the_report_and_says_we_will_contact_you(
    make_gateway: Any,
) -> None:
    gateway, switch = await flaky_gateway(make_gateway)
    site = site_for(gateway)
    await report_to_check(site)
    switch.mode = "down"
    done = await site.submit("/report/check", {})
    assert heading(done) == "Repair reported"
    said = text(done)
    assert "Your reference number" in said
    assert "could not book" in said
    assert await gateway.count() == 1


async def test_a_field_the_api_refuses_is_shown_on_its_own_page_in_a_residents_words(
    gateway: Gateway,
) -> None:
    site = site_for(gateway)
    await report_to_check(
        site, contact={"name": "Sam Resident", "phone": "call me", "email": "", "preferredChannel": "sms"}
    )
    refused = await site.submit("/report/check", {})
    assert heading(refused) == "Your contact details"
    assert (
        _title(refused)
        == "Error: Your contact details \u2013 Housing repairs \u2013 Northfield District Council"
    )
    assert _summary_links(refused) == ["#phone"]
    assert 'id="phone-error"' in refused.text
    # The API names the field; its message is for developers, and is not shown.
    api = await create(
        gateway, repair_body(contact={"name": "S", "phone": "call me", "preferredChannel": "sms"})
    )
    message = next(error["message"] for error in api.json()["errors"] if error["field"] == "contact.phone")
    assert message not in text(refused)
    assert "Enter a UK phone number, like 01632 960 001 or 07700 900 982" in text(refused)
    fixed = await site.submit(
        "/report/contact",
        {"name": "Sam Resident", "phone": "07700 900123", "email": "", "preferredChannel": "sms"},
    )
    done = await site.submit("/report/check", {})
    assert heading(fixed) == "Check your answers before sending your report"
    assert heading(done) == "Repair booked"


class _Refusing(httpx.AsyncBaseTransport):
    """A gateway (another implementation, say) that refuses every report with a 400 naming
    ``fields``, each with a message of its own wording."""

    def __init__(self, inner: httpx.AsyncBaseTransport, fields: list[str]) -> None:
        self.inner = inner
        self.fields = fields

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method != "POST" or not request.url.path.endswith("/repairs"):
            return await self.inner.handle_async_request(request)
        errors = [{"field": name, "location": "body", "message": "fails rule R-17"} for name in self.fields]
        problem = {"type": "/problems/invalid-request", "status": 400, "detail": "x", "errors": errors}
        return httpx.Response(400, headers={"Content-Type": "application/problem+json"}, json=problem)


def _refusing_site(gateway: Gateway, fields: list[str]) -> Site:
    client = httpx.AsyncClient(
        transport=_Refusing(gateway.client._transport, fields), base_url=gateway.client.base_url
    )
    app = create_web_app(client, "northfield", gateway.key, secrets.token_urlsafe(32), None)
    return Site(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web"))


@pytest.mark.parametrize(
    ("field", "page", "input_id"),
    [
        ("description", "Describe the problem", "description"),
        ("contact", "Your contact details", "phone"),
        ("contact.name", "Your contact details", "name"),
        ("contact.phone", "Your contact details", "phone"),
        ("contact.email", "Your contact details", "email"),
        ("contact.preferredChannel", "Your contact details", "preferredChannel"),
        ("windowId", "When can we come?", "windowId"),
        ("uprn", "Where is the repair needed?", "uprn"),
        ("repair.triagePath", "Where is the problem?", "answer"),
        ("body", "When can we come?", "windowId"),
    ],
)
async def test_each_field_the_api_names_takes_the_resident_to_it_with_the_summary_linking_to_it(
    gateway: Gateway, field: str, page: str, input_id: str
) -> None:
    site = _refusing_site(gateway, [field])
    await report_to_check(site)
    refused = await site.submit("/report/check", {})
    assert heading(refused) == page
    assert _title(refused).startswith(f"Error: {page} \u2013 ")
    assert _summary_links(refused) == [f"#{input_id}"]
    assert f'id="{input_id}"' in refused.text
    assert "R-17" not in text(refused)


async def test_errors_on_several_pages_show_on_the_first_page_only_its_own(gateway: Gateway) -> None:
    site = _refusing_site(gateway, ["description", "contact.phone"])
    await report_to_check(site)
    refused = await site.submit("/report/check", {})
    assert heading(refused) == "Describe the problem"
    # Every link in the summary leads to a field on this page.
    assert _summary_links(refused) == ["#description"]
    assert "phone" not in text(refused).lower()


async def test_a_postcode_the_api_refuses_is_named_in_a_residents_words(gateway: Gateway) -> None:
    site = site_for(gateway)
    await site.get("/report/postcode")
    refused = await site.submit("/report/postcode", {"postcode": "NF1"})
    assert _title(refused).startswith("Error: What is the postcode of the property? \u2013 ")
    assert _summary_links(refused) == ["#postcode"]
    assert "Enter a full UK postcode" in text(refused)
    assert "is not a UK postcode" not in text(refused)


def _title(page: httpx.Response) -> str:
    found = re.search(r"<title[^>]*>(.*?)</title>", page.text, re.S)
    assert found, "the page has no title"
    return " ".join(html.unescape(found.group(1)).split())


def _summary_links(page: httpx.Response) -> list[str]:
    summary = re.search(r'<div class="govuk-error-summary".*?</ul>', page.text, re.S)
    assert summary, "no error summary"
    return re.findall(r'href="([^"]+)"', summary.group(0))


async def test_no_resident_data_reaches_a_url_or_the_logs(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    # What the site logs, at the level `repairs-gateway web` runs at; the gateway's own
    # loggers (here in the same process) are not the site's.
    caplog.set_level(logging.INFO)
    site = site_for(gateway)
    urls: list[str] = []
    site.client.event_hooks["request"].append(lambda request: _record(urls, str(request.url)))
    gateway.client.event_hooks["request"].append(lambda request: _record(urls, "gateway"))
    details = {
        "name": "Ffion Quarrington",
        "phone": "07700 900456",
        "email": "ffion@example.org",
        "preferredChannel": "email",
    }
    await report_to_check(site, description="Water under the sink by the boiler", contact=details)
    done = await site.submit("/report/check", {})
    assert heading(done) == "Repair booked"
    secrets = ["NF1 1AA", "NF1%201AA", "NF1+1AA", *details.values(), "Water under the sink"]
    secrets.remove("email")
    site_logs = [record for record in caplog.records if record.name.startswith(SITE_LOGGERS)]
    site_urls = [url for url in urls if url != "gateway"]
    assert site_urls, "the site was visited"
    for secret in secrets:
        assert not any(secret.lower() in url.lower() for url in site_urls), secret
        assert not any(secret.lower() in record.getMessage().lower() for record in site_logs), secret


SITE_LOGGERS = ("repairs_gateway.web", "httpx", "httpcore", "uvicorn", "starlette", "fastapi", "root")


async def _record(urls: list[str], url: str) -> None:
    urls.append(url)


async def test_pages_carry_the_security_headers(gateway: Gateway) -> None:
    site = site_for(gateway)
    page = await site.get("/report/postcode")
    policy = page.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "'unsafe-inline'" not in policy
    nonce = policy.split("'nonce-")[1].split("'")[0]
    # The only inline script is GOV.UK Frontend's marker, and it carries this page's nonce.
    assert page.text.count("<script>") == 0
    assert f'nonce="{nonce}"' in page.text
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"


async def test_an_unknown_page_is_a_page_not_json(gateway: Gateway) -> None:
    site = site_for(gateway)
    missing = await site.get("/no-such-page")
    assert missing.status_code == 404
    assert heading(missing) == "Page not found"
    wrong_method = await site.client.delete("/report/postcode")
    assert wrong_method.status_code == 405
    assert wrong_method.headers["content-type"].startswith("text/html")


async def test_the_report_sent_twice_at_once_records_one_repair_and_answers_both(make_gateway: Any) -> None:
    gateway, switch = await flaky_gateway(make_gateway)
    site = site_for(gateway)
    await report_to_check(site)
    token = site.token()
    # A slow scheduler holds the first request while the second (a second press) arrives.
    switch.mode = "slow"
    first, second = await asyncio.gather(
        site.client.post("/report/check", data={"csrf_token": token}, follow_redirects=True),
        site.client.post("/report/check", data={"csrf_token": token}, follow_redirects=True),
    )
    assert heading(first) == heading(second) == "Repair reported"
    assert await gateway.count() == 1


async def test_a_problem_the_site_cannot_act_on_is_told_in_the_residents_words_not_the_apis(
    gateway: Gateway, caplog: pytest.LogCaptureFixture
) -> None:
    # A key the gateway does not know (an operator's mistake): 401, with a detail written
    # for the developer who set the site up, which tells a resident nothing they can do.
    caplog.set_level(logging.DEBUG)
    site = site_for(gateway, key="rgk_not-a-key-the-gateway-knows")
    api = await gateway.client.get(
        "/v1/councils/northfield/addresses",
        params={"postcode": "NF1 1AA"},
        headers={"Authorization": "Bearer rgk_not-a-key-the-gateway-knows"},
    )
    assert api.status_code == 401 and api.json()["detail"]
    await site.get("/report/postcode")
    page = await site.submit("/report/postcode", {"postcode": "NF1 1AA"})
    assert page.status_code == 500
    assert heading(page) == "Sorry, there is a problem with the service"
    said = text(page)
    assert "Try again later." in said
    assert "contact the council" in said
    assert api.json()["detail"] not in said
    for technical in ("401", "/problems/", "API key", "Authorization"):
        assert technical not in said, technical
    # What the resident typed reaches no log line, at any level.
    site_logs = [record for record in caplog.records if record.name.startswith(SITE_LOGGERS)]
    assert not any("NF1 1AA" in record.getMessage() for record in site_logs)


class _HtmlAnswers(httpx.AsyncBaseTransport):
    """Something between the site and the gateway (a proxy's sign-in page, say) that
    answers 200 with HTML instead of the API's JSON."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers={"Content-Type": "text/html"}, text="<html>Sign in</html>")


async def test_an_answer_that_is_not_the_apis_json_is_a_service_problem_page() -> None:
    client = httpx.AsyncClient(transport=_HtmlAnswers(), base_url="http://gateway")
    app = create_web_app(client, "northfield", "rgk_key", secrets.token_urlsafe(32), None)
    site = Site(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web"))
    await site.get("/report/postcode")
    page = await site.submit("/report/postcode", {"postcode": "NF1 1AA"})
    assert page.status_code == 500
    assert heading(page) == "Sorry, there is a problem with the service"
    assert "Try again later." in text(page)


class _Faulty(httpx.AsyncBaseTransport):
    """A gateway that names its council, and then a fault nobody planned for below the site
    (here, in its HTTP client) when the site looks for addresses."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/councils":
            return httpx.Response(200, json={"councils": [{"id": "northfield", "name": "Northfield"}]})
        raise RuntimeError("a fault nobody planned for")


async def test_a_fault_nothing_else_handles_is_a_service_problem_page_with_the_sites_headers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = httpx.AsyncClient(transport=_Faulty(), base_url="http://gateway")
    app = create_web_app(client, "northfield", "rgk_key", secrets.token_urlsafe(32), None)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    site = Site(httpx.AsyncClient(transport=transport, base_url="http://web"))
    await site.get("/report/postcode")
    with caplog.at_level(logging.ERROR, logger="repairs_gateway.web"):
        page = await site.submit("/report/postcode", {"postcode": "NF1 1AA"})
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert heading(page) == "Sorry, there is a problem with the service"
    assert "contact the council" in text(page)
    assert "RuntimeError" not in page.text and "Internal Server Error" not in page.text
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    # Whoever runs the site is told, with where it failed, and not the resident's postcode.
    (logged,) = [r for r in caplog.records if r.name == "repairs_gateway.web" and r.levelno == logging.ERROR]
    assert "/report/postcode" in logged.getMessage() and logged.exc_info is not None
    assert "NF1 1AA" not in caplog.text


async def test_the_sites_own_words_name_no_councils_examples(make_gateway: Any) -> None:
    """Each council's site shows the same pages: Northfield's postcode or reference as an
    example would mislead a Southmoor resident, whose are SM… and SM-…."""
    gateway: Gateway = await make_gateway()
    site = site_for(gateway, council="southmoor")
    pages = [await site.get("/report/postcode"), await site.get("/check")]
    pages.append(await site.submit("/report/postcode", {"postcode": ""}))
    pages.append(await site.submit("/check", {"reference": "", "postcode": ""}))
    pages.append(await site.submit("/check", {"reference": "not a reference", "postcode": "SM4 7XY"}))
    for page in pages:
        said = text(page)
        assert "NF1" not in said and "NF-" not in said, said
