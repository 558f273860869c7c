"""The resident site's report journey, at the HTML level, against a real gateway."""

from __future__ import annotations

import html
import json
import re
import secrets
from datetime import datetime
from typing import Any

import httpx
import pytest

from repairs_gateway.demo.data import demo_document
from repairs_gateway.web.app import create_web_app

from gateway_support import Gateway
from web_support import Site, heading, report_to_check, site_app, site_for, text, window_choices


async def test_postcode_leads_to_the_homes_and_shared_areas_there_and_the_first_question(
    gateway: Gateway,
) -> None:
    site = site_for(gateway)
    start = await site.get("/")
    assert start.status_code == 200
    assert "Northfield District Council" in text(start)
    await site.get("/report/postcode")
    page = await site.submit("/report/postcode", {"postcode": "nf1 1aa"})
    assert heading(page) == "Where is the repair needed?"
    said = text(page)
    assert "Flat 1, Beech Court" in said
    assert "Communal areas, Beech Court" in said
    assert "Shared area of the building" in said
    question = await site.submit("/report/address", {"uprn": "100012345900"})
    assert str(question.url).endswith("/report/triage")
    assert heading(question) == "Where is the problem?"
    assert 'id="answer"' in question.text


async def test_a_postcode_the_api_refuses_is_shown_on_the_postcode_field(gateway: Gateway) -> None:
    site = site_for(gateway)
    await site.get("/report/postcode")
    page = await site.submit("/report/postcode", {"postcode": "not a postcode"})
    assert page.status_code == 400
    assert "govuk-error-summary" in page.text
    assert 'href="#postcode"' in page.text
    assert 'id="postcode-error"' in page.text


async def test_an_emergency_ends_the_journey_with_the_councils_message(gateway: Gateway) -> None:
    site = site_for(gateway)
    await site.get("/report/postcode")
    await site.submit("/report/postcode", {"postcode": "NF1 1AA"})
    await site.submit("/report/address", {"uprn": "100012345001"})
    kitchen = await site.submit("/report/triage", {"answer": "kitchen"})
    assert heading(kitchen) == "What is the problem?"
    exit_page = await site.submit("/report/triage/kitchen", {"answer": "gas"})
    assert heading(exit_page) == "This is an emergency"
    assert "0800 111 999" in text(exit_page)
    assert "Book" not in text(exit_page)


COMMUNAL = "100012345900"


async def _to_description(site: Site, uprn: str = "100012345001") -> None:
    await site.get("/report/postcode")
    await site.submit("/report/postcode", {"postcode": "NF1 1AA"})
    await site.submit("/report/address", {"uprn": uprn})
    await site.submit("/report/triage", {"answer": "kitchen"})
    await site.submit("/report/triage/kitchen", {"answer": "sink"})
    page = await site.submit("/report/triage/kitchen/sink", {"answer": "blocked"})
    assert heading(page) == "Describe the problem"


def _radio_values(page: httpx.Response, name: str) -> list[str]:
    return re.findall(rf'name="{name}" type="radio" value="([^"]+)"', page.text)


async def test_a_report_is_booked_and_confirmed_with_its_reference(gateway: Gateway) -> None:
    site = site_for(gateway)
    await _to_description(site)
    times = await site.submit("/report/description", {"description": "The sink will not drain."})
    assert heading(times) == "When can we come?"
    first_page = _radio_values(times, "windowId")
    assert first_page
    later = await site.get("/report/appointments?page=2")
    assert _radio_values(later, "windowId") and set(_radio_values(later, "windowId")).isdisjoint(first_page)
    assert text(later).count("Later dates") == 1
    chosen = _radio_values(later, "windowId")[0]
    contact = await site.submit("/report/appointments", {"windowId": chosen, "page": "2"})
    assert heading(contact) == "Your contact details"
    check = await site.submit(
        "/report/contact",
        {"name": "Sam Resident", "phone": "07700 900123", "email": "", "preferredChannel": "sms"},
    )
    assert heading(check) == "Check your answers before sending your report"
    said = text(check)
    assert "Flat 1, Beech Court" in said and "The sink will not drain." in said and "Text message" in said
    done = await site.submit("/report/check", {})
    assert heading(done) == "Repair booked"
    reference = re.search(r"<strong[^>]*>([A-Z]{2}-[0-9A-Z]{7})</strong>", done.text)
    assert reference
    stored = await gateway.client.get(
        f"/v1/councils/northfield/repairs/{reference.group(1)}", headers=gateway.auth()
    )
    assert stored.json()["status"] == "booked"
    assert stored.json()["description"] == "The sink will not drain."
    # The window chosen on the second page ("Later dates") is the one booked.
    booked_start = datetime.fromisoformat(stored.json()["appointment"]["start"])
    assert booked_start == datetime.fromisoformat(chosen.split("|")[0])


def _reference(page: httpx.Response) -> str:
    found = re.search(r"<strong[^>]*>([A-Z]{2}-[0-9A-Z]{7})</strong>", page.text)
    assert found, "no reference on the page"
    return found.group(1)


async def test_a_second_report_at_a_shared_area_joins_the_open_repair(gateway: Gateway) -> None:
    first, second = site_for(gateway), site_for(gateway)
    await report_to_check(first, uprn=COMMUNAL)
    booked = await first.submit("/report/check", {})
    await report_to_check(second, uprn=COMMUNAL)
    joined = await second.submit("/report/check", {})
    assert heading(joined) == "Your report has been added to an open repair"
    assert _reference(joined) == _reference(booked)
    assert await gateway.count() == 1


async def test_a_repeat_at_a_home_names_the_open_repair_and_can_still_be_reported_as_new(
    make_gateway: Any,
) -> None:
    document = demo_document()
    document["councils"][0]["duplicates"] = {"refuse_at_homes": True}
    gateway: Gateway = await make_gateway(document=document)
    first, second = site_for(gateway), site_for(gateway)
    await report_to_check(first)
    open_repair = _reference(await first.submit("/report/check", {}))
    await report_to_check(second)
    repeat = await second.submit("/report/check", {})
    assert heading(repeat) == "This problem has already been reported"
    assert open_repair in text(repeat)
    assert await gateway.count() == 1
    # The page is a GET after a redirect: refreshing it shows it again and sends nothing.
    assert [r.status_code for r in repeat.history] == [303]
    assert repeat.url.path == "/report/duplicate"
    sent: list[str] = []
    gateway.client.event_hooks["request"].append(lambda request: _record(sent, request))
    refreshed = await second.get(str(repeat.url))
    assert heading(refreshed) == "This problem has already been reported"
    assert open_repair in text(refreshed)
    assert not any(line.startswith("POST") for line in sent), sent
    # Back goes to the answers the resident sent, to change them.
    assert 'class="govuk-back-link"' in refreshed.text
    assert re.search(r'<a href="/report/check" class="govuk-back-link"', refreshed.text)
    assert heading(await second.get("/report/check")) == "Check your answers before sending your report"
    await second.get(str(repeat.url))
    new = await second.submit("/report/check", {"newProblem": "true"})
    assert heading(new) == "Repair booked"
    assert _reference(new) != open_repair
    assert await gateway.count() == 2


class _WithoutExistingReference(httpx.AsyncBaseTransport):
    """A gateway from before ``existingReference`` was added to v1: its duplicate-repair
    problems do not name the open repair."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self.inner.handle_async_request(request)
        if answer.status_code != 409:
            return answer
        await answer.aread()
        body = json.loads(answer.content)
        body.pop("existingReference", None)
        return httpx.Response(409, headers={"Content-Type": "application/problem+json"}, json=body)


async def test_a_repeat_from_a_gateway_that_does_not_name_the_open_repair_says_there_is_one(
    make_gateway: Any,
) -> None:
    document = demo_document()
    document["councils"][0]["duplicates"] = {"refuse_at_homes": True}
    gateway: Gateway = await make_gateway(document=document)
    first = site_for(gateway)
    await report_to_check(first)
    await first.submit("/report/check", {})
    older = httpx.AsyncClient(
        transport=_WithoutExistingReference(gateway.client._transport), base_url=gateway.client.base_url
    )
    app = create_web_app(older, "northfield", gateway.key, secrets.token_urlsafe(32), None)
    second = Site(httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://web"))
    await report_to_check(second)
    repeat = await second.submit("/report/check", {})
    assert heading(repeat) == "This problem has already been reported"
    said = text(repeat)
    assert "The same repair is already open at this address." in said
    assert "Its reference is" not in said
    assert await gateway.count() == 1


async def _southmoor_radiator(site: Site) -> httpx.Response:
    """The demo's Southmoor: a cold radiator at 1 Heather Close, the first time offered; sent."""
    await site.get("/report/postcode")
    await site.submit("/report/postcode", {"postcode": "SM4 7XY"})
    await site.submit("/report/address", {"uprn": "200034560001"})
    await site.submit("/report/triage", {"answer": "heating"})
    await site.submit("/report/triage/heating", {"answer": "radiator"})
    times = await site.submit("/report/description", {"description": "The bedroom radiator is cold."})
    await site.submit("/report/appointments", {"windowId": window_choices(times)[0], "page": "1"})
    contact = {"name": "Sam Resident", "phone": "07700 900123", "email": "", "preferredChannel": "sms"}
    await site.submit("/report/contact", contact)
    return await site.submit("/report/check", {})


async def test_the_demos_southmoor_refuses_a_repeat_at_a_home_so_its_site_shows_the_repeat_page(
    gateway: Gateway,
) -> None:
    # The demo councils as `./dev demo` serves them: one shows a repeat of an open repair.
    first, second = site_for(gateway, "southmoor"), site_for(gateway, "southmoor")
    booked = await _southmoor_radiator(first)
    assert heading(booked) == "Repair booked"
    repeat = await _southmoor_radiator(second)
    assert heading(repeat) == "This problem has already been reported"
    assert _reference(booked) in text(repeat)
    assert await gateway.count() == 1


async def _record(sent: list[str], request: httpx.Request) -> None:
    sent.append(f"{request.method} {request.url.path}")


async def test_changing_the_address_from_check_your_answers_asks_for_a_time_there(gateway: Gateway) -> None:
    site = site_for(gateway)
    await report_to_check(site)
    await site.get("/report/address")
    await site.submit("/report/address", {"uprn": "100012345002"})
    await site.submit("/report/triage", {"answer": "kitchen"})
    await site.submit("/report/triage/kitchen", {"answer": "sink"})
    await site.submit("/report/triage/kitchen/sink", {"answer": "blocked"})
    times = await site.submit("/report/description", {"description": "The sink will not drain."})
    assert heading(times) == "When can we come?"
    check = await site.submit("/report/appointments", {"windowId": window_choices(times)[0], "page": "1"})
    assert heading(check) == "Check your answers before sending your report"
    assert "Flat 2, Beech Court" in text(check)
    done = await site.submit("/report/check", {})
    assert heading(done) == "Repair booked"
    stored = await gateway.client.get(
        f"/v1/councils/northfield/repairs/{_reference(done)}", headers=gateway.auth()
    )
    assert stored.json()["uprn"] == "100012345002"


async def test_two_councils_sites_on_one_host_keep_their_own_reports(gateway: Gateway) -> None:
    # One browser (one cookie jar) and two councils' sites on two ports of one host, as the
    # demo runs them: browsers send a host's cookies to each of its ports.
    browser = Site(
        httpx.AsyncClient(
            mounts={
                "http://web:8001": httpx.ASGITransport(app=site_app(gateway, "northfield")),
                "http://web:8002": httpx.ASGITransport(app=site_app(gateway, "southmoor")),
            }
        )
    )
    await browser.get("http://web:8001/report/postcode")
    await browser.submit("http://web:8001/report/postcode", {"postcode": "NF1 1AA"})
    await browser.submit("http://web:8001/report/address", {"uprn": "100012345001"})
    await browser.get("http://web:8002/report/postcode")
    addresses = await browser.submit("http://web:8002/report/postcode", {"postcode": "SM4 7XY"})
    assert heading(addresses) == "Where is the repair needed?"
    question = await browser.get("http://web:8001/report/triage")
    assert heading(question) == "Where is the problem?"


async def test_the_longest_description_and_the_last_page_of_times_fit_in_the_session_cookie(
    gateway: Gateway,
) -> None:
    site = site_for(gateway)
    await _to_description(site)
    # 2,000 characters (the API's limit) that compress no better than a resident's own words.
    description = " ".join(f"{n * 7919 % 10007:x}" for n in range(600))[:2000]
    times = await site.submit("/report/description", {"description": description})
    page = 1
    while "Later dates" in text(times):
        page += 1
        times = await site.get(f"/report/appointments?page={page}")
    assert page > 3
    contact = await site.submit(
        "/report/appointments", {"windowId": window_choices(times)[-1], "page": str(page)}
    )
    assert heading(contact) == "Your contact details"
    cookie = next(iter(site.client.cookies.jar))
    assert len(cookie.name) + len(cookie.value or "") < 4000
    check = await site.submit(
        "/report/contact",
        {"name": "Sam Resident", "phone": "07700 900123", "email": "", "preferredChannel": "sms"},
    )
    assert description[:100] in text(check)


@pytest.mark.parametrize(
    ("answer", "title", "says"),
    [
        ("fence", "This repair is not ours to do", "tenant's responsibility"),
        ("roof", "We cannot book this repair online", "01234 567890"),
    ],
)
async def test_other_early_exits_give_their_own_heading_and_the_councils_message(
    gateway: Gateway, answer: str, title: str, says: str
) -> None:
    site = site_for(gateway)
    await site.get("/report/postcode")
    await site.submit("/report/postcode", {"postcode": "NF1 1AA"})
    await site.submit("/report/address", {"uprn": "100012345001"})
    await site.submit("/report/triage", {"answer": "outside"})
    exit_page = await site.submit("/report/triage/outside", {"answer": answer})
    assert heading(exit_page) == title
    assert says in text(exit_page)
    # An exit cannot be booked: the description page is not reached from it.
    assert (await site.get("/report/description")).url.path == "/report/postcode"


async def test_each_page_of_the_report_has_one_heading_and_a_title_naming_it_and_the_service(
    gateway: Gateway,
) -> None:
    site = site_for(gateway)
    service = "Housing repairs \u2013 Northfield District Council"
    start = await site.get("/")
    assert heading(start) == "Housing repairs"
    assert _title(start) == service
    pages = [await site.get("/report/postcode")]
    pages.append(await site.submit("/report/postcode", {"postcode": "NF1 1AA"}))
    pages.append(await site.submit("/report/address", {"uprn": "100012345001"}))
    pages.append(await site.submit("/report/triage", {"answer": "kitchen"}))
    pages.append(await site.submit("/report/triage/kitchen", {"answer": "sink"}))
    pages.append(await site.submit("/report/triage/kitchen/sink", {"answer": "blocked"}))
    times = await site.submit("/report/description", {"description": "The sink will not drain."})
    pages.append(times)
    pages.append(
        await site.submit("/report/appointments", {"windowId": window_choices(times)[0], "page": "1"})
    )
    contact = {"name": "Sam Resident", "phone": "07700 900123", "email": "", "preferredChannel": "sms"}
    pages.append(await site.submit("/report/contact", contact))
    pages.append(await site.submit("/report/check", {}))
    for page in pages:
        assert page.status_code == 200, page.url
        assert _title(page) == f"{heading(page)} \u2013 {service}", page.url


def _title(page: httpx.Response) -> str:
    found = re.search(r"<title[^>]*>(.*?)</title>", page.text, re.S)
    assert found, "the page has no title"
    return " ".join(html.unescape(found.group(1)).split())
