"""The resident site with JavaScript turned off in Chromium: every journey is plain forms
and links, so a resident whose browser runs no scripts (or whose scripts failed to load)
reports a repair, with a time from "Later dates" and back from "Earlier dates" or with no
time at all, and then finds it, moves it and cancels it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from browser_support import DESKTOP, NORTHFIELD, Api, Stack
from resident import Resident, assert_booked_in

pytestmark = pytest.mark.xdist_group("browser")

SINK = ("Kitchen", "Sink or taps", "The sink is blocked")


@pytest.fixture
def page(browser: Browser, stack: Stack) -> Iterator[Page]:
    """A page in a context where no script runs: not the site's, not GOV.UK Frontend's."""
    context = browser.new_context(viewport=DESKTOP, java_script_enabled=False)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page()
    finally:
        context.close()


def assert_no_script_ran(page: Page) -> None:
    """GOV.UK Frontend's one-line inline script marks the body ``js-enabled`` as the page
    loads: without that class, nothing on the page has run."""
    expect(page.locator("body")).not_to_have_class("js-enabled")
    assert "js-enabled" not in (page.locator("body").get_attribute("class") or "")


def report_up_to_the_times(resident: Resident, address: str) -> None:
    """From the start page to the appointment times, checking no script ran on the way."""
    resident.open_start()
    assert_no_script_ran(resident.page)
    resident.page.get_by_role("button", name="Report a repair").click()
    resident.give_postcode("NF1 1AA")
    resident.choose_address(address)
    resident.answer(*SINK)
    resident.describe("Water will not drain from the kitchen sink.")
    assert_no_script_ran(resident.page)


def test_a_repair_is_reported_with_later_dates_found_moved_and_cancelled_with_javascript_off(
    page: Page, stack: Stack, northfield_api: Api
) -> None:
    resident = Resident(page, stack.sites[NORTHFIELD])
    report_up_to_the_times(resident, "Flat 2, Beech Court")
    first_page = resident.windows()
    resident.later_dates()
    later_page = resident.windows()
    assert min(w.day for w in later_page) > max(w.day for w in first_page)
    resident.earlier_dates()
    assert [w.text for w in resident.windows()] == [w.text for w in first_page]
    resident.later_dates()
    chosen = resident.windows()[-1]
    resident.choose_window(chosen)

    # Sent empty first: the refusal is the server's, in the error summary and the title.
    expect(page.locator("h1")).to_have_text("Your contact details")
    resident.continue_()
    assert "Enter your name" in resident.error_summary()
    assert page.title().startswith("Error: Your contact details")
    resident.give_contact("Sam Resident", "07700 900123", "Text message")
    assert resident.answers()["Appointment"] == chosen.in_full
    resident.press("Book this appointment")
    heading, reference = resident.confirmation()
    assert heading == "Repair booked"
    assert_no_script_ran(page)
    assert_booked_in(northfield_api, reference, chosen)

    # Check it: found by reference and postcode, moved to another time, cancelled.
    page.get_by_role("link", name="Check a repair", exact=True).click()
    page.get_by_label("Repair reference").fill(reference)
    page.get_by_label("Postcode of the property").fill("NF1 1AA")
    resident.continue_()
    expect(page.locator("h1")).to_have_text(f"Repair {reference}")
    page.get_by_role("button", name="Choose another time").click()
    other = next(window for window in resident.windows() if window.text != chosen.text)
    resident.page.get_by_role("radio", name=other.text, exact=True).check()
    resident.press("Book this appointment")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        f"Your appointment is now {other.in_full}"
    )
    assert_booked_in(northfield_api, reference, other)
    page.get_by_role("button", name="Cancel this repair").click()
    resident.press("Cancel the repair")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your repair has been cancelled")
    assert_no_script_ran(page)
    assert northfield_api.repair(reference)["status"] == "cancelled"


def test_a_repair_is_reported_without_an_appointment_with_javascript_off(
    page: Page, stack: Stack, northfield_api: Api
) -> None:
    resident = Resident(page, stack.sites[NORTHFIELD])
    report_up_to_the_times(resident, "Flat 3, Beech Court")
    assert resident.windows()
    resident.press("Continue without an appointment")
    resident.give_contact("Alex Resident", "07700 900456", "Phone call")
    assert resident.answers()["Appointment"] == "None: we will contact you to arrange a time"
    resident.press("Send the report")
    heading, reference = resident.confirmation()
    assert heading == "Repair reported"
    assert_no_script_ran(page)
    repair = northfield_api.repair(reference)
    assert repair["status"] == "received"
    assert repair["appointment"] is None
