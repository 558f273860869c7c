"""The resident site's pages the journeys' own tests do not reach: going on without an
appointment, "Earlier dates" after "Later dates", a repeat of an open repair at a home, and
moving or cancelling a repair while the council's scheduler (Kirona DRS) is down. Every page
shown is checked with axe-core and at 320 px, and screenshotted."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from test_check_a_repair import find, reported, summary

from browser_support import (
    EASTBROOK,
    NORTHFIELD,
    Api,
    DrsControls,
    PageChecks,
    Stack,
    gateway_refusing_repeats,
    lines_at_320,
)
from resident import Resident

pytestmark = pytest.mark.xdist_group("browser")

DESCRIPTION = "Water will not drain from the kitchen sink since Monday."


def to_the_times(resident: Resident, *, postcode: str, address: str, answers: tuple[str, ...]) -> None:
    """From the start page to the appointment times."""
    resident.report_from_start(postcode)
    resident.choose_address(address)
    resident.answer(*answers)
    resident.describe(DESCRIPTION)


def day_headings(page: Page) -> list[str]:
    """The days the times page lists, as its headings read."""
    return [" ".join(text.split()) for text in page.locator("form h2").all_inner_texts()]


def said(page: Page) -> str:
    """What the page's main part says, as one line."""
    return " ".join(page.locator("main").inner_text().split())


def assert_no_technical_words(page: Page) -> None:
    """Nothing a resident cannot act on: no stack trace, status code or problem type."""
    text = said(page)
    for technical in ("Traceback", "Exception", "503", "backend-unavailable", "/problems/"):
        assert technical not in text, f"{technical!r} shown to the resident: {text!r}"


def test_a_repair_is_reported_without_an_appointment(
    page: Page, stack: Stack, checks: PageChecks, northfield_api: Api
) -> None:
    resident = Resident(page, stack.sites[NORTHFIELD], checks)
    to_the_times(
        resident,
        postcode="NF1 1AA",
        address="Flat 2, Beech Court",
        answers=("Kitchen", "Sink or taps", "The sink is blocked"),
    )
    assert resident.windows(), "times are offered, and the resident turns them all down"
    resident.press("Continue without an appointment")

    resident.give_contact("Jo Resident", "07700 900321", "Text message")
    answers = resident.answers()
    assert answers["Appointment"] == "None: we will contact you to arrange a time"
    expect(page.get_by_role("button", name="Book this appointment")).to_have_count(0)
    resident.seen("check-answers-no-appointment")
    resident.press("Send the report")

    heading, reference = resident.confirmation()
    assert heading == "Repair reported"
    text = said(page)
    assert "We will contact you by text message to arrange a time" in text
    assert "Your appointment" not in text
    assert "visit on" not in text
    resident.seen("confirmation-no-appointment")
    # At 320 px the reference reads whole, in the panel and in the next steps.
    whole = lines_at_320(page, reference)
    assert len(whole) >= 2 and set(whole) == {1}, whole
    repair = northfield_api.repair(reference)
    assert (repair["status"], repair["appointment"]) == ("received", None)
    checks.assert_clean()


def test_earlier_dates_after_later_dates_shows_the_first_days_again(
    page: Page, stack: Stack, checks: PageChecks
) -> None:
    resident = Resident(page, stack.sites[NORTHFIELD])
    to_the_times(
        resident,
        postcode="NF1 1AB",
        address="14 Mill Lane",
        answers=("Bathroom", "The toilet will not flush"),
    )
    first_days, first_windows = day_headings(page), resident.windows()
    assert first_days, "no days listed"
    # The first page has nowhere earlier to go.
    expect(page.get_by_role("link", name="Earlier dates")).to_have_count(0)

    resident.later_dates()
    later_days = day_headings(page)
    assert later_days and not set(later_days) & set(first_days)
    assert min(w.day for w in resident.windows()) > max(w.day for w in first_windows)

    resident.checks = checks
    resident.earlier_dates()
    expect(page).to_have_url(re.compile(r"/report/appointments$"))
    assert day_headings(page) == first_days
    expect(page.get_by_role("link", name="Earlier dates")).to_have_count(0)
    expect(page.get_by_role("link", name="Later dates")).to_be_visible()
    resident.seen("windows-earlier")
    # A time chosen there goes on as from the first visit.
    chosen = resident.windows()[0]
    resident.choose_window(chosen)
    expect(page.locator("h1")).to_have_text("Your contact details")
    checks.assert_clean()


@pytest.fixture
def refusing(tmp_path: Path, stack: Stack) -> Iterator[Stack]:
    """A gateway whose Northfield refuses a repeated report at a home, with its site."""
    with gateway_refusing_repeats(tmp_path) as running:
        yield running


def test_a_repeat_of_an_open_repair_names_it_and_can_still_be_reported_as_new(
    page: Page, refusing: Stack, checks: PageChecks
) -> None:
    api = Api(refusing, NORTHFIELD)
    try:
        # Reported first by phone (through the API), without saying it is a new problem.
        uprn, path = "100012345001", "kitchen/sink/blocked"
        first = api.http.post(
            "/repairs",
            json={
                "uprn": uprn,
                "repair": {"triagePath": path},
                "description": "Reported on the phone line",
                "contact": {"name": "Sam Resident", "phone": "07700 900123", "preferredChannel": "sms"},
                "windowId": api.windows(uprn, path)[0]["id"],
            },
        )
        assert first.status_code == 201, first.text
        open_reference = first.json()["reference"]

        resident = Resident(page, refusing.sites[NORTHFIELD])
        to_the_times(
            resident,
            postcode="NF1 1AA",
            address="Flat 1, Beech Court",
            answers=("Kitchen", "Sink or taps", "The sink is blocked"),
        )
        resident.choose_window(resident.windows()[0])
        resident.give_contact("Sam Resident", "07700 900123", "Text message")
        resident.answers()
        resident.checks = checks
        resident.press("Book this appointment")

        expect(page.locator("h1")).to_have_text("This problem has already been reported")
        text = said(page)
        assert open_reference in text
        expect(page.get_by_role("link", name="Check that repair")).to_have_attribute("href", "/check")
        resident.seen("duplicate")
        # The reference reads whole at 320 px, not "NF-" on one line and the rest on the next.
        assert lines_at_320(page, open_reference) == [1]

        # Refreshing shows the page again (it is not the answer to the form, so nothing is
        # sent again), and Back goes to the answers, to change them.
        expect(page).to_have_url(re.compile(r"/report/duplicate$"))
        page.reload()
        expect(page.locator("h1")).to_have_text("This problem has already been reported")
        assert open_reference in said(page)
        page.get_by_role("link", name="Back", exact=True).click()
        resident.answers()
        resident.press("Book this appointment")
        expect(page.locator("h1")).to_have_text("This problem has already been reported")

        resident.press("Report it as a new problem")
        heading, reference = resident.confirmation()
        assert heading == "Repair booked"
        assert reference != open_reference
        resident.seen("confirmation-new-problem")
        assert api.repair(reference)["status"] == "booked"
        assert api.repair(open_reference)["status"] == "booked"
    finally:
        api.close()
    checks.assert_clean()


def test_moving_and_cancelling_while_drs_is_down_say_so_and_change_nothing(
    page: Page, stack: Stack, checks: PageChecks, eastbrook_api: Api, drs: DrsControls
) -> None:
    repair = reported(eastbrook_api, "300056780012", "kitchen/tap")
    reference = repair["reference"]
    resident = Resident(page, stack.sites[EASTBROOK])
    find(resident, reference, "EB1 4QR")
    expect(page.locator("h1")).to_have_text(f"Repair {reference}")
    booked = summary(page)["Appointment"]
    resident.checks = checks

    # Moving: DRS does not answer the booking change (tried once: it is not safe to repeat).
    page.get_by_role("button", name="Choose another time").click()
    other = next(window for window in resident.windows() if window.in_full != booked)
    page.get_by_role("radio", name=other.text, exact=True).check()
    drs.fail("scheduleBooking", 1)
    resident.press("Book this appointment")
    expect(page.locator("h1")).to_have_text(f"Repair {reference}")
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text(
        "We could not move the appointment just now. It has not changed: try again later."
    )
    assert summary(page)["Appointment"] == booked
    assert summary(page)["Status"] == "Booked"
    assert_no_technical_words(page)
    resident.seen("repair-move-failed")
    assert eastbrook_api.repair(reference)["appointment"] == repair["appointment"]

    # Cancelling: DRS fails every try of the delete (the gateway retries it: it is safe to).
    page.get_by_role("button", name="Cancel this repair").click()
    drs.fail("deleteOrder", 10)
    resident.press("Cancel the repair")
    expect(page.locator("h1")).to_have_text(f"Repair {reference}")
    expect(banner).to_contain_text(
        "We could not cancel the repair just now. Nothing has changed: try again later."
    )
    assert summary(page)["Status"] == "Booked"
    assert summary(page)["Appointment"] == booked
    expect(page.get_by_role("button", name="Cancel this repair")).to_be_visible()
    assert_no_technical_words(page)
    resident.seen("repair-cancel-failed")
    assert eastbrook_api.repair(reference)["status"] == "booked"

    # "Try again later" is true: once DRS is back, the same button cancels it.
    drs.recover()
    page.get_by_role("button", name="Cancel this repair").click()
    resident.press("Cancel the repair")
    expect(banner).to_contain_text("Your repair has been cancelled")
    assert eastbrook_api.repair(reference)["status"] == "cancelled"
    checks.assert_clean()
