"""Fixtures of the resident site's browser tests: one Chromium and one running stack (the
demo gateway with its simulators, and a site for Northfield and for Eastbrook) for the
session; a fresh browser context, page and page checks for each test.

Without /usr/bin/chromium or the npm assets the tests are skipped, saying what is missing,
unless REPAIRS_GATEWAY_REQUIRE_BROWSER is set (as CI sets it): then they fail."""

from __future__ import annotations

import os
import shutil
from collections.abc import Generator, Iterator
from pathlib import Path

import pytest

from browser_support import (
    AXE_SCRIPT,
    CHROMIUM,
    DESKTOP,
    EASTBROOK,
    LAUNCH_ARGS,
    NORTHFIELD,
    REQUIRE_VARIABLE,
    SCREENSHOTS,
    Api,
    DrsControls,
    PageChecks,
    Stack,
    missing_prerequisites,
    running_stack,
)

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # the dev extra installs it; a stale environment may not have it
    sync_playwright = None  # type: ignore[assignment]
    if not os.environ.get(REQUIRE_VARIABLE):
        # The test modules import Playwright: without it they are not collected at all.
        collect_ignore_glob = ["test_*.py"]


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Say so at the end of the run when the browser tests were left out."""
    if sync_playwright is None and not os.environ.get(REQUIRE_VARIABLE):
        terminalreporter.write_line(
            "browser tests (tests/browser) not collected: Playwright is not installed"
            " (pip install -e '.[dev]')"
        )


def _unavailable(reason: str) -> None:
    if os.environ.get(REQUIRE_VARIABLE):
        pytest.fail(f"{REQUIRE_VARIABLE} is set but the browser tests cannot run: {reason}")
    pytest.skip(f"browser tests need {reason}")


@pytest.fixture(scope="session")
def browser_prerequisites() -> None:
    """Skip (or, in CI, fail) when Playwright, Chromium or the npm assets are missing."""
    if sync_playwright is None:
        _unavailable("the playwright package (pip install -e '.[dev]')")
    if missing := missing_prerequisites():
        _unavailable(", ".join(missing))
    # The folder holds this run's screenshots only, so none of an older page is mistaken
    # for the site as it is now.
    shutil.rmtree(SCREENSHOTS, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(browser_prerequisites: None) -> Iterator[Browser]:
    """Debian's headless Chromium, one per test module (each test has its own context).
    Not one per session: Playwright's sync API marks an event loop as running on this
    thread while it is open, and every later test on the same pytest-xdist worker that
    calls asyncio.run() would then fail."""
    assert sync_playwright is not None
    with sync_playwright() as playwright:
        # launch() gives the browser a new, empty profile folder and deletes it on close.
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def stack(browser_prerequisites: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """The demo gateway and a resident site for Northfield and for Eastbrook."""
    folder: Path = tmp_path_factory.mktemp("browser-stack")
    with running_stack(folder, (NORTHFIELD, EASTBROOK)) as running:
        yield running


@pytest.fixture
def page(browser: Browser, stack: Stack, request: pytest.FixtureRequest) -> Iterator[Page]:
    """A page in a fresh context (no cookies from another test); on failure the logs'
    tails are printed."""
    context = browser.new_context(viewport=DESKTOP)
    # A bound per action, so a missing element fails in seconds, not the default 30 s.
    context.set_default_timeout(10_000)
    # axe-core in every page before the site's own scripts: cheaper than sending it over
    # for each page checked, and, like them, outside the site's Content-Security-Policy.
    context.add_init_script(path=AXE_SCRIPT)
    try:
        yield context.new_page()
    finally:
        context.close()
        report = getattr(request.node, "rep_call", None)
        if report is not None and report.failed:
            print(stack.tails())


@pytest.fixture(scope="session")
def checked_pages() -> set[str]:
    """The pages checked so far in the session (each is checked once)."""
    return set()


@pytest.fixture
def checks(request: pytest.FixtureRequest, checked_pages: set[str]) -> PageChecks:
    """axe-core, the 320 px width and screenshots, for each page the test shows."""
    return PageChecks(request.node.name, AXE_SCRIPT.read_text(encoding="utf-8"), checked_pages)


@pytest.fixture
def northfield_api(stack: Stack) -> Iterator[Api]:
    """The Repairs API for Northfield (built-in calendar), as the tests' own client."""
    api = Api(stack, NORTHFIELD)
    yield api
    api.close()


@pytest.fixture
def eastbrook_api(stack: Stack) -> Iterator[Api]:
    """The Repairs API for Eastbrook (Kirona DRS), as the tests' own client."""
    api = Api(stack, EASTBROOK)
    yield api
    api.close()


@pytest.fixture
def drs(stack: Stack) -> Iterator[DrsControls]:
    """The DRS simulator's test controls; anything still held is let go after the test."""
    controls = DrsControls(stack.drs_controls)
    yield controls
    controls.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Keep each phase's report on the test, so fixtures can tell that it failed."""
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
