"""check-config proves routing: every job reaches a scheduler, every trade named is known,
every early exit says something, every adaptor's settings and secrets are checked (or
listed as not checked with --offline), and every problem names the council, the scheduler
or the triage path the file gives, all at once."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result
from pydantic import BaseModel, Field

from repairs_gateway.api.app import create_app
from repairs_gateway.cli import main
from repairs_gateway.config.loader import ConfigError, parse_config
from repairs_gateway.config.schema import MESSAGE_KINDS
from repairs_gateway.demo.data import council_from_template, demo_document
from repairs_gateway.demo.run import (
    DRS_PASSWORD_VARIABLE,
    DRS_SIMULATOR_PASSWORD,
    NORTHGATE_SECRET_VARIABLE,
    NORTHGATE_SIMULATOR_SECRET,
    NOTIFY_KEY_VARIABLE,
    NOTIFY_RECEIPT_VARIABLE,
    TOTALMOBILE_SECRET_VARIABLE,
    TOTALMOBILE_SIMULATOR_SECRET,
    UH_PASSWORD_VARIABLE,
    UH_SIMULATOR_PASSWORD,
    NotifyDemo,
    with_notify,
)
from repairs_gateway.ports import AdapterPlugin
from repairs_gateway.registry import discover_plugins
from repairs_gateway.settings import Settings

SIMULATOR = "http://127.0.0.1:9"  # never called: checking a file reaches no backend
DEMO_SECRETS = {
    DRS_PASSWORD_VARIABLE: DRS_SIMULATOR_PASSWORD,
    UH_PASSWORD_VARIABLE: UH_SIMULATOR_PASSWORD,
    NORTHGATE_SECRET_VARIABLE: NORTHGATE_SIMULATOR_SECRET,
    TOTALMOBILE_SECRET_VARIABLE: TOTALMOBILE_SIMULATOR_SECRET,
    NOTIFY_KEY_VARIABLE: f"demo-{uuid.uuid4()}-{uuid.uuid4()}",
    NOTIFY_RECEIPT_VARIABLE: "a-receipt-token-long-enough-to-be-a-secret",
}
# Every variable a check could read, unset unless a test sets it (CliRunner: None unsets).
NO_SECRETS: dict[str, str | None] = dict.fromkeys(DEMO_SECRETS)


class WorkTypes(BaseModel):
    """Settings of a scheduler with a mapping keyed by trade, as an adaptor would mark one."""

    work_types: dict[str, str] = Field(default_factory=dict, json_schema_extra={"keyed_by": "trade"})


WORK_TYPES = AdapterPlugin("work-types", frozenset({"scheduler"}), WorkTypes, lambda s, c: object())


def the_whole_demo() -> dict[str, Any]:
    """The councils the demo serves, as ``demo/run.py`` puts them together, on made-up URLs."""
    document = demo_document(SIMULATOR)
    document["councils"] += [
        council_from_template("larchford-council.yaml", uh=SIMULATOR, drs=SIMULATOR),
        council_from_template("netherholme-council.yaml", northgate=SIMULATOR, totalmobile=SIMULATOR),
    ]
    templates = {str(kind): {"sms": str(uuid.uuid4()), "email": str(uuid.uuid4())} for kind in MESSAGE_KINDS}
    return with_notify(document, NotifyDemo(SIMULATOR, "unused", templates, "unused"))


def council(document: dict[str, Any], council_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in document["councils"] if c["id"] == council_id)
    return found


def problems(document: dict[str, Any], environ: dict[str, str] | None = None, **options: Any) -> list[str]:
    plugins = {**discover_plugins(), "work-types": WORK_TYPES}
    with pytest.raises(ConfigError) as caught:
        parse_config(document, plugins, DEMO_SECRETS if environ is None else environ, **options)
    return caught.value.problems


def check(tmp_path: Path, document: dict[str, Any], *args: str, env: dict[str, str] | None = None) -> Result:
    file = tmp_path / "councils.yaml"
    file.write_text(yaml.safe_dump(document), encoding="utf-8")
    return CliRunner().invoke(main, ["check-config", str(file), *args], env={**NO_SECRETS, **(env or {})})


def test_the_whole_demo_passes_with_its_secrets(tmp_path: Path) -> None:
    config = parse_config(the_whole_demo(), discover_plugins(), DEMO_SECRETS)
    assert sorted(config.councils) == ["eastbrook", "larchford", "netherholme", "northfield", "southmoor"]
    passed = check(tmp_path, the_whole_demo(), env=DEMO_SECRETS)
    assert passed.exit_code == 0, passed.output
    assert "is valid: 5 council(s)" in passed.output


def test_a_triage_job_no_scheduler_takes_is_refused_naming_its_path() -> None:
    document = demo_document()
    northfield = council(document, "northfield")
    northfield["schedulers"][0]["trades"] = ["plumbing", "carpentry"]
    found = problems(document)
    assert found == [
        "council 'northfield': triage[bathroom/extractor].job.trade: no scheduler takes 'electrical' jobs "
        "(calendar takes plumbing, carpentry): add 'electrical' to a scheduler's trades, or route \"*\""
    ]


def test_an_sor_code_no_scheduler_takes_is_refused_naming_the_code() -> None:
    document = demo_document()
    northfield = council(document, "northfield")
    northfield["schedulers"][0]["trades"] = ["plumbing", "carpentry", "electrical"]
    northfield["sor_codes"]["20990010"] = {"trade": "roofing", "duration_minutes": 60}
    found = problems(document)
    assert len(found) == 1, found
    assert found[0].startswith(
        "council 'northfield': sor_codes[20990010].trade: no scheduler takes 'roofing'"
    )


def test_the_demo_is_refused_at_start_up_when_a_job_cannot_be_routed(tmp_path: Path) -> None:
    document = demo_document()
    council(document, "southmoor")["schedulers"][0]["trades"] = ["heating"]
    file = tmp_path / "councils.yaml"
    file.write_text(yaml.safe_dump(document), encoding="utf-8")
    settings = Settings(config_file=file, token_secret="s" * 48, database_url="sqlite+aiosqlite://")
    with pytest.raises(ConfigError) as caught:
        create_app(settings)
    assert any(
        "triage[door/hinge].job.trade: no scheduler takes 'carpentry'" in p for p in caught.value.problems
    )


def test_a_job_routed_to_a_calendar_that_could_never_offer_it_a_window_is_refused() -> None:
    document = demo_document()
    southmoor = council(document, "southmoor")
    southmoor["schedulers"][0]["settings"]["windows"] = [
        {"start": "08:00", "end": "12:00", "capacity": {"heating": 2, "carpentry": 0}},
        {"start": "12:00", "end": "14:00", "capacity": {"heating": 1}},
    ]
    southmoor["triage"]["options"][0]["next"]["options"][0]["job"]["duration_minutes"] = 300
    assert sorted(problems(document)) == [
        "council 'southmoor': triage[door/hinge].job: scheduler 'diary' could never offer a window for it: "
        "no window has capacity for 'carpentry' or \"*\"",
        "council 'southmoor': triage[heating/no-heat].job: scheduler 'diary' could never offer a window "
        "for it: it takes 300 minutes and its longest window for 'heating' is 240",
    ]


def test_a_capacity_for_a_misspelt_trade_is_refused_with_the_likely_trade(tmp_path: Path) -> None:
    document = demo_document()
    windows = council(document, "northfield")["schedulers"][0]["settings"]["windows"]
    windows[0]["capacity"] = {"plumbng": 2, "*": 1}
    failed = check(tmp_path, document)
    assert failed.exit_code == 1
    assert (
        "council 'northfield': schedulers[calendar].settings.windows[#1].capacity.plumbng: "
        "'plumbng' is not a trade of any job or scheduler of this council "
        "(its trades: carpentry, electrical, plumbing); did you mean 'plumbing'?"
    ) in failed.output


def test_a_trade_keyed_setting_names_known_trades_of_its_own_scheduler() -> None:
    document = demo_document()
    northfield = council(document, "northfield")
    for window in northfield["schedulers"][0]["settings"]["windows"][:2]:
        del window["capacity"]["electrical"]  # electrical jobs now go to sparks
    northfield["schedulers"].append(
        {
            "name": "sparks",
            "adapter": "work-types",
            "trades": ["electrical"],
            "settings": {"work_types": {"electrical": "ELEC", "carpentry": "JOIN", "electric": "E"}},
        }
    )
    found = problems(document)
    assert sorted(found) == [
        "council 'northfield': schedulers[sparks].settings.work_types.carpentry: "
        "'carpentry' jobs go to scheduler 'calendar', so this is never used",
        "council 'northfield': schedulers[sparks].settings.work_types.electric: "
        "'electric' is not a trade of any job or scheduler of this council "
        "(its trades: carpentry, electrical, plumbing); did you mean 'electrical'?",
    ]


def netherholme() -> dict[str, Any]:
    """The demo's Northgate + Totalmobile council, on made-up URLs."""
    return council_from_template("netherholme-council.yaml", northgate=SIMULATOR, totalmobile=SIMULATOR)


def test_a_drs_trade_sor_for_a_misspelt_trade_is_refused_with_the_likely_trade(tmp_path: Path) -> None:
    document = demo_document(SIMULATOR)
    council(document, "eastbrook")["schedulers"][0]["settings"]["trade_sor"] = {
        "plumbin": "20060040",
        "electrical": "20300050",
    }
    failed = check(tmp_path, document, env=DEMO_SECRETS)
    assert failed.exit_code == 1
    reported = [line.strip() for line in failed.output.splitlines() if line.startswith("  council ")]
    assert reported == [
        "council 'eastbrook': schedulers[drs].settings.trade_sor.plumbin: "
        "'plumbin' is not a trade of any job or scheduler of this council "
        "(its trades: electrical, plumbing); did you mean 'plumbing'?"
    ]


def test_totalmobile_work_types_and_skills_for_misspelt_trades_are_refused() -> None:
    totalmobile = netherholme()
    totalmobile["schedulers"][0]["settings"] |= {
        "work_types": {"plumbing": "RESPONSIVE-PLUMB", "electrcal": "RESPONSIVE-ELEC"},
        "skills": {"plumbng": ["PLUMBER"], "*": ["GENERAL"]},
    }
    assert problems({"councils": [totalmobile]}) == [
        "council 'netherholme': schedulers[totalmobile].settings.work_types.electrcal: "
        "'electrcal' is not a trade of any job or scheduler of this council "
        "(its trades: electrical, plumbing); did you mean 'electrical'?",
        "council 'netherholme': schedulers[totalmobile].settings.skills.plumbng: "
        "'plumbng' is not a trade of any job or scheduler of this council "
        "(its trades: electrical, plumbing); did you mean 'plumbing'?",
    ]


def test_a_northgate_trade_sor_for_a_misspelt_trade_is_refused_in_each_role() -> None:
    northgate = netherholme()
    northgate["addresses"]["settings"]["trade_sor"] = {"plumbin": "20060040"}
    northgate["works_orders"]["settings"]["trade_sor"] = {"plumbing": "20060040", "electric": "20300050"}
    assert problems({"councils": [northgate]}) == [
        "council 'netherholme': addresses.settings.trade_sor.plumbin: "
        "'plumbin' is not a trade of any job or scheduler of this council "
        "(its trades: electrical, plumbing); did you mean 'plumbing'?",
        "council 'netherholme': works_orders.settings.trade_sor.electric: "
        "'electric' is not a trade of any job or scheduler of this council "
        "(its trades: electrical, plumbing); did you mean 'electrical'?",
    ]


SPARKS = {
    "name": "sparks",
    "adapter": "builtin-calendar",
    "trades": ["electrical"],
    "settings": {"windows": [{"start": "08:00", "end": "12:00", "capacity": {"electrical": 1}}]},
}


@pytest.mark.parametrize(
    ("council_id", "scheduler", "field"),
    [("eastbrook", "drs", "trade_sor"), ("netherholme", "totalmobile", "work_types")],
)
def test_a_scheduler_mapping_a_trade_routed_to_another_scheduler_is_refused(
    council_id: str, scheduler: str, field: str
) -> None:
    # check-config routes by each scheduler's trades, never by its trade-keyed settings: an
    # entry for a trade whose jobs go elsewhere is never used, and said so.
    document = {
        "councils": [
            netherholme() if council_id == "netherholme" else council(demo_document(SIMULATOR), council_id)
        ]
    }
    chosen = document["councils"][0]
    chosen["schedulers"][0]["trades"] = ["plumbing"]
    chosen["schedulers"][0]["settings"][field] = {"plumbing": "P", "electrical": "E"}
    chosen["schedulers"].append(SPARKS)
    assert problems(document) == [
        f"council {council_id!r}: schedulers[{scheduler}].settings.{field}.electrical: "
        "'electrical' jobs go to scheduler 'sparks', so this is never used"
    ]
    # "*" is every other trade: never refused, whatever the scheduler takes.
    chosen["schedulers"][0]["settings"][field] = {"plumbing": "P", "*": "ANY"}
    assert parse_config(document, discover_plugins(), DEMO_SECRETS).councils


@pytest.mark.parametrize("message", [None, "   "])
def test_an_early_exit_without_a_message_is_refused_naming_its_path(message: str | None) -> None:
    document = demo_document()
    gas = council(document, "northfield")["triage"]["options"][0]["next"]["options"][2]
    assert gas["id"] == "gas"
    gas["exit"] = {"kind": "emergency"} if message is None else {"kind": "emergency", "message": message}
    assert problems(document) == [
        "council 'northfield': triage[kitchen/gas].exit.message: "
        "an early exit needs a message telling the resident what to do instead"
    ]


def test_bad_adaptor_settings_are_named_by_scheduler_and_field(tmp_path: Path) -> None:
    document = demo_document(SIMULATOR)
    council(document, "eastbrook")["schedulers"][0]["settings"]["endpoint"] = "not a url"
    council(document, "northfield")["schedulers"][0]["settings"]["windows"][1]["capacity"] = {"*": -1}
    failed = check(tmp_path, document, env=DEMO_SECRETS)
    assert failed.exit_code == 1
    lines = failed.output.splitlines()
    assert any(
        line.startswith("  council 'eastbrook': schedulers[drs].settings.endpoint: ") for line in lines
    )
    assert (
        "  council 'northfield': schedulers[calendar].settings.windows[#2]: capacity cannot be negative"
        in lines
    )


def test_a_secret_not_in_the_environment_is_named_with_its_variable(tmp_path: Path) -> None:
    failed = check(tmp_path, demo_document(SIMULATOR))
    assert failed.exit_code == 1
    assert (
        f"council 'eastbrook': schedulers[drs].settings.password: environment variable "
        f"{DRS_PASSWORD_VARIABLE} is not set"
    ) in failed.output
    assert check(tmp_path, demo_document(SIMULATOR), env=DEMO_SECRETS).exit_code == 0


def test_a_secret_at_fault_does_not_hide_the_adaptors_other_problems(tmp_path: Path) -> None:
    for secret in (None, "the-password-itself"):  # a variable not set; a value written in the file
        document = demo_document(SIMULATOR)
        settings = council(document, "eastbrook")["schedulers"][0]["settings"]
        if secret is not None:
            settings["password"] = secret
        settings["endpoint"] = "not a url"
        settings["trade_sor"] = {"plumbing": "20060040", "electrcal": "20300050"}
        failed = check(tmp_path, document)
        assert failed.exit_code == 1
        lines = [line.strip() for line in failed.output.splitlines()]
        for field in ("password", "endpoint"):
            where = f"council 'eastbrook': schedulers[drs].settings.{field}: "
            assert any(line.startswith(where) for line in lines), failed.output
        settings["endpoint"] = SIMULATOR
        failed = check(tmp_path, document)
        assert (
            "council 'eastbrook': schedulers[drs].settings.trade_sor.electrcal: 'electrcal' is not a trade"
            in failed.output
        ), failed.output


def test_offline_checks_all_but_the_secrets_and_says_which_it_did_not(tmp_path: Path) -> None:
    passed = check(tmp_path, the_whole_demo(), "--offline")
    assert passed.exit_code == 0, passed.output
    assert "is valid: 5 council(s)" in passed.output
    assert "Not checked (--offline):" in passed.output
    assert (
        f"council 'eastbrook': schedulers[drs].settings.password: whether {DRS_PASSWORD_VARIABLE} is set"
        in passed.output
    )
    # A Notify key must have Notify's shape; offline, the key is not read, so not judged.
    assert f"notifications.settings.api_key: whether {NOTIFY_KEY_VARIABLE} is set" in passed.output
    document = the_whole_demo()
    council(document, "eastbrook")["schedulers"][0]["trades"] = ["plumbing"]
    failed = check(tmp_path, document, "--offline")
    assert failed.exit_code == 1
    assert "council 'eastbrook': triage[bathroom/extractor].job.trade: no scheduler takes" in failed.output
    assert "is not set" not in failed.output


def test_every_problem_in_every_council_is_reported_at_once(tmp_path: Path) -> None:
    document = demo_document(SIMULATOR)
    northfield = council(document, "northfield")
    northfield["schedulers"][0]["trades"] = ["plumbing"]
    northfield["schedulers"][0]["settings"]["windows"][2]["capacity"] = {"joinery": 1}
    council(document, "eastbrook")["triage"]["options"][2]["exit"]["message"] = ""
    failed = check(tmp_path, document)
    assert failed.exit_code == 1
    reported = [line.strip() for line in failed.output.splitlines() if line.startswith("  council ")]
    assert sorted(reported) == sorted(
        [
            "council 'eastbrook': triage[gas].exit.message: "
            "an early exit needs a message telling the resident what to do instead",
            # No secrets in this run's environment: the council's own error does not hide that.
            f"council 'eastbrook': schedulers[drs].settings.password: environment variable "
            f"{DRS_PASSWORD_VARIABLE} is not set",
            "council 'northfield': triage[kitchen/cupboard].job.trade: no scheduler takes 'carpentry' "
            "jobs (calendar takes plumbing): add 'carpentry' to a scheduler's trades, or route \"*\"",
            "council 'northfield': triage[bathroom/extractor].job.trade: no scheduler takes 'electrical' "
            "jobs (calendar takes plumbing): add 'electrical' to a scheduler's trades, or route \"*\"",
            "council 'northfield': schedulers[calendar].settings.windows[#3].capacity.joinery: "
            "'joinery' is not a trade of any job or scheduler of this council "
            "(its trades: carpentry, electrical, plumbing)",
        ]
    )


def test_triage_errors_name_the_option_path_not_its_position() -> None:
    document = demo_document()
    blocked = council(document, "southmoor")["triage"]["options"][0]["next"]["options"][1]
    blocked["job"]["duration_minutes"] = 5
    found = problems(document)
    assert len(found) == 1
    assert found[0].startswith("council 'southmoor': triage[heating/radiator].job.duration_minutes: ")


ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted(ROOT.glob("adapters/*/examples/*.yaml"))


def variables_in(node: Any) -> set[str]:
    """The environment variables a councils document takes secrets from."""
    if isinstance(node, dict):
        if set(node) == {"from_env"}:
            return {str(node["from_env"])}
        return set().union(*(variables_in(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(variables_in(item) for item in node))
    return set()


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.parent.parent.name)
def test_every_example_councils_file_passes(example: Path) -> None:
    document = yaml.safe_load(example.read_text(encoding="utf-8"))
    environ = dict.fromkeys(variables_in(document), "example-secret")
    assert parse_config(document, discover_plugins(), environ).councils


def test_the_readmes_councils_file_passes_offline(tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b.split("```", 1)[0] for b in readme.split("```yaml\n")[1:]]
    files = [b for b in blocks if b.startswith("councils:")]
    assert files, "the README shows no councils file"
    for block in files:
        passed = check(tmp_path, yaml.safe_load(block), "--offline")
        assert passed.exit_code == 0, passed.output


def test_no_file_named_and_no_default_there_says_so_and_how_to_name_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    unset: dict[str, str | None] = {"REPAIRS_GATEWAY_CONFIG_FILE": None}
    refused = CliRunner().invoke(main, ["check-config"], env=unset)
    assert refused.exit_code == 1
    assert "none was given, and the default, councils.yaml in the current directory" in refused.output
    assert "REPAIRS_GATEWAY_CONFIG_FILE" in refused.output and "check-config FILE" in refused.output
    # A file named, or the variable set, is read and its own problems are reported.
    named = CliRunner().invoke(main, ["check-config", "elsewhere.yaml"], env=unset)
    assert "elsewhere.yaml: cannot read" in named.output and "none was given" not in named.output
    by_variable = CliRunner().invoke(main, ["check-config"], env={"REPAIRS_GATEWAY_CONFIG_FILE": "set.yaml"})
    assert "set.yaml: cannot read" in by_variable.output and "none was given" not in by_variable.output
    # The default, where it exists, is read as before.
    (tmp_path / "councils.yaml").write_text(yaml.safe_dump(the_whole_demo()), encoding="utf-8")
    found = CliRunner().invoke(main, ["check-config"], env={**unset, **DEMO_SECRETS})
    assert found.exit_code == 0, found.output


def test_a_council_whose_own_fields_fail_still_has_its_adaptors_checked(tmp_path: Path) -> None:
    """One run lists every problem: an early exit without its message no longer hides a
    secret not set and an adaptor setting at fault in the same council."""
    document = demo_document(SIMULATOR)
    eastbrook = council(document, "eastbrook")
    sink = eastbrook["triage"]["options"][0]["next"]["options"][0]
    del sink["job"]
    sink["exit"] = {"kind": "emergency"}  # and no message
    eastbrook["schedulers"][0]["settings"]["endpoint"] = "not a url"
    failed = check(tmp_path, document)
    assert failed.exit_code == 1
    lines = [line.strip() for line in failed.output.splitlines()]
    expected = ("triage", "schedulers[drs].settings.password: ", "schedulers[drs].settings.endpoint: ")
    for start in expected:
        assert any(line.startswith(f"council 'eastbrook': {start}") for line in lines), (start, failed.output)
    # With the secret set and the endpoint mended, the council's own field is all that is left.
    eastbrook["schedulers"][0]["settings"]["endpoint"] = SIMULATOR
    left = check(tmp_path, document, env=DEMO_SECRETS)
    assert [line for line in left.output.splitlines() if line.startswith("  council")] == [
        line for line in left.output.splitlines() if line.startswith("  council 'eastbrook': triage")
    ]
