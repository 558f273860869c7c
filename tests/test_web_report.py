"""The resident site's report journey, at the HTML level, against a real gateway."""

from __future__ import annotations

from gateway_support import Gateway
from web_support import heading, site_for, text


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
