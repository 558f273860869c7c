"""The package as the gateway sees it: entry point, settings, and a council file naming it."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import pytest
from pydantic import ValidationError
from repairs_gateway.ports import (
    ENTRY_POINT_GROUP,
    AdapterContext,
    AdapterPlugin,
    Closable,
    Scheduler,
    check_roles,
)

from repairs_gateway_totalmobile import PLUGIN, TotalmobileSettings

COUNCIL_SETTINGS: dict[str, Any] = {
    # As the gateway hands them over once {from_env: TOTALMOBILE_CLIENT_SECRET} is resolved.
    "base_url": "https://northfield.totalmobile.example",
    "instance": "northfield-live",
    "world_id": "RESPONSIVE",
    "client_id": "repairs-gateway",
    "client_secret": "from-the-environment",
}


def test_the_entry_point_names_the_plugin() -> None:
    (found,) = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == "totalmobile"]
    plugin = found.load()
    assert isinstance(plugin, AdapterPlugin)
    assert plugin is PLUGIN
    assert plugin.roles == frozenset({"scheduler"})
    assert plugin.settings is TotalmobileSettings
    assert plugin.simulator is not None


async def test_build_makes_a_closable_scheduler_from_council_settings() -> None:
    scheduler = PLUGIN.build(COUNCIL_SETTINGS, AdapterContext("northfield"))
    check_roles(PLUGIN, scheduler)
    assert isinstance(scheduler, Scheduler) and isinstance(scheduler, Closable)
    await scheduler.aclose()


def test_urls_defaults_and_the_secret_kept_out_of_sight() -> None:
    settings = TotalmobileSettings.model_validate(COUNCIL_SETTINGS)
    root = "https://northfield.totalmobile.example/northfield-live"
    assert settings.token_url() == f"{root}/identity/connect/token"
    assert settings.jobs_url() == f"{root}/api/optimise/worlds/RESPONSIVE/jobs"
    assert settings.scope == "optimiseApi"
    assert set(settings.bands()) == {"AM", "PM", "AD"}
    assert settings.skills_for("plumbing") == ["plumbing"]
    assert "from-the-environment" not in repr(settings)


@pytest.mark.parametrize(
    "change",
    [
        {"time_bands": {"AM": "12:00-08:00"}},
        {"time_bands": {"AM": "morning"}},
        {"time_bands": {}},
        {"offer_days": 0},
        {"world_id": "a/b"},
        {"colour": "red"},
    ],
)
def test_settings_that_cannot_work_are_refused(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        TotalmobileSettings.model_validate({**COUNCIL_SETTINGS, **change})


def test_work_types_and_skills_are_keyed_by_trade_with_star_for_every_other() -> None:
    # check-config reads "*" in a trade-keyed field as every other trade, so the adaptor must.
    for field in ("work_types", "skills"):
        assert TotalmobileSettings.model_fields[field].json_schema_extra == {"keyed_by": "trade"}
    settings = TotalmobileSettings.model_validate(
        {
            **COUNCIL_SETTINGS,
            "work_types": {"plumbing": "RESP-PLUMB", "*": "RESPONSIVE"},
            "skills": {"plumbing": ["PLUMBER"], "*": ["MULTI"]},
        }
    )
    assert (settings.work_type("plumbing"), settings.skills_for("plumbing")) == (
        "RESP-PLUMB",
        ["PLUMBER"],
    )
    assert (settings.work_type("roofing"), settings.skills_for("roofing")) == (
        "RESPONSIVE",
        ["MULTI"],
    )
    plain = TotalmobileSettings.model_validate(COUNCIL_SETTINGS)
    assert (plain.work_type("roofing"), plain.skills_for("roofing")) == ("roofing", ["roofing"])
