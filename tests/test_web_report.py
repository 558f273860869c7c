"""The resident site's report journey, at the HTML level, against a real gateway."""

from __future__ import annotations

import re
from datetime import datetime

import httpx

from gateway_support import Gateway
from web_support import Site, heading, site_for, text


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
    reference = re.search(r"<strong>([A-Z]{2}-[0-9A-Z]{7})</strong>", done.text)
    assert reference
    stored = await gateway.client.get(
        f"/v1/councils/northfield/repairs/{reference.group(1)}", headers=gateway.auth()
    )
    assert stored.json()["status"] == "booked"
    assert stored.json()["description"] == "The sink will not drain."
    # The window chosen on the second page ("Later dates") is the one booked.
    booked_start = datetime.fromisoformat(stored.json()["appointment"]["start"])
    assert booked_start == datetime.fromisoformat(chosen.split("|")[0])
