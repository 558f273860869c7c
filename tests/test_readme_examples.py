"""The README's examples run as written and answer what it says: its requests, with bash
and curl, on every demo council against a real `repairs-gateway demo` process, and its
address CSV with the import command it shows.

The blocks are found by their marker comments (``<!-- readme-test: NAME -->``) and run
unchanged; the requests after the ``KEY=`` line and the council's ``B=`` line the demo
printed, as a user pastes them. A step's output is what follows its ``# N.`` comment, up to
the next step."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from repairs_gateway.demo.data import demo_config_path

from demo_process import RunningDemo, running_demo

README = Path(__file__).resolve().parents[1] / "README.md"
STEP = re.compile(r"^# (\d+)\. ", re.MULTILINE)
MARK = re.compile(r"^@@step (\S+)@@\n", re.MULTILINE)
ALL_COUNCILS = {"northfield", "southmoor", "eastbrook", "larchford", "netherholme"}

pytestmark = pytest.mark.xdist_group("processes")


def readme_block(name: str) -> str:
    """The fenced block after the marker comment ``name`` in the README, as written there."""
    text = README.read_text(encoding="utf-8")
    found = re.search(rf"<!-- readme-test: {re.escape(name)} -->\n```\w*\n(.*?)^```", text, re.S | re.M)
    assert found, f"README.md has no fenced block after <!-- readme-test: {name} -->"
    return found.group(1)


def marked(block: str) -> str:
    """``block`` with a line printed before each numbered step, to tell their outputs apart."""
    return STEP.sub(lambda step: f"echo '@@step {step.group(1)}@@'\n{step.group(0)}", block)


def booking_command(block: str) -> str:
    """Step 4's ``BOOKED=`` command, which the README says may be run again."""
    start = block.index("BOOKED=$(")
    end = block.index('echo "$BOOKED"', start) + len('echo "$BOOKED"')
    return block[start:end]


@dataclass(frozen=True, slots=True)
class Council:
    """A council's line as the demo printed it, and the variables it sets."""

    line: str
    variables: dict[str, str]


def printed_councils(output: str) -> dict[str, Council]:
    """The demo's paste-ready ``B=...`` lines, by council."""
    councils = {}
    for line in re.findall(r"^  (B=\S+ .*)$", output, re.MULTILINE):
        variables = dict(word.split("=", 1) for word in shlex.split(line, comments=True))
        councils[variables["B"].rsplit("/", 1)[1]] = Council(line, variables)
    return councils


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """One demo process for every council: starting one takes seconds."""
    if shutil.which("curl") is None:
        if os.environ.get("REPAIRS_GATEWAY_REQUIRE_CURL"):
            pytest.fail("REPAIRS_GATEWAY_REQUIRE_CURL is set but curl is not installed")
        pytest.skip("the README's examples use curl, which is not installed")
    with running_demo(tmp_path_factory.mktemp("readme-demo")) as running:
        yield running


def run_readme(demo: RunningDemo, council: Council, cwd: Path) -> dict[str, Any]:
    """Run the README's blocks for ``council`` as a user would paste them; each step's
    answer, parsed as JSON, by step number (``again``: step 4's booking sent a second time)."""
    [key_line] = re.findall(r"^  (KEY=\S+)$", demo.output, re.MULTILINE)
    five = readme_block("five-requests")
    script = "\n".join(
        [
            key_line,
            council.line,
            marked(five),
            "echo '@@step again@@'",
            booking_command(five),
            marked(readme_block("more-requests")),
        ]
    )
    finished = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=120, cwd=cwd, check=False
    )
    assert finished.returncode == 0, finished.stderr
    assert finished.stderr == "", finished.stderr
    parts = MARK.split(finished.stdout)
    assert parts[0] == "", f"output before the first step: {parts[0]!r}"
    answers: dict[str, Any] = {}
    for step, text in zip(parts[1::2], parts[2::2], strict=True):
        try:
            answers[step] = json.loads(text)
        except ValueError:
            raise AssertionError(f"step {step} did not answer one JSON document:\n{text}") from None
    assert set(answers) == {"1", "2", "3", "4", "5", "again", "6", "7", "8"}, sorted(answers)
    return answers


def leaf(tree: dict[str, Any], path: str) -> dict[str, Any]:
    """The triage option at ``path`` (option ids joined by "/")."""
    node: dict[str, Any] = {"next": tree}
    for option_id in path.split("/"):
        node = next(o for o in node["next"]["options"] if o["id"] == option_id)
    return node


def first_window(page: dict[str, Any]) -> dict[str, Any]:
    window: dict[str, Any] = page["days"][0]["windows"][0]
    return window


def test_the_demo_prints_a_line_for_every_demo_council(demo: RunningDemo) -> None:
    served = re.search(r"^repairs-gateway demo: councils (.*)$", demo.output, re.MULTILINE)
    assert served, demo.output
    assert set(served.group(1).split(", ")) == ALL_COUNCILS, "a demo council's adaptor is not installed"
    assert set(printed_councils(demo.output)) == ALL_COUNCILS


@pytest.mark.parametrize("council_id", sorted(ALL_COUNCILS))
def test_the_readme_s_requests_answer_what_it_says_on_every_demo_council(
    demo: RunningDemo, council_id: str, tmp_path: Path
) -> None:
    council = printed_councils(demo.output)[council_id]
    uprn, triage = council.variables["UPRN"], council.variables["TRIAGE"]
    answers = run_readme(demo, council, tmp_path)

    # 1. The postcode's addresses, $UPRN among them.
    assert uprn in [a["uprn"] for a in answers["1"]["addresses"]], answers["1"]
    # 2. The tree, in which $TRIAGE is the path of a leaf whose outcome is a job.
    outcome = leaf(answers["2"], triage)["outcome"]
    assert (outcome["type"], outcome["path"]) == ("job", triage), outcome
    # 3. A page of days with windows.
    page = answers["3"]
    window = first_window(page)
    # 4. Booked into the first window, with a reference.
    booked = answers["4"]
    assert booked["status"] == "booked", booked
    assert booked["appointment"]["start"] == window["start"]
    assert (booked["uprn"], booked["triagePath"]) == (uprn, triage)
    # The same key and body again: the same repair, not a second one.
    assert answers["again"]["reference"] == booked["reference"], answers["again"]
    # 5. The repair, by step 4's reference.
    assert answers["5"]["reference"] == booked["reference"]
    assert answers["5"]["status"] == "booked"
    # 6. The next page starts after the first one's last day.
    assert isinstance(page["nextCursor"], str)
    later = first_window(answers["6"])
    assert answers["6"]["days"][0]["date"] > page["days"][-1]["date"]
    # 7. Moved to the next page's first window.
    assert answers["7"]["status"] == "booked", answers["7"]
    assert answers["7"]["appointment"]["start"] == later["start"]
    assert "moved" in [event["type"] for event in answers["7"]["history"]]
    # 8. Cancelled.
    assert answers["8"]["reference"] == booked["reference"]
    assert answers["8"]["status"] == "cancelled", answers["8"]


def test_the_readme_s_address_csv_imports_as_it_says(tmp_path: Path) -> None:
    """The example file, imported with the command shown, prints what the README shows,
    rejected rows and exit status included."""
    (tmp_path / "properties.csv").write_text(readme_block("addresses-csv"), encoding="utf-8")
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        "PYTHONUNBUFFERED": "1",  # stdout and stderr in the order a terminal shows them
        "REPAIRS_GATEWAY_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'register.db'}",
        "REPAIRS_GATEWAY_CONFIG_FILE": str(demo_config_path()),
        "REPAIRS_GATEWAY_TOKEN_SECRET": secrets.token_urlsafe(48),
    }
    upgraded = subprocess.run(
        ["repairs-gateway", "db", "upgrade"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert upgraded.returncode == 0, upgraded.stderr
    session = readme_block("addresses-import")
    commands = [line.removeprefix("$ ") for line in session.splitlines() if line.startswith("$ ")]
    shown = "".join(line + "\n" for line in session.splitlines() if not line.startswith("$ "))
    ran = subprocess.run(
        ["bash", "-c", "\n".join(commands)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=60,
        check=False,
    )
    assert ran.stdout == shown
