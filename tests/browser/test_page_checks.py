"""The checks every site page gets catch what they are there to catch: a page that passes
them has been checked, not skipped over."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page

from browser_support import AXE_SCRIPT, DESKTOP, PageChecks

pytestmark = pytest.mark.xdist_group("browser")

GOOD = """<!doctype html><html lang="en"><head><title>Postcode</title></head><body>
<main><h1>What is your postcode?</h1>
<form><label for="postcode">Postcode</label><input id="postcode" name="postcode" autocomplete="postal-code">
<button>Continue</button></form></main></body></html>"""


@pytest.fixture
def blank_page(browser: Browser) -> Iterator[Page]:
    """A page of its own, needing no site."""
    context = browser.new_context(viewport=DESKTOP)
    yield context.new_page()
    context.close()


def page_checks(name: str, folder: Path) -> PageChecks:
    """Checks whose screenshots go to the test's own folder, not among the site's."""
    return PageChecks(name, AXE_SCRIPT.read_text(encoding="utf-8"), screenshots=folder)


def test_an_accessible_narrow_page_passes(blank_page: Page, tmp_path: Path) -> None:
    checks = page_checks("good", tmp_path)
    blank_page.set_content(GOOD)
    checks.check(blank_page, "good")
    checks.assert_clean()
    assert (checks.folder / "01-good-desktop.png").stat().st_size > 0
    assert (checks.folder / "01-good-320.png").stat().st_size > 0


def test_a_field_without_a_label_is_reported_with_where_it_is(blank_page: Page, tmp_path: Path) -> None:
    checks = page_checks("unlabelled", tmp_path)
    blank_page.set_content(GOOD.replace('<label for="postcode">Postcode</label>', ""))
    checks.check(blank_page, "unlabelled")
    with pytest.raises(AssertionError) as failure:
        checks.assert_clean()
    assert "label" in str(failure.value)
    assert "#postcode" in str(failure.value)


def test_a_page_wider_than_320_px_is_reported_with_the_element_at_fault(
    blank_page: Page, tmp_path: Path
) -> None:
    checks = page_checks("wide", tmp_path)
    wide = '<table id="wide" style="width: 600px"><tr><td>x</td></tr></table>'
    blank_page.set_content(GOOD.replace("<h1>", wide + "<h1>"))
    checks.check(blank_page, "wide")
    with pytest.raises(AssertionError) as failure:
        checks.assert_clean()
    assert "scrolls sideways" in str(failure.value)
    assert "table#wide" in str(failure.value)
