"""The README's examples run as written and answer what it says: its requests, with bash
and curl, on every demo council against a real `repairs-gateway demo` process, and its
address CSV with the import command it shows.

The blocks are found by their marker comments (``<!-- readme-test: NAME -->``) and run
unchanged; the requests after the ``KEY=`` line and the council's ``B=`` line the demo
printed, as a user pastes them. A step's output is what follows its ``# N.`` comment, up to
the next step; a shell function around curl writes each answer's status code to stderr,
where the answers, on stdout, are left as they are."""

from __future__ import annotations

import json
import os
import re
import secrets
import shlex
import shutil
import signal
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


# The last --write-out wins: the README's own ('\n') is kept, and the status goes to stderr.
CURL_STATUS = "curl() { command curl \"$@\" --write-out '\\n%{stderr}%{http_code}\\n'; }"


def mark(step: str) -> str:
    """Shell lines printing a step's mark to stdout and stderr, to tell its output apart."""
    return f"echo '@@step {step}@@'; echo '@@step {step}@@' >&2\n"


def marked(block: str) -> str:
    """``block`` with each numbered step's mark printed before it."""
    return STEP.sub(lambda step: mark(step.group(1)) + step.group(0), block)


def by_step(output: str) -> dict[str, str]:
    """What was printed after each step's mark, by step."""
    parts = MARK.split(output)
    assert parts[0] == "", f"output before the first step: {parts[0]!r}"
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def booking_command(block: str) -> str:
    """Step 4's ``BOOKED=`` command, which the README says may be run again."""
    found = re.search(r'^BOOKED=\$\(.*?echo "\$BOOKED"$', block, re.S | re.M)
    assert found, "step 4 has no BOOKED=$(...) command"
    return found.group(0)


@dataclass(frozen=True, slots=True)
class Answer:
    """A step's status code and its answer, parsed."""

    status: int
    body: Any


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
    """One demo process for every council (starting one takes seconds), started as the
    README says, without --data-dir; stopped with SIGTERM, it leaves no folder behind."""
    if shutil.which("curl") is None:
        if os.environ.get("REPAIRS_GATEWAY_REQUIRE_CURL"):
            pytest.fail("REPAIRS_GATEWAY_REQUIRE_CURL is set but curl is not installed")
        pytest.skip("the README's examples use curl, which is not installed")
    temporary = tmp_path_factory.mktemp("readme-demo")
    with running_demo(None, env={"TMPDIR": str(temporary)}, stop_signal=signal.SIGTERM) as running:
        assert len(list(temporary.iterdir())) == 1  # the demo's data folder
        yield running
    assert list(temporary.iterdir()) == [], "the demo left its temporary folder behind"


def run_readme(demo: RunningDemo, council: Council, cwd: Path) -> dict[str, Answer]:
    """Run the README's blocks for ``council`` as a user would paste them; each step's
    answer by step number (``again``: step 4's booking sent a second time)."""
    [key_line] = re.findall(r"^  (KEY=\S+)$", demo.output, re.MULTILINE)
    five = readme_block("five-requests")
    script = "\n".join(
        [
            CURL_STATUS,
            key_line,
            council.line,
            marked(five),
            marked(readme_block("more-requests")),
            # Once the repair is cancelled nothing else holds it (the worker's status checks
            # could, while it is booked: a 409 the README mentions), so the answer is certain.
            mark("again"),
            booking_command(five),
        ]
    )
    finished = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, timeout=120, cwd=cwd, check=False
    )
    assert finished.returncode == 0, finished.stderr
    outputs, statuses = by_step(finished.stdout), by_step(finished.stderr)
    assert set(outputs) == {"1", "2", "3", "4", "5", "again", "6", "7", "8"}, sorted(outputs)
    answers: dict[str, Answer] = {}
    for step, text in outputs.items():
        # One request a step: its status code is all the step writes to stderr.
        assert re.fullmatch(r"\d{3}\n", statuses[step]), f"step {step}'s stderr: {statuses[step]!r}"
        try:
            answers[step] = Answer(int(statuses[step]), json.loads(text))
        except ValueError:
            raise AssertionError(f"step {step} did not answer one JSON document:\n{text}") from None
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
    # The README shows the lines as the demo prints them, but for its key and port.
    key_line, council_line = readme_block("demo-lines").splitlines()
    assert key_line.startswith("  KEY=")
    assert f"\n{council_line.replace('http://127.0.0.1:8000', demo.url)}  # " in demo.output


@pytest.mark.parametrize("council_id", sorted(ALL_COUNCILS))
def test_the_readme_s_requests_answer_what_it_says_on_every_demo_council(
    demo: RunningDemo, council_id: str, tmp_path: Path
) -> None:
    council = printed_councils(demo.output)[council_id]
    uprn, triage = council.variables["UPRN"], council.variables["TRIAGE"]
    answers = run_readme(demo, council, tmp_path)
    # What the README's comments say of each step's status.
    statuses = {step: answer.status for step, answer in answers.items()}
    assert statuses == {
        "1": 200,
        "2": 200,
        "3": 200,
        "4": 201,
        "5": 200,
        "6": 200,
        "7": 200,
        "8": 200,
        "again": 201,
    }, {step: answer.body for step, answer in answers.items() if answer.status >= 400}
    body = {step: answer.body for step, answer in answers.items()}

    # 1. The postcode's addresses, $UPRN among them.
    assert uprn in [a["uprn"] for a in body["1"]["addresses"]], body["1"]
    # 2. The tree, in which $TRIAGE is the path of a leaf whose outcome is a job.
    outcome = leaf(body["2"], triage)["outcome"]
    assert (outcome["type"], outcome["path"]) == ("job", triage), outcome
    # 3. A page of days with windows.
    page = body["3"]
    window = first_window(page)
    # 4. Booked into the first window, with a reference.
    booked = body["4"]
    assert booked["status"] == "booked", booked
    assert booked["appointment"]["start"] == window["start"]
    assert (booked["uprn"], booked["triagePath"]) == (uprn, triage)
    # 5. The repair, by step 4's reference.
    assert body["5"]["reference"] == booked["reference"]
    assert body["5"]["status"] == "booked"
    # 6. The next page starts after the first one's last day.
    assert isinstance(page["nextCursor"], str)
    later = first_window(body["6"])
    assert body["6"]["days"][0]["date"] > page["days"][-1]["date"]
    # 7. Moved to the next page's first window.
    assert body["7"]["status"] == "booked", body["7"]
    assert body["7"]["appointment"]["start"] == later["start"]
    assert "moved" in [event["type"] for event in body["7"]["history"]]
    # 8. Cancelled.
    assert body["8"]["reference"] == booked["reference"]
    assert body["8"]["status"] == "cancelled", body["8"]
    # Step 4's booking sent again: the same key and body answer the same repair, not a second one.
    assert body["again"] == booked


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
