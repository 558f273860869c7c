"""Check a repair on the resident site, in Chromium, against the demo gateway: find it by
reference and postcode, read its status and history, choose another time, cancel it; and
a postcode that is not the repair's finds nothing. The repairs are reported through the
API, as another resident or the phone line would; every page shown is checked."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page, expect

from repairs_gateway.domain.references import new_reference

from browser_support import EASTBROOK, NORTHFIELD, Api, PageChecks, Stack, lines_at_320
from resident import Resident

pytestmark = pytest.mark.xdist_group("browser")

NOT_FOUND = "We could not find a repair with that reference at that postcode"


def reported(api: Api, uprn: str, triage_path: str) -> dict[str, Any]:
    """A repair booked through the API into the first window offered."""
    return api.book(uprn, triage_path, api.windows(uprn, triage_path)[0]["id"])


def find(resident: Resident, reference: str, postcode: str) -> None:
    """From the start page, look a repair up by its reference and postcode."""
    resident.open_start()
    resident.page.get_by_role("link", name="Check, change or cancel a repair").click()
    expect(resident.page.locator("h1")).to_have_text("Check a repair")
    resident.seen("find")
    resident.page.get_by_label("Repair reference").fill(reference)
    resident.page.get_by_label("Postcode of the property").fill(postcode)
    resident.continue_()


def summary(page: Page) -> dict[str, str]:
    """The repair page's summary rows, by key."""
    rows = page.locator(".govuk-summary-list__row")
    return {
        " ".join(rows.nth(i).locator("dt").inner_text().split()): " ".join(
            rows.nth(i).locator("dd").first.inner_text().split()
        )
        for i in range(rows.count())
    }


def history(page: Page) -> str:
    """The repair page's history, as one line of text."""
    heading = page.get_by_role("heading", name="History")
    expect(heading).to_be_visible()
    return " ".join(page.locator("ol.govuk-list").inner_text().split())


@pytest.mark.parametrize(
    ("council", "postcode", "uprn", "triage_path"),
    [
        (NORTHFIELD, "nf1 1ab", "100012346016", "kitchen/sink/dripping"),
        (EASTBROOK, "eb1 4qr", "300056780014", "kitchen/tap"),
    ],
    ids=["built-in-calendar", "kirona-drs"],
)
def test_a_repair_is_found_moved_to_another_time_and_cancelled(
    page: Page,
    stack: Stack,
    checks: PageChecks,
    council: str,
    postcode: str,
    uprn: str,
    triage_path: str,
) -> None:
    api = Api(stack, council)
    try:
        repair = reported(api, uprn, triage_path)
        reference = repair["reference"]
        # The pages are the same for every council: Northfield's are checked.
        resident = Resident(page, stack.sites[council], checks if council == NORTHFIELD else None)

        find(resident, reference.lower(), postcode)
        expect(page.locator("h1")).to_have_text(f"Repair {reference}")
        shown = summary(page)
        assert shown["Status"] == "Booked"
        assert shown["Description"] == repair["description"]
        first_appointment = shown["Appointment"]
        assert repair["appointment"]["label"] in first_appointment
        assert "You reported the repair" in history(page)
        resident.seen("repair")
        # At 320 px the reference reads whole, in the heading and in the next steps.
        whole = lines_at_320(page, reference)
        assert len(whole) >= 2 and set(whole) == {1}, whole

        page.get_by_role("button", name="Choose another time").click()
        offered = resident.windows()
        resident.seen("move-windows")
        other = next(window for window in offered if window.in_full != first_appointment)
        resident.page.get_by_role("radio", name=other.text, exact=True).check()
        resident.press("Book this appointment")
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            f"Your appointment is now {other.in_full}"
        )
        assert summary(page)["Appointment"] == other.in_full
        resident.seen("repair-moved")
        moved = api.repair(reference)
        assert moved["status"] == "booked"
        assert moved["appointment"]["label"] in other.text
        assert [event["type"] for event in moved["history"]][-1] == "moved"

        page.get_by_role("button", name="Cancel this repair").click()
        expect(page.locator("h1")).to_have_text("Are you sure you want to cancel this repair?")
        resident.seen("cancel")
        resident.press("Cancel the repair")
        expect(page.locator(".govuk-notification-banner")).to_contain_text("Your repair has been cancelled")
        assert summary(page)["Status"] == "Cancelled"
        expect(page.get_by_role("button", name="Cancel this repair")).to_have_count(0)
        resident.seen("repair-cancelled")
        assert api.repair(reference)["status"] == "cancelled"
    finally:
        api.close()
    checks.assert_clean()


def test_a_postcode_that_is_not_the_repairs_finds_nothing(
    page: Page, stack: Stack, checks: PageChecks, northfield_api: Api
) -> None:
    repair = reported(northfield_api, "100012347001", "bathroom/toilet")
    reference, repair_description = repair["reference"], repair["description"]
    resident = Resident(page, stack.sites[NORTHFIELD], checks)

    # NF1 1AA is Northfield's, but not this repair's (NF2 3CD).
    find(resident, reference, "NF1 1AA")
    wrong_postcode = resident.error_summary()
    assert NOT_FOUND in wrong_postcode
    expect(page.locator("h1")).to_have_text("Check a repair")
    expect(page.locator("main")).not_to_contain_text(repair_description)
    resident.seen("find-not-found")

    # A well-formed reference nobody holds reads the same: the answer does not tell which exist.
    page.get_by_label("Repair reference").fill(new_reference("NF"))
    resident.continue_()
    assert resident.error_summary() == wrong_postcode

    # The right postcode finds it.
    page.get_by_label("Repair reference").fill(reference)
    page.get_by_label("Postcode of the property").fill("NF2 3CD")
    resident.continue_()
    expect(page.locator("h1")).to_have_text(f"Repair {reference}")
    checks.assert_clean()
