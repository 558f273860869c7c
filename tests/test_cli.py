"""The repairs-gateway command: check-config, db upgrade, clients create, addresses import."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from repairs_gateway.cli import main
from repairs_gateway.demo.data import demo_config_path, demo_document


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("REPAIRS_GATEWAY_DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("REPAIRS_GATEWAY_CONFIG_FILE", str(demo_config_path()))
    return tmp_path


def test_check_config_accepts_the_demo_and_names_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["check-config", str(demo_config_path())])
    assert ok.exit_code == 0
    assert "2 council(s): northfield, southmoor" in ok.output
    document = demo_document()
    document["councils"][0]["timezone"] = "Mars/Olympus"
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(document))
    failed = runner.invoke(main, ["check-config", str(bad)])
    assert failed.exit_code == 1
    assert "council 'northfield': timezone: 'Mars/Olympus' is not an IANA time zone" in failed.output


def test_clients_create_prints_a_key_once_for_known_councils(env: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["db", "upgrade"]).exit_code == 0
    created = runner.invoke(main, ["clients", "create", "--council", "northfield", "--name", "web"])
    assert created.exit_code == 0, created.output
    assert created.output.startswith("API key: rgk_")
    unknown = runner.invoke(main, ["clients", "create", "--council", "atlantis", "--name", "web"])
    assert unknown.exit_code == 1
    assert "--council: no such council" in unknown.output


def test_addresses_import_keeps_good_rows_and_names_bad_lines(env: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade"])
    good = env / "good.csv"
    good.write_text(
        "uprn,address_line_1,postcode,kind\n1001,1 High St,ab1 2cd,dwelling\n1002,2 High St,AB1 2CD,\n"
    )
    imported = runner.invoke(main, ["addresses", "import", str(good), "--council", "northfield"])
    assert imported.exit_code == 0
    assert "imported 2 address(es)" in imported.output
    bad = env / "bad.csv"
    bad.write_text(
        "uprn,address_line_1,postcode,kind\n1003,3 High St,AB1 2CD,dwelling\n12x,4 High St,nowhere,shed\n"
    )
    partial = runner.invoke(main, ["addresses", "import", str(bad), "--council", "northfield"])
    # Not 0, so a scheduled import that dropped rows is noticed; not 1, as rows were imported.
    assert partial.exit_code == 3
    assert "imported 1 address(es)" in partial.output
    assert "rejected 1 row(s)" in partial.output
    assert "line 3: uprn: '12x' is not 1 to 12 digits" in partial.output
    assert "line 3: postcode:" in partial.output
    assert "line 3: kind: 'shed'" in partial.output
    headless = env / "headless.csv"
    headless.write_text("id,street\n1004,4 High St\n")
    refused = runner.invoke(main, ["addresses", "import", str(headless), "--council", "northfield"])
    assert refused.exit_code == 1
    assert "nothing imported" in refused.output
    assert "missing column(s) address_line_1, postcode, uprn" in refused.output
    import sqlite3

    rows = sqlite3.connect(env / "cli.db").execute("SELECT uprn, postcode FROM register_addresses").fetchall()
    assert sorted(rows) == [("1001", "AB1 2CD"), ("1002", "AB1 2CD"), ("1003", "AB1 2CD")]


def test_simulate_names_the_simulators_installed(env: Path) -> None:
    result = CliRunner().invoke(main, ["simulate", "no-such-backend"])
    assert result.exit_code == 1
    assert "no simulator for 'no-such-backend'" in result.output


def test_addresses_import_refuses_a_council_the_councils_file_does_not_have(env: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["db", "upgrade"])
    good = env / "good.csv"
    good.write_text("uprn,address_line_1,postcode,kind\n1001,1 High St,AB1 2CD,dwelling\n")
    refused = runner.invoke(main, ["addresses", "import", str(good), "--council", "nowhere"])
    assert refused.exit_code == 1
    assert "--council: no such council" in refused.output
    import sqlite3

    stored = sqlite3.connect(env / "cli.db").execute("SELECT count(*) FROM register_addresses")
    assert stored.fetchone() == (0,)


@pytest.mark.parametrize(
    "command",
    [
        ["clients", "list"],
        ["clients", "create", "--council", "northfield", "--name", "web"],
        ["repairs", "list", "--council", "northfield"],
        ["jobs", "list"],
        ["addresses", "import", "{csv}", "--council", "northfield"],
    ],
)
def test_a_database_never_upgraded_is_named_with_what_to_run_not_an_sql_trace(
    env: Path, command: list[str]
) -> None:
    csv = env / "good.csv"
    csv.write_text("uprn,address_line_1,postcode,kind\n1001,1 High St,AB1 2CD,dwelling\n")
    answer = CliRunner().invoke(main, [part.format(csv=csv) for part in command])
    assert answer.exit_code == 1
    assert "the database has no tables yet. Run `repairs-gateway db upgrade` first." in answer.output
    assert "Traceback" not in answer.output and "sqlite3" not in answer.output
