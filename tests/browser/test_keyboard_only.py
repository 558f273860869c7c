"""Both journeys with the keyboard alone: Tab, arrow keys within radios,
Space, Enter and typing. Nothing is clicked; the page is only read, to know where focus is.
(The pages themselves are checked in the journeys' own tests.)"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from browser_support import NORTHFIELD, Api, Stack
from resident import KeyboardResident, Resident, assert_booked_in

pytestmark = pytest.mark.xdist_group("browser")


def test_a_repair_is_reported_and_booked_with_the_keyboard_alone(
    page: Page, stack: Stack, northfield_api: Api
) -> None:
    keys = KeyboardResident(page, stack.sites[NORTHFIELD])
    reader = Resident(page, stack.sites[NORTHFIELD])  # reads the page; never acts on it
    page.goto(keys.site + "/")
    keys.follow("Report a repair")
    keys.type_into("What is the postcode of the property?", "NF1 1AB")
    keys.continue_()
    keys.choose("14 Mill Lane, Northfield")
    keys.continue_()
    keys.choose("Kitchen")
    keys.continue_()
    keys.choose("Cupboard door or drawer")
    keys.continue_()
    keys.type_into("Describe the problem", "The cupboard door under the sink has come off its hinge.")
    keys.continue_()

    first_page = reader.windows()
    keys.follow("Later dates")
    expect(page).to_have_url(keys.site + "/report/appointments?page=2")
    window = reader.windows()[1]
    assert window.day > first_page[-1].day
    keys.choose(window.text)
    keys.continue_()

    keys.type_into("Name", "Kim Resident")
    keys.type_into("UK phone number", "07700 900321")
    keys.choose("Phone call")
    keys.continue_()
    assert reader.answers()["Appointment"] == window.in_full
    keys.follow("Book this appointment")

    heading, reference = reader.confirmation()
    assert heading == "Repair booked"
    assert_booked_in(northfield_api, reference, window)


def test_a_repair_is_found_moved_and_cancelled_with_the_keyboard_alone(
    page: Page, stack: Stack, northfield_api: Api
) -> None:
    uprn, triage_path = "100012345002", "kitchen/sink/blocked"
    first = northfield_api.windows(uprn, triage_path)[0]
    reference = northfield_api.book(uprn, triage_path, first["id"])["reference"]
    keys = KeyboardResident(page, stack.sites[NORTHFIELD])
    reader = Resident(page, stack.sites[NORTHFIELD])

    page.goto(keys.site + "/")
    keys.follow("Check, change or cancel a repair")
    keys.type_into("Repair reference", reference)
    keys.type_into("Postcode of the property", "NF1 1AA")
    keys.continue_()
    expect(page.locator("h1")).to_have_text(f"Repair {reference}")

    keys.follow("Choose another time")
    window = reader.windows()[-1]
    keys.choose(window.text)
    keys.follow("Book this appointment")
    banner = page.locator(".govuk-notification-banner")
    expect(banner).to_contain_text(f"Your appointment is now {window.in_full}")
    assert_booked_in(northfield_api, reference, window)

    keys.follow("Cancel this repair")
    keys.follow("Cancel the repair")
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Your repair has been cancelled")
    assert northfield_api.repair(reference)["status"] == "cancelled"
