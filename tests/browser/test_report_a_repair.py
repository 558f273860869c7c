"""Report a repair on the resident site, in Chromium, against the demo gateway: the
built-in calendar (Northfield) and Kirona DRS (Eastbrook), an early exit, a window taken
while the resident was choosing, and DRS down when the repair is booked. Every page shown
is checked with axe-core and at 320 px, and screenshotted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from browser_support import EASTBROOK, NORTHFIELD, Api, DrsControls, PageChecks, Stack, lines_at_320
from resident import LONDON, Resident, Window, assert_booked_in, assert_confirmed_once

pytestmark = pytest.mark.xdist_group("browser")


def report_with_a_later_window(
    resident: Resident,
    *,
    postcode: str,
    address: str,
    answers: tuple[str, ...],
    checks_from_the_times: PageChecks | None = None,
    contact_errors: bool = False,
) -> tuple[Window, str]:
    """The whole report journey, choosing a window from "Later dates"; answers the window
    and the reference on the confirmation. Starts on the postcode page, or from the start
    page when it is not showing. ``checks_from_the_times`` checks the pages from the
    times on, when the resident checks none before. ``contact_errors`` sends the contact
    details empty first."""
    if "/report/postcode" not in resident.page.url:
        resident.open_start()
        resident.page.get_by_role("button", name="Report a repair").click()
    resident.give_postcode(postcode)
    resident.choose_address(address)
    resident.answer(*answers)
    resident.describe("Water will not drain from the kitchen sink since Monday.")

    if checks_from_the_times is not None:
        resident.checks = checks_from_the_times
    first_page = resident.windows()
    assert first_page, "no windows offered on the first page"
    resident.seen("windows")
    resident.later_dates()
    later_page = resident.windows()
    assert later_page, "no windows offered under Later dates"
    assert min(w.day for w in later_page) > max(w.day for w in first_page)
    resident.seen("windows-later")
    chosen = later_page[0]
    resident.choose_window(chosen)

    resident.give_contact("Sam Resident", "07700 900123", "Text message", empty_first=contact_errors)
    answers_shown = resident.answers()
    resident.seen("check-answers")
    assert answers_shown["Address"].startswith(address)
    assert answers_shown["Problem"] == ": ".join(answers)
    assert answers_shown["Description"] == "Water will not drain from the kitchen sink since Monday."
    assert answers_shown["Appointment"] == chosen.in_full
    assert answers_shown["Contact me by"] == "Text message"
    resident.press("Book this appointment")

    heading, reference = resident.confirmation()
    assert heading == "Repair booked"
    assert_confirmed_once(resident.page, chosen)
    resident.seen("confirmation")
    # At 320 px the reference reads whole, in the panel and in the next steps.
    whole = lines_at_320(resident.page, reference)
    assert len(whole) >= 2 and set(whole) == {1}, whole
    return chosen, reference


def test_a_repair_is_booked_on_the_built_in_calendar(
    page: Page, stack: Stack, checks: PageChecks, northfield_api: Api
) -> None:
    resident = Resident(page, stack.sites[NORTHFIELD], checks)
    # A postcode we do not look after is refused on the page, with the error summary.
    resident.report_from_start("NF9 9ZZ")
    assert "We do not look after any properties at NF9 9ZZ" in resident.error_summary()
    resident.seen("postcode-error")

    window, reference = report_with_a_later_window(
        resident,
        postcode="nf1 1aa",
        address="Flat 1, Beech Court",
        answers=("Kitchen", "Sink or taps", "The sink is blocked"),
        contact_errors=True,
    )
    assert reference.startswith("NF-")
    assert_booked_in(northfield_api, reference, window)
    checks.assert_clean()


def test_a_repair_is_booked_in_kirona_drs(
    page: Page, stack: Stack, checks: PageChecks, eastbrook_api: Api
) -> None:
    # The pages before the times are Northfield's, checked there; from the times on they
    # show what DRS answers, and are checked here.
    resident = Resident(page, stack.sites[EASTBROOK])
    window, reference = report_with_a_later_window(
        resident,
        checks_from_the_times=checks,
        postcode="EB1 4QR",
        address="10 Canal Street",
        answers=("Kitchen", "The sink is blocked"),
    )
    assert reference.startswith("EB-")
    assert_booked_in(eastbrook_api, reference, window)
    checks.assert_clean()


def test_early_exits_end_the_report_with_the_councils_message(
    page: Page, stack: Stack, checks: PageChecks
) -> None:
    resident = Resident(page, stack.sites[NORTHFIELD], checks)
    resident.report_from_start("nf1 1aa")
    resident.choose_address("Flat 2, Beech Court")
    resident.answer("Kitchen", "I can smell gas")

    expect(page.locator("h1")).to_have_text("This is an emergency")
    expect(page.locator("main")).to_contain_text("call the National Gas Emergency line on 0800 111 999")
    expect(page.get_by_role("button", name="Continue")).to_have_count(0)
    resident.seen("exit-emergency")

    # Another problem at the same address: one the council does not repair.
    page.get_by_role("link", name="Report a different problem").click()
    resident.answer("Outside", "A fence between gardens")
    expect(page.locator("h1")).to_have_text("This repair is not ours to do")
    expect(page.locator("main")).to_contain_text("private gardens are the tenant's responsibility")
    expect(page.get_by_role("button", name="Continue")).to_have_count(0)
    resident.seen("exit-not-responsible")
    checks.assert_clean()


def reach_check_answers(
    resident: Resident, *, postcode: str, address: str, answers: tuple[str, ...]
) -> Window:
    """From the start page to check your answers, with the first window offered."""
    resident.report_from_start(postcode)
    resident.choose_address(address)
    resident.answer(*answers)
    resident.describe("It stopped working yesterday.")
    chosen = resident.windows()[0]
    resident.choose_window(chosen)
    resident.give_contact("Alex Resident", "07700 900456", "Phone call")
    assert resident.answers()["Appointment"] == chosen.in_full
    return chosen


def same_window(api_windows: list[dict[str, Any]], window: Window) -> dict[str, Any]:
    """The API's window that the page showed as ``window`` (its day and label)."""
    for offered in api_windows:
        start = datetime.fromisoformat(offered["start"].replace("Z", "+00:00")).astimezone(LONDON)
        if start.date() == window.day and f", {offered['label']} (" in window.text:
            return offered
    raise AssertionError(f"the API does not offer {window.text!r}: {api_windows}")


def test_a_window_taken_meanwhile_is_said_and_the_other_times_offered(
    page: Page, stack: Stack, checks: PageChecks, northfield_api: Api
) -> None:
    resident = Resident(page, stack.sites[NORTHFIELD])
    # An extractor fan is electrical work, of which Northfield's windows take one job each.
    chosen = reach_check_answers(
        resident,
        postcode="NF1 1AA",
        address="Flat 3, Beech Court",
        answers=("Bathroom", "The extractor fan does not work"),
    )
    # Another resident, at another address, books that window first.
    other = same_window(northfield_api.windows("100012346014", "bathroom/extractor"), chosen)
    northfield_api.book("100012346014", "bathroom/extractor", other["id"])

    resident.checks = checks
    resident.press("Book this appointment")
    assert "has just been booked by someone else" in resident.error_summary()
    offered = resident.windows()
    assert offered, "no other times offered"
    assert chosen.text not in [window.text for window in offered]
    resident.seen("window-taken")

    # Another time, and the report goes through with the answers already given.
    resident.choose_window(offered[0])
    assert resident.answers()["Appointment"] == offered[0].in_full
    resident.press("Book this appointment")
    heading, reference = resident.confirmation()
    assert heading == "Repair booked"
    assert_booked_in(northfield_api, reference, offered[0])
    checks.assert_clean()


def test_when_drs_is_down_the_repair_is_recorded_and_the_resident_told_we_will_contact_them(
    page: Page, stack: Stack, checks: PageChecks, eastbrook_api: Api, drs: DrsControls
) -> None:
    resident = Resident(page, stack.sites[EASTBROOK])
    reach_check_answers(
        resident,
        postcode="EB1 4QR",
        address="12 Canal Street",
        answers=("Bathroom", "The toilet will not flush"),
    )
    # DRS fails the order the booking makes: it is held until dropped, then answered 503.
    drs.hold("createOrder")
    resident.page.get_by_role("button", name="Book this appointment").click(no_wait_after=True)
    drs.wait_held("createOrder")
    drs.drop_held()

    resident.checks = checks
    heading, reference = resident.confirmation()
    assert heading == "Repair reported"
    expect(page.locator("main")).to_contain_text("We will contact you")
    expect(page.locator("main")).not_to_contain_text("Your appointment")
    resident.seen("reported-backend-down")
    repair = eastbrook_api.repair(reference)
    assert repair["status"] == "received"
    assert repair["appointment"] is None
    checks.assert_clean()
