"""Live mode against a running `repairs-gateway demo`, as a supplier would run it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from repairs_gateway.contract.report import Finding

from demo_process import RunningDemo, running_demo

# One worker under pytest-xdist, so that the module's demo process is started once.
pytestmark = pytest.mark.xdist_group("live-demo")

CLIENT = """
import json, sys
from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.contract.runner import RunOptions, run_contract
endpoint = Endpoint(
    sys.argv[1], sys.argv[2], "northfield", "southmoor", other_api_key=sys.argv[3],
    postcodes=("NF1 1AA",), other_postcodes=("SM4 7XY",), staff_api_key=sys.argv[4],
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
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningDemo]:
    """A running demo: its URL and the API keys it printed."""
    with running_demo(tmp_path_factory.mktemp("demo")) as running:
        yield running


def test_live_mode_passes_against_the_demo_without_the_app(demo: RunningDemo, tmp_path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-c", CLIENT, demo.url, demo.key, demo.other_key, demo.staff_key],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert run.returncode == 0, run.stderr
    outcome = json.loads(run.stdout.strip().splitlines()[-1])
    assert outcome["gateway_modules"] == [], "live mode must not import the app or the database"
    assert all(outcome["cases"].get(op, 0) >= 20 for op in ("listAddresses", "createRepair", "cancelRepair"))
    # With the demo's three keys every part runs.
    assert outcome["skipped"] == [], "every part runs against the demo"
    findings = [Finding(*f) for f in outcome["failures"]]
    assert not findings, "\n\n".join(f"{f.operation} [{f.part}] {f.check}: {f.message}" for f in findings)


def test_the_command_prints_a_report(demo: RunningDemo) -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "repairs_gateway.cli",
            "contract-test",
            "--base-url",
            demo.url,
            "--api-key",
            demo.key,
            "--other-api-key",
            demo.other_key,
            "--staff-api-key",
            demo.staff_key,
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
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "10/10 operations covered" in run.stdout
    for key in (demo.key, demo.other_key, demo.staff_key):
        assert key not in run.stdout
    assert "\nPASSED: 0 distinct failure(s)" in run.stdout, run.stdout
