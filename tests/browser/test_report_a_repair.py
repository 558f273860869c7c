"""Report a repair on the resident site, in Chromium, against the demo gateway: the
built-in calendar (Northfield) and Kirona DRS (Eastbrook), an early exit, a window taken
while the resident was choosing, and DRS down when the repair is booked. Every page shown
is checked with axe-core and at 320 px, and screenshotted."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from browser_support import NORTHFIELD, PageChecks, Stack
from resident import KeyboardResident, Resident

pytestmark = pytest.mark.xdist_group("browser")


def test_an_emergency_ends_the_report_with_the_councils_message(
    page: Page, stack: Stack, checks: PageChecks
) -> None:
    resident = Resident(page, stack.sites[NORTHFIELD], checks)
    resident.report_from_start("nf1 1aa")
    resident.choose_address("Flat 2, Beech Court")
    resident.answer("Kitchen", "I can smell gas")

    expect(page.locator("h1")).to_have_text("This is an emergency")
    expect(page.locator("main")).to_contain_text("call the National Gas Emergency line on 0800 111 999")
    expect(page.get_by_role("button", name="Continue")).to_have_count(0)
    resident.seen("emergency")
    checks.assert_clean()


def test_the_keyboard_alone_reaches_an_early_exit(page: Page, stack: Stack) -> None:
    resident = KeyboardResident(page, stack.sites[NORTHFIELD])
    page.goto(resident.site + "/")
    resident.follow("Report a repair")
    resident.type_into("What is the postcode of the property?", "NF1 1AA")
    resident.continue_()
    resident.choose("Communal areas, Beech Court, Mill Lane, Northfield")
    resident.continue_()
    resident.choose("Kitchen")
    resident.continue_()
    resident.choose("I can smell gas")
    resident.continue_()
    expect(page.locator("h1")).to_have_text("This is an emergency")
