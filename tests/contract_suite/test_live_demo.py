"""Live mode against a running `repairs-gateway demo`, as a supplier would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from repairs_gateway.contract.report import Finding

from demo_process import running_demo

# One worker under pytest-xdist, so that the module's demo process is started once.
pytestmark = pytest.mark.xdist_group("live-demo")

CLIENT = """
import json, sys
from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.contract.runner import RunOptions, run_contract
endpoint = Endpoint(
    sys.argv[1], sys.argv[2], "northfield", "southmoor", postcodes=("NF1 1AA",), other_postcodes=("SM4 7XY",)
)
report = run_contract(endpoint, RunOptions(20, 3))
print(json.dumps({
    "gateway_modules": sorted(
        m for m in sys.modules
        if m.startswith(("repairs_gateway.api", "repairs_gateway.persistence", "sqlalchemy"))
    ),
    "cases": report.cases,
    "skipped": [[s.part, s.option] for s in report.not_run()],
    "failures": [[f.finding.operation, f.finding.part, f.finding.check, f.finding.message, f.finding.status,
                  f.finding.curl, f.finding.body] for f in report.failures.values()],
}))
"""


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """A running demo: its URL and API key."""
    with running_demo(tmp_path_factory.mktemp("demo")) as running:
        yield running.url, running.key


def test_live_mode_passes_against_the_demo_without_the_app(demo: tuple[str, str], tmp_path: Path) -> None:
    url, key = demo
    run = subprocess.run(
        [sys.executable, "-c", CLIENT, url, key], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert outcome["gateway_modules"] == [], "live mode must not import the app or the database"
    assert all(outcome["cases"].get(op, 0) >= 20 for op in ("listAddresses", "createRepair", "cancelRepair"))
    # The demo prints one key, for every council: it has no key for --other-api-key.
    assert outcome["skipped"] == [["tenant isolation", "--other-api-key KEY"]], (
        "only the check needing --other-api-key may be skipped"
    )
    findings = [Finding(*f) for f in outcome["failures"]]
    assert not findings, "\n\n".join(f"{f.operation} [{f.part}] {f.check}: {f.message}" for f in findings)


def test_the_command_prints_a_report(demo: tuple[str, str]) -> None:
    url, key = demo
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "repairs_gateway.cli",
            "contract-test",
            "--base-url",
            url,
            "--api-key",
            key,
            "--council",
            "northfield",
            "--postcode",
            "NF1 1AA",
            "--other-council",
            "southmoor",
            "--other-postcode",
            "SM4 7XY",
            "--examples",
            "4",
            "--scenarios",
            "1",
            "--quiet",
            # The demo prints one key, for every council: nothing to give --other-api-key, so
            # that one check cannot run against it.
            "--allow-partial",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "10/10 operations covered" in run.stdout
    assert key not in run.stdout
    assert "\nPARTIAL: 0 distinct failure(s)" in run.stdout and "PASSED" not in run.stdout
    assert "To run every part, pass --other-api-key KEY." in run.stdout
