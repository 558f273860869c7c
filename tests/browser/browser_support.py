"""What the resident site's browser tests run on: Debian's Chromium driven by Playwright,
a real ``repairs-gateway demo`` and a resident site per council (the demo's, or a
``repairs-gateway web`` started here), each process writing to a log file; and the checks
made on every page (axe-core, screenshots at desktop width and at 320 px, no sideways
scrolling at 320 px).

Nothing here downloads a browser or reaches beyond 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from crash_support import CLI, Process, child_environment, log_tail
from demo_process import free_port

if TYPE_CHECKING:  # importable without Playwright, so that its absence is reported, not a crash
    from playwright.sync_api import Page, ViewportSize

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_SCRIPT = REPO / "node_modules" / "axe-core" / "axe.min.js"
GOVUK_FRONTEND = REPO / "node_modules" / "govuk-frontend" / "dist"
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
REQUIRE_VARIABLE = "REPAIRS_GATEWAY_REQUIRE_BROWSER"

# This machine's network is closed: without these, Chromium's background fetches (component
# updates, safe browsing lists, QUIC probes) stall or fail noisily.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
NARROW: ViewportSize = {"width": 320, "height": 640}
STARTUP_SECONDS = 60.0
API_KEY_VARIABLE = "BROWSER_TEST_GATEWAY_KEY"

NORTHFIELD = "northfield"  # the built-in calendar
EASTBROOK = "eastbrook"  # scheduled by the Kirona DRS simulator


def missing_prerequisites() -> list[str]:
    """What the browser tests need and this machine lacks, one line each."""
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (Debian's chromium package)")
    if not AXE_SCRIPT.exists():
        missing.append(f"{AXE_SCRIPT.relative_to(REPO)} (npm ci in the repository)")
    if not GOVUK_FRONTEND.exists():
        missing.append(f"{GOVUK_FRONTEND.relative_to(REPO)} (npm ci in the repository)")
    return missing


# ----------------------------------------------------------------------- the processes


@dataclass(frozen=True, slots=True)
class Stack:
    """The running demo gateway, its DRS simulator's test controls and a site per council."""

    gateway: str
    key: str
    drs_controls: str
    sites: dict[str, str]
    logs: tuple[Path, ...]

    def tails(self) -> str:
        """The end of every process's log, to print when a test fails."""
        return "\n".join(log_tail(path, 30) for path in self.logs)


def _wait_for_line(process: Process, pattern: str) -> re.Match[str]:
    found: list[re.Match[str]] = []

    def printed() -> bool:
        text = process.log.read_text(encoding="utf-8", errors="replace")
        if match := re.search(pattern, text, re.MULTILINE):
            found.append(match)
        return bool(found)

    process.wait_until(printed, f"a line matching {pattern!r}")
    return found[0]


def _wait_for_http(process: Process, url: str) -> None:
    def answers() -> bool:
        try:
            return httpx.get(url, timeout=2).status_code < 500
        except httpx.TransportError:
            return False

    process.wait_until(answers, f"an answer at {url}")


@contextmanager
def running_stack(folder: Path, councils: tuple[str, ...]) -> Iterator[Stack]:
    """The demo (gateway, worker and simulators) and a resident site for each of
    ``councils``: the demo's own, or ``repairs-gateway web`` on a free port where the demo
    serves none; all stopped on exit."""
    with ExitStack() as stack:
        port = free_port()
        demo = Process(
            "repairs-gateway demo",
            [*CLI, "demo", "--port", str(port), "--data-dir", str(folder / "demo")],
            child_environment(),
            folder / "demo.log",
        )
        stack.callback(demo.stop)
        key = _wait_for_line(demo, r"^API key: (\S+)").group(1)
        # The demo prints the SOAP endpoint; the test controls are at the same server's root.
        drs = _wait_for_line(demo, r"Kirona DRS simulator at (http://[^/\s]+)").group(1)
        gateway = f"http://127.0.0.1:{port}"
        _wait_for_http(demo, f"{gateway}/healthz")
        # The demo prints its own resident sites before the key; a council it serves none for
        # gets one started here, as an operator would.
        printed = demo.log.read_text(encoding="utf-8", errors="replace")
        sites = {
            council: url
            for council, url in re.findall(r"Resident site for (\S+): (http://127\.0\.0\.1:\d+)", printed)
            if council in councils
        }
        started: list[tuple[Process, str]] = [(demo, url) for url in sites.values()]
        logs = [demo.log]
        for council in councils:
            if council in sites:
                continue
            site_port = free_port()
            site = Process(
                f"repairs-gateway web ({council})",
                [
                    *CLI,
                    "web",
                    "--gateway-url",
                    gateway,
                    "--api-key-env",
                    API_KEY_VARIABLE,
                    "--council",
                    council,
                    "--port",
                    str(site_port),
                ],
                child_environment(**{API_KEY_VARIABLE: key}),
                folder / f"web-{council}.log",
            )
            stack.callback(site.stop)
            logs.append(site.log)
            sites[council] = f"http://127.0.0.1:{site_port}"
            started.append((site, sites[council]))
        # Started together, waited for after: the sites start up side by side.
        for site, url in started:
            _wait_for_http(site, url + "/")
        yield Stack(gateway, key, drs, sites, tuple(logs))


@contextmanager
def gateway_refusing_repeats(folder: Path) -> Iterator[Stack]:
    """A gateway whose Northfield refuses a repeated report at a home (``duplicates:
    refuse_at_homes``, as the demo turns on for Southmoor only: the other tests report at
    Northfield's homes again and again) and a resident site for it, both served in this
    process on loopback; the demo's councils and addresses otherwise."""
    from repairs_gateway.api.app import create_app
    from repairs_gateway.config.loader import parse_config
    from repairs_gateway.demo.data import demo_config_path, demo_document
    from repairs_gateway.demo.run import prepare
    from repairs_gateway.serving import serve_asgi
    from repairs_gateway.settings import Settings
    from repairs_gateway.web.app import create_web_app
    from repairs_gateway.web.command import default_assets

    document = demo_document()
    for council in document["councils"]:
        if council["id"] == NORTHFIELD:
            council["duplicates"] = {"refuse_at_homes": True}
    config = parse_config(document, environ={})
    settings = Settings(
        database_url=f"sqlite+aiosqlite:///{folder / 'gateway.db'}",
        config_file=demo_config_path(),
        token_secret=secrets.token_urlsafe(48),
    )
    # Playwright's sync API marks this thread's event loop as running: the set-up (migrations,
    # addresses, keys) runs on a thread of its own.
    with ThreadPoolExecutor(1) as pool:
        key = pool.submit(asyncio.run, prepare(settings, config)).result().key
    with ExitStack() as stack:
        gateway = stack.enter_context(serve_asgi(create_app(settings, config), "gateway refusing repeats"))
        # Used on the site's own event loop (its server's thread), as the demo's sites use theirs.
        client = httpx.AsyncClient(base_url=gateway, timeout=35.0)
        site_app = create_web_app(client, NORTHFIELD, key, secrets.token_urlsafe(48), default_assets())
        site = stack.enter_context(serve_asgi(site_app, "site refusing repeats"))
        yield Stack(gateway, key, "", {NORTHFIELD: site}, ())


# ----------------------------------------------------------------------- the API and DRS


class Api:
    """The gateway's Repairs API for one council, as the tests' own client (to book a window
    behind the site's back, or to read what the site did)."""

    def __init__(self, stack: Stack, council: str) -> None:
        self.http = httpx.Client(
            base_url=f"{stack.gateway}/v1/councils/{council}",
            headers={"Authorization": f"Bearer {stack.key}"},
            timeout=30,
        )

    def repair(self, reference: str) -> dict[str, Any]:
        """The repair as the API answers it."""
        answer = self.http.get(f"/repairs/{reference}")
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def windows(self, uprn: str, triage_path: str) -> list[dict[str, Any]]:
        """The first page of free windows for a repair at ``uprn``, in order."""
        answer = self.http.get("/appointments", params={"uprn": uprn, "triagePath": triage_path})
        assert answer.status_code == 200, answer.text
        return [window for day in answer.json()["days"] for window in day["windows"]]

    def book(self, uprn: str, triage_path: str, window_id: str) -> dict[str, Any]:
        """Report and book a repair into ``window_id`` (another resident, as far as the site
        knows); fails the test unless it is booked."""
        answer = self.http.post(
            "/repairs",
            json={
                "uprn": uprn,
                "repair": {"triagePath": triage_path},
                "description": "Reported through the API, as the phone line would",
                "contact": {"name": "Another Resident", "phone": "07700 900999", "preferredChannel": "sms"},
                "windowId": window_id,
                "newProblem": True,
            },
        )
        assert answer.status_code == 201, answer.text
        body: dict[str, Any] = answer.json()
        assert body["status"] == "booked", body
        return body

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()


class DrsControls:
    """The Kirona DRS simulator's test controls (``/_simulator/``): hold a SOAP call, then
    drop it, which the gateway sees as DRS answering 503."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base, timeout=30)
        self.failing: set[str] = set()

    def hold(self, operation: str, count: int = 1) -> None:
        """Hold the next ``count`` calls of ``operation`` before DRS carries them out."""
        hold = {"operation": operation, "phase": "before", "count": count}
        answer = self.http.post("/_simulator/hold", json=hold)
        assert answer.status_code == 200, answer.text

    def wait_held(self, operation: str, seconds: float = 20.0) -> None:
        """Wait until a call of ``operation`` is held (a bound, not a timing)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            held = self.http.get("/_simulator/held").json()["held"]
            if any(call["operation"] == operation for call in held):
                return
            time.sleep(0.05)
        raise AssertionError(f"DRS never held a {operation} call")

    def drop_held(self) -> None:
        """Discard every held call (DRS answers it 503) and disarm the holds left."""
        self.http.post("/_simulator/release", json={"drop": True}).raise_for_status()

    def fail(self, operation: str, count: int) -> None:
        """Answer the next ``count`` calls of ``operation`` 503, as DRS down would: the
        gateway retries calls that are safe to repeat, and meets the outage at every try."""
        answer = self.http.post("/_simulator/fail", json={"operation": operation, "count": count})
        assert answer.status_code == 200, answer.text
        self.failing.add(operation)

    def recover(self) -> None:
        """DRS is back: the failures ``fail`` queued and not yet met are forgotten."""
        for operation in sorted(self.failing):
            self.http.post("/_simulator/fail", json={"operation": operation, "count": 0}).raise_for_status()
        self.failing.clear()

    def close(self) -> None:
        """Let anything still held go, forget failures not yet met, and close the pool."""
        try:
            self.drop_held()
            self.recover()
        finally:
            self.http.close()


# ----------------------------------------------------------------------- checks on each page


@dataclass
class PageChecks:
    """Checks every page a test shows: axe-core finds no WCAG 2.2 A/AA violation, and at
    320 px the page needs no sideways scrolling. Screenshots of each page at desktop width
    and at 320 px go to ``test-artifacts/screenshots/<test>/``. Problems are collected so
    one run reports every page at fault; ``assert_clean`` fails the test with them all."""

    test_name: str
    axe_source: str
    checked: set[str] = field(default_factory=set)
    """Pages (site and name) checked already in this session: a page shown again by a later
    test is not checked twice, which keeps the suite within CI's time."""
    screenshots: Path = SCREENSHOTS
    problems: list[str] = field(default_factory=list)
    shown: list[str] = field(default_factory=list)

    @property
    def folder(self) -> Path:
        """Where this test's screenshots go."""
        return self.screenshots / re.sub(r"[^A-Za-z0-9_.-]+", "-", self.test_name).strip("-")

    def check(self, page: Page, name: str) -> None:
        """Run every check on the page showing now; ``name`` names it in files and messages.
        A page of that name on the same site checked earlier in the session is not checked
        again."""
        page_key = f"{urlsplit(page.url).netloc} {name}"
        if page_key in self.checked:
            return
        self.checked.add(page_key)
        number = len(self.shown) + 1
        label = f"{number:02d}-{name}"
        self.shown.append(label)
        where = f"page {label} ({page.url})"
        self.folder.mkdir(parents=True, exist_ok=True)
        for violation in self._axe(page):
            self.problems.append(f"{where}: {describe_violation(violation)}")
        page.screenshot(path=str(self.folder / f"{label}-desktop.png"), full_page=True)
        page.set_viewport_size(NARROW)
        try:
            width = int(page.evaluate("document.documentElement.scrollWidth"))
            if width > NARROW["width"]:
                self.problems.append(
                    f"{where}: at 320 px the page is {width} px wide (scrolls sideways):"
                    f" {widest_elements(page)}"
                )
            page.screenshot(path=str(self.folder / f"{label}-320.png"), full_page=True)
        finally:
            page.set_viewport_size(DESKTOP)

    def _axe(self, page: Page) -> list[dict[str, Any]]:
        # The page fixture adds axe to every page; a page without it gets it here, through
        # the DevTools protocol, which the site's Content-Security-Policy does not stop.
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.evaluate(self.axe_source)
        results: dict[str, Any] = page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
            AXE_TAGS,
        )
        violations: list[dict[str, Any]] = results["violations"]
        return violations

    def assert_clean(self) -> None:
        """Fail with every problem found on any page so far."""
        assert not self.problems, f"{len(self.problems)} problem(s) on the pages shown:\n" + "\n".join(
            self.problems
        )


def describe_violation(violation: dict[str, Any]) -> str:
    """One axe violation as lines a person can act on: the rule, why, and where."""
    lines = [f"[{violation.get('impact')}] {violation['id']}: {violation['help']} ({violation['helpUrl']})"]
    for node in violation["nodes"][:5]:
        summary = " ".join(str(node.get("failureSummary", "")).split())
        lines.append(f"    at {json.dumps(node['target'])}: {node['html'][:200]}")
        if summary:
            lines.append(f"       {summary[:300]}")
    if len(violation["nodes"]) > 5:
        lines.append(f"    ... and {len(violation['nodes']) - 5} more element(s)")
    return "\n".join(lines)


def widest_elements(page: Page) -> str:
    """The elements sticking out past the right edge at this width, to say what to fix."""
    found: list[str] = page.evaluate(WIDEST_ELEMENTS)
    return "; ".join(found) or "(no single element found)"


def lines_at_320(page: Page, text: str) -> list[int]:
    """How many lines each place ``text`` appears in the page's main part takes at 320 px
    wide, as a resident reads it (a reference broken after its "NF-" takes two)."""
    page.set_viewport_size(NARROW)
    try:
        found: list[int] = page.evaluate(LINES_OF_TEXT, text)
    finally:
        page.set_viewport_size(DESKTOP)
    return found


# Each occurrence of a text in <main> (across elements, as the page's text reads), as a DOM
# range; the lines it takes are its boxes' distinct tops (boxes on one line share a top
# within a few pixels, whatever their element).
LINES_OF_TEXT = r"""text => {
    const main = document.querySelector('main');
    const walker = document.createTreeWalker(main, NodeFilter.SHOW_TEXT);
    const nodes = [];
    let whole = '';
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        nodes.push({node, start: whole.length});
        whole += node.data;
    }
    const at = offset => {
        let i = nodes.length - 1;
        while (i > 0 && nodes[i].start > offset) i--;
        return [nodes[i].node, offset - nodes[i].start];
    };
    const lines = [];
    for (let from = whole.indexOf(text); from !== -1; from = whole.indexOf(text, from + 1)) {
        const range = document.createRange();
        range.setStart(...at(from));
        const [endNode, endOffset] = at(from + text.length - 1);
        range.setEnd(endNode, endOffset + 1);
        const tops = [...range.getClientRects()]
            .filter(rect => rect.width > 0 && rect.height > 0)
            .map(rect => rect.top)
            .sort((a, b) => a - b);
        let count = 0, last = -Infinity;
        for (const top of tops) {
            if (top - last > 4) count++;
            last = top;
        }
        lines.push(count);
    }
    return lines;
}"""


WIDEST_ELEMENTS = r"""() => {
    const edge = document.documentElement.clientWidth;
    const out = [];
    for (const el of document.body.querySelectorAll('*')) {
        const right = Math.round(el.getBoundingClientRect().right);
        if (right > edge + 1 && out.length < 5) {
            const cls = typeof el.className === 'string' && el.className.trim()
                ? '.' + el.className.trim().split(/\s+/).join('.') : '';
            const id = el.id ? '#' + el.id : '';
            out.push(`${el.tagName.toLowerCase()}${id}${cls} (right edge ${right} px)`);
        }
    }
    return out;
}"""
