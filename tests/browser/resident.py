"""A resident using the site with a mouse: each step finds what it needs by the label or
name a person would read, and runs the page checks on every page it reaches."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from playwright.sync_api import Page, expect

from browser_support import Api, PageChecks

REFERENCE = re.compile(r"\b[A-Z]{2}-[0-9A-Z]{7}\b")
LONDON = ZoneInfo("Europe/London")  # the demo councils' time


@dataclass
class Resident:
    """The site for one council, in one page, with the checks each page gets."""

    page: Page
    site: str
    checks: PageChecks | None = None

    def seen(self, name: str) -> None:
        """Run the page checks (when this test makes them) on the page showing now."""
        if self.checks is not None:
            self.checks.check(self.page, name)

    def heading(self) -> str:
        """The page's main heading (a question's legend, when the question is the heading)."""
        return " ".join(self.page.locator("h1").first.inner_text().split())

    def open_start(self) -> None:
        """The site's start page."""
        self.page.goto(self.site + "/")
        expect(self.page.locator("h1")).to_have_text("Housing repairs")
        self.seen("start")

    def continue_(self) -> None:
        """Press the page's Continue button."""
        self.page.get_by_role("button", name="Continue", exact=True).click()

    def choose(self, label: str) -> None:
        """Choose the radio button labelled ``label`` (its exact text)."""
        self.page.get_by_role("radio", name=label, exact=True).check()

    def error_summary(self) -> str:
        """The text of the page's error summary (which must be showing); each of its links
        must lead to a field on the page, as a resident following one expects."""
        summary = self.page.locator(".govuk-error-summary")
        expect(summary).to_be_visible()
        for href in summary.locator("a").evaluate_all("links => links.map(a => a.getAttribute('href'))"):
            assert href and href.startswith("#"), f"an error summary link goes to {href!r}"
            target = self.page.locator(f"[id='{href[1:]}']")
            assert target.count() == 1, f"the error summary links to {href}, which is not on the page"
        return " ".join(summary.inner_text().split())

    # ----------------------------------------------------------------- report a repair

    def report_from_start(self, postcode: str) -> None:
        """From the start page to the addresses at ``postcode``."""
        self.open_start()
        self.page.get_by_role("button", name="Report a repair").click()
        self.give_postcode(postcode)

    def give_postcode(self, postcode: str) -> None:
        """Answer the postcode question."""
        expect(self.page.get_by_label("What is the postcode of the property?")).to_be_visible()
        self.seen("postcode")
        self.page.get_by_label("What is the postcode of the property?").fill(postcode)
        self.continue_()

    def choose_address(self, address: str) -> None:
        """Choose the property (home or shared area) whose text begins ``address``."""
        expect(self.page.locator("h1")).to_have_text("Where is the repair needed?")
        self.seen("address")
        self.page.get_by_role("radio", name=re.compile("^" + re.escape(address))).check()
        self.continue_()

    def answer(self, *labels: str) -> None:
        """Answer the council's questions, one page each, with the options labelled ``labels``."""
        for depth, label in enumerate(labels, start=1):
            expect(self.page.get_by_role("radio", name=label, exact=True)).to_be_visible()
            self.seen(f"question-{depth}")
            self.choose(label)
            self.continue_()

    def describe(self, text: str) -> None:
        """Describe the problem."""
        expect(self.page.get_by_label("Describe the problem")).to_be_visible()
        self.seen("description")
        self.page.get_by_label("Describe the problem").fill(text)
        self.continue_()

    def windows(self) -> list[Window]:
        """The appointment windows offered on this page, in order, each with the day heading
        it is listed under."""
        expect(self.page.locator("h1")).to_contain_text("When can we come?")
        found: list[dict[str, str]] = self.page.locator('input[type="radio"][name="windowId"]').evaluate_all(
            WINDOW_RADIOS
        )
        return [Window(radio["value"], " ".join(radio["name"].split()), radio["day"]) for radio in found]

    def later_dates(self) -> None:
        """Follow "Later dates"."""
        self.page.get_by_role("link", name="Later dates").click()

    def earlier_dates(self) -> None:
        """Follow "Earlier dates"."""
        self.page.get_by_role("link", name="Earlier dates").click()

    def choose_window(self, window: Window) -> None:
        """Choose ``window`` and continue."""
        self.page.get_by_role("radio", name=window.text, exact=True).check()
        self.continue_()

    def give_contact(self, name: str, phone: str, channel: str, *, empty_first: bool = False) -> None:
        """Fill in the contact details: a name, a phone number and how to be contacted;
        ``empty_first`` sends the form empty first, and sees it refused field by field."""
        expect(self.page.locator("h1")).to_have_text("Your contact details")
        self.seen("contact")
        if empty_first:
            self.continue_()
            refused = self.error_summary()
            assert "Enter your name" in refused
            assert "Choose how we should contact you" in refused
            expect(self.page.locator("#name-error")).to_contain_text("Enter your name")
            self.seen("contact-errors")
        self.page.get_by_label("Name", exact=True).fill(name)
        self.page.get_by_label("UK phone number").fill(phone)
        self.choose(channel)
        self.continue_()

    def answers(self) -> dict[str, str]:
        """The check-your-answers page's rows, by their key."""
        expect(self.page.locator("h1")).to_have_text("Check your answers before sending your report")
        rows = self.page.locator(".govuk-summary-list__row")
        found = {}
        for index in range(rows.count()):
            row = rows.nth(index)
            key = " ".join(row.locator(".govuk-summary-list__key").inner_text().split())
            found[key] = " ".join(row.locator(".govuk-summary-list__value").inner_text().split())
        return found

    def press(self, button: str) -> None:
        """Press the button reading ``button``."""
        self.page.get_by_role("button", name=button, exact=True).click()

    def confirmation(self) -> tuple[str, str]:
        """The confirmation's heading and the reference it gives."""
        panel = self.page.locator(".govuk-panel")
        expect(panel).to_be_visible()
        heading = " ".join(panel.locator("h1").inner_text().split())
        match = REFERENCE.search(panel.inner_text())
        assert match, f"no reference on the confirmation: {panel.inner_text()!r}"
        return heading, match.group(0)


# Each window radio's value, its label's text (its day, hidden but read out, then its time)
# and the day heading it is listed under.
WINDOW_RADIOS = """radios => radios.map(radio => {
    let heading = radio.closest('.govuk-form-group').previousElementSibling;
    while (heading && heading.tagName !== 'H2') heading = heading.previousElementSibling;
    return {
        value: radio.value,
        name: document.querySelector(`label[for="${radio.id}"]`).textContent,
        day: heading ? heading.textContent.trim() : '',
    };
})"""


@dataclass(frozen=True, slots=True)
class Window:
    """An appointment window as the page offers it: the radio's value, its label as a screen
    reader reads it ("Monday 7 December, Morning (8am to midday)") and its day's heading."""

    value: str
    text: str
    heading: str

    @property
    def day(self) -> date:
        """The day it is on, from its heading: "Monday 7 December" is this year's or next
        year's, whichever falls on a Monday ("Monday 4 January 2027" says its year)."""
        if re.search(r"\d{4}$", self.heading):
            return datetime.strptime(self.heading, "%A %d %B %Y").date()
        today = datetime.now(LONDON).date()
        for year in (today.year, today.year + 1):
            # A date falls on another weekday in the next year, so only one year fits.
            day = datetime.strptime(f"{self.heading} {year}", "%A %d %B %Y").date()
            if f"{day:%A}" == self.heading.split()[0]:
                return day
        raise AssertionError(f"no day in this year or the next is {self.heading!r}")

    @property
    def slot(self) -> str:
        """Its label and times, as shown under the day: "Morning (8am to midday)"."""
        return self.text.split(", ", 1)[1]

    @property
    def in_full(self) -> str:
        """How the later pages write it: "Monday 7 December 2026, Morning (8am to midday)"."""
        return f"{self.day:%A} {self.day.day} {self.day:%B %Y}, {self.slot}"


# The focused element, if it is what ``want`` describes: a CSS selector, or a button or link
# whose text is ``text``.
FOCUS_IS = """want => {
    const el = document.activeElement;
    if (!el || el === document.body) return false;
    if (want.selector) return el.matches(want.selector);
    const role = el.tagName === 'A' || el.tagName === 'BUTTON' || el.getAttribute('role') === 'button';
    return role && el.innerText.replace(/\\s+/g, ' ').trim() === want.text;
}"""
TAB_LIMIT = 80


@dataclass
class KeyboardResident:
    """A resident using only the keyboard: Tab to move (round past the end), arrow keys within a
    group of radios, Space to choose, Enter to follow a link or press a button, and typing.
    The page is read (to know when focus has arrived) but never clicked."""

    page: Page
    site: str

    def _tab_to(self, want: dict[str, str], what: str) -> None:
        for _ in range(TAB_LIMIT):
            if self.page.evaluate(FOCUS_IS, want):
                return
            self.page.keyboard.press("Tab")
        raise AssertionError(f"Tab never reached {what} on {self.page.url}")

    def follow(self, text: str) -> None:
        """Tab to the link or button reading ``text``, press Enter and wait for the page it
        leads to (each of the site's links and buttons leads to a page)."""
        self._tab_to({"text": text}, f"a link or button reading {text!r}")
        with self.page.expect_navigation():
            self.page.keyboard.press("Enter")

    def type_into(self, label: str, text: str) -> None:
        """Tab to the field labelled ``label`` and type ``text``."""
        field_id = self.page.get_by_label(label, exact=True).get_attribute("id")
        assert field_id, f"the field labelled {label!r} has no id"
        self._tab_to({"selector": f"#{field_id}"}, f"the field {label!r}")
        self.page.keyboard.type(text)

    def choose(self, label: str) -> None:
        """Tab into the group of radios holding ``label``, arrow to it and press Space."""
        radio = self.page.get_by_role("radio", name=label, exact=True)
        radio_id, name = radio.get_attribute("id"), radio.get_attribute("name")
        assert radio_id and name, f"the radio {label!r} has no id or name"
        self._tab_to({"selector": f'input[type="radio"][name="{name}"]'}, f"the radios {name!r}")
        for _ in range(TAB_LIMIT):
            if self.page.evaluate(FOCUS_IS, {"selector": f"#{radio_id}"}):
                self.page.keyboard.press("Space")
                expect(radio).to_be_checked()
                return
            self.page.keyboard.press("ArrowDown")
        raise AssertionError(f"the arrow keys never reached {label!r}")

    def continue_(self) -> None:
        """Tab to the Continue button and press Enter."""
        self.follow("Continue")


def assert_confirmed_once(page: Page, window: Window) -> None:
    """The confirmation says when the visit is once, on the clock GOV.UK writes (8am,
    midday: no 24-hour times), and tells the resident to keep the reference once."""
    said = " ".join(page.locator("main").inner_text().split())
    day = f"{window.day:%A} {window.day.day} {window.day:%B}"
    assert said.count(day) == 1, f"the day {day!r} is not said once: {said!r}"
    start, end = re.findall(r"\(([^()]+) to ([^()]+)\)$", window.slot)[0]
    assert start in said and end in said, f"{window.slot!r} is not on the confirmation: {said!r}"
    assert not re.search(r"\b\d{2}:\d{2}\b", said), f"a 24-hour time on the confirmation: {said!r}"
    assert said.lower().count("keep your reference") <= 1, said


def assert_booked_in(api: Api, reference: str, window: Window) -> None:
    """The API holds the repair booked in the window the resident chose on the page."""
    repair = api.repair(reference)
    assert repair["status"] == "booked", repair
    appointment = repair["appointment"]
    start = datetime.fromisoformat(appointment["start"].replace("Z", "+00:00")).astimezone(LONDON)
    assert start.date() == window.day
    assert appointment["label"] in window.text
