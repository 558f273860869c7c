"""The package as the gateway sees it: entry point, settings, simulator factory."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import httpx
import pytest
from pydantic import ValidationError
from repairs_gateway.config.loader import parse_config
from repairs_gateway.demo.contract_target import builtin_environment
from repairs_gateway.ports import (
    ENTRY_POINT_GROUP,
    AdapterContext,
    AdapterPlugin,
    Closable,
    Priority,
    Scheduler,
    SimulatorOptions,
)

from drs_helpers import PATH
from repairs_gateway_kirona_drs import PLUGIN, DrsSettings
from repairs_gateway_kirona_drs.contract import PASSWORD_VARIABLE, drs_councils

COUNCIL_SETTINGS: dict[str, Any] = {
    # As the gateway hands them over once {from_env: DRS_PASSWORD} is resolved.
    "endpoint": "https://drs.northfield.gov.uk/OTWebServiceGateway_LIVE/ws/soap",
    "login": "repairs-gateway",
    "password": "from-the-environment",
    "contract": "RESPONSIVE",
}


def test_the_entry_point_names_the_plugin() -> None:
    (found,) = [e for e in entry_points(group=ENTRY_POINT_GROUP) if e.name == "kirona-drs"]
    plugin = found.load()
    assert isinstance(plugin, AdapterPlugin)
    assert plugin is PLUGIN
    assert plugin.roles == frozenset({"scheduler"})
    assert plugin.settings is DrsSettings
    assert plugin.simulator is not None


async def test_build_makes_a_scheduler_from_council_settings() -> None:
    settings = DrsSettings.model_validate(COUNCIL_SETTINGS)
    scheduler = PLUGIN.build(settings, AdapterContext("northfield"))
    assert isinstance(scheduler, Scheduler)
    assert isinstance(scheduler, Closable)
    await scheduler.aclose()


def test_settings_defaults_and_secret() -> None:
    settings = DrsSettings.model_validate(COUNCIL_SETTINGS)
    assert settings.window_days == 7
    assert settings.priorities[Priority.NORMAL] == "N"
    assert "from-the-environment" not in repr(settings)


def test_priorities_can_be_given_by_number_or_name_and_keep_defaults() -> None:
    settings = DrsSettings.model_validate(
        {**COUNCIL_SETTINGS, "priorities": {"2": "E24", "urgent": "U7", 4: "N28"}}
    )
    assert settings.priorities[Priority.EMERGENCY] == "E24"
    assert settings.priorities[Priority.URGENT] == "U7"
    assert settings.priorities[Priority.NORMAL] == "N28"
    assert settings.priorities[Priority.IMMEDIATE] == "I"


@pytest.mark.parametrize(
    "change",
    [
        {"window_days": 15},
        {"window_days": 0},
        {"priorities": {"9": "X"}},
        {"priorities": {"normal": " "}},
        {"endpoint": "not a url"},
        {"contract": ""},
        {"surprise": True},
    ],
)
def test_settings_refuse_what_cannot_work(change: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        DrsSettings.model_validate({**COUNCIL_SETTINGS, **change})


async def test_the_simulator_factory_serves_drs_and_describes_itself() -> None:
    assert PLUGIN.simulator is not None
    backend = PLUGIN.simulator(SimulatorOptions(latency_ms=1, fail_rate=0.0, seed=1))
    text = backend.describe("http://127.0.0.1:8081")
    assert "http://127.0.0.1:8081/OTWebServiceGateway_SIM/ws/soap" in text
    assert "login:" in text and "password:" in text
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=backend.app), base_url="http://127.0.0.1:8081"
    ) as http:
        response = await http.get(PATH + "?wsdl")
    assert response.status_code == 200
    assert b"http://127.0.0.1:8081/OTWebServiceGateway_SIM/ws/soap" in response.content


def test_trade_sor_is_keyed_by_trade_with_star_for_every_other() -> None:
    # check-config reads "*" in a trade-keyed field as every other trade, so the adaptor must.
    assert DrsSettings.model_fields["trade_sor"].json_schema_extra == {"keyed_by": "trade"}
    settings = DrsSettings.model_validate(
        {**COUNCIL_SETTINGS, "trade_sor": {"plumbing": "20060040", "*": "N1"}}
    )
    assert settings.trade_sor_code("plumbing") == "20060040"
    assert settings.trade_sor_code("roofing") == "N1"
    assert DrsSettings.model_validate(COUNCIL_SETTINGS).trade_sor_code("roofing") is None


def test_the_contract_targets_councils_pass_check_config() -> None:
    # trade_sor is checked against each council's trades: the target gives each only its own.
    document = drs_councils(dict(builtin_environment().councils), COUNCIL_SETTINGS["endpoint"])
    config = parse_config(document, environ={PASSWORD_VARIABLE: "from-the-environment"})
    assert sorted(config.councils) == ["northfield", "southmoor"]
