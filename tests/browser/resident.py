"""A resident using the site with a mouse: each step finds what it needs by the label or
name a person would read, and runs the page checks on every page it reaches."""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Page, expect

from browser_support import PageChecks

REFERENCE = re.compile(r"\b[A-Z]{2}-[0-9A-Z]{7}\b")


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
        """The text of the page's error summary (which must be showing)."""
        summary = self.page.locator(".govuk-error-summary")
        expect(summary).to_be_visible()
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
