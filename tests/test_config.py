"""The councils file: every error names the council, the field and the reason."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, SecretStr

from repairs_gateway.config.loader import ConfigError, parse_config
from repairs_gateway.demo.data import demo_document
from repairs_gateway.ports import AdapterPlugin
from repairs_gateway.registry import discover_plugins


class SecretSettings(BaseModel):
    password: SecretStr
    endpoint: str = "http://127.0.0.1:1"


SECRET_PLUGIN = AdapterPlugin("needs-secret", frozenset({"scheduler"}), SecretSettings, lambda s, c: object())


def problems(document: dict[str, Any], environ: dict[str, str] | None = None) -> list[str]:
    plugins = {**discover_plugins(), "needs-secret": SECRET_PLUGIN}
    with pytest.raises(ConfigError) as caught:
        parse_config(document, plugins, environ or {})
    return caught.value.problems


def test_the_demo_file_is_valid() -> None:
    config = parse_config(demo_document(), discover_plugins(), {})
    assert sorted(config.councils) == ["northfield", "southmoor"]


def test_a_bad_field_names_the_council_and_the_field() -> None:
    document = demo_document()
    document["councils"][0]["days_per_page"] = 0
    document["councils"][1]["reference_prefix"] = "sm1"
    found = problems(document)
    assert any(p.startswith("council 'northfield': days_per_page:") for p in found), found
    assert any(p.startswith("council 'southmoor': reference_prefix:") for p in found), found


def test_adapter_settings_are_checked_against_the_adapters_model() -> None:
    document = demo_document()
    document["councils"][0]["schedulers"][0]["settings"]["lead_time_days"] = "soon"
    document["councils"][0]["addresses"]["adapter"] = "no-such-thing"
    found = problems(document)
    lead_time = "council 'northfield': schedulers[calendar].settings.lead_time_days:"
    assert any(p.startswith(lead_time) for p in found), found
    assert any("addresses.adapter: no adaptor 'no-such-thing' is installed" in p for p in found), found


def test_a_secret_written_in_the_file_is_refused_and_one_from_the_environment_is_used() -> None:
    document = demo_document()
    document["councils"][0]["schedulers"][0] = {
        "name": "drs",
        "adapter": "needs-secret",
        "trades": ["*"],
        "settings": {"password": "hunter2"},
    }
    found = problems(document)
    written = "schedulers[drs].settings.password: secrets must come from the environment"
    assert any(written in p for p in found)
    document["councils"][0]["schedulers"][0]["settings"]["password"] = {"from_env": "DRS_PASSWORD"}
    assert any("environment variable DRS_PASSWORD is not set" in p for p in problems(document))
    config = parse_config(
        document, {**discover_plugins(), "needs-secret": SECRET_PLUGIN}, {"DRS_PASSWORD": "s3cret"}
    )
    bound = config.councils["northfield"].schedulers[0][1]
    assert isinstance(bound.settings, SecretSettings)
    assert bound.settings.password.get_secret_value() == "s3cret"


def test_a_triage_tree_deeper_than_three_tiers_is_refused() -> None:
    document = demo_document()
    leaf = document["councils"][0]["triage"]["options"][0]["next"]["options"][0]["next"]["options"][0]
    job = leaf.pop("job")
    leaf["next"] = {"question": "Deeper?", "options": [{"id": "yes", "label": "Yes", "job": job}]}
    assert any("more than 3 tiers" in p for p in problems(document))


def test_an_option_with_both_a_job_and_an_exit_is_refused() -> None:
    document = demo_document()
    option = document["councils"][0]["triage"]["options"][0]["next"]["options"][1]
    option["exit"] = {"kind": "contact_us", "message": "Call us"}
    assert any("exactly one of next, job or exit" in p for p in problems(document))


def test_a_trade_routed_twice_and_a_shared_prefix_are_refused() -> None:
    document = demo_document()
    northfield = document["councils"][0]
    northfield["schedulers"].append({**northfield["schedulers"][0], "name": "second"})
    assert (
        "council 'northfield': schedulers[second].trades: '*' is routed to scheduler 'calendar' already"
        " (a trade goes to one)"
    ) in problems(document)
    northfield["schedulers"][1]["name"] = "calendar"
    assert "council 'northfield': scheduler names must be unique: calendar used more than once" in problems(
        document
    )
    document = demo_document()
    document["councils"][1]["reference_prefix"] = "NF"
    assert "council 'southmoor': reference_prefix: 'NF' is used by another council" in problems(document)
