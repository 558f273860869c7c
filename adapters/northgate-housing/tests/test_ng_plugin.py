"""The plugin as the gateway finds it, and the settings a council file gives it."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from repairs_gateway.ports import (
    AdapterContext,
    AddressSource,
    Closable,
    HazardSource,
    Priority,
    PropertyLookup,
    WorksOrderCanceller,
    WorksOrderSink,
    check_roles,
)

from ng_helpers import settings
from repairs_gateway_northgate_housing import PLUGIN, NorthgateSettings


async def test_the_plugin_builds_every_role_it_declares() -> None:
    assert PLUGIN.name == "northgate-housing"
    assert PLUGIN.roles == {"addresses", "works_orders"}
    built = PLUGIN.build(settings().model_dump(), AdapterContext("netherholme"))
    try:
        check_roles(PLUGIN, built)
        for role in (AddressSource, WorksOrderSink, WorksOrderCanceller, HazardSource, PropertyLookup, Closable):
            assert isinstance(built, role), role.__name__
    finally:
        await built.aclose()


def test_settings_take_priorities_by_name_or_number_and_keep_the_rest() -> None:
    chosen = settings(priorities={"emergency": "E", 5: "INS"}).priorities
    assert chosen[Priority.EMERGENCY] == "E"
    assert chosen[Priority.INSPECTION] == "INS"
    assert chosen[Priority.NORMAL] == "4"


def test_a_type_cannot_be_both_a_home_and_a_communal_area() -> None:
    with pytest.raises(ValidationError, match="both"):
        settings(dwelling_types=["HOUSE", "BLOCK"])


def test_the_secret_is_never_shown() -> None:
    assert "ng-sim-secret" not in repr(settings())
    with pytest.raises(ValidationError):
        NorthgateSettings.model_validate({"base_url": "http://x", "client_id": "a", "client_secret": "s", "extra": 1})


def test_the_token_endpoint_defaults_under_the_api() -> None:
    assert settings().token_endpoint() == "http://northgate.test/oauth/token"
    assert settings(token_url="https://login.example.org/token").token_endpoint() == "https://login.example.org/token"


def test_trade_sor_is_keyed_by_trade_with_star_for_every_other() -> None:
    # check-config reads "*" in a trade-keyed field as every other trade, so the adaptor must.
    assert NorthgateSettings.model_fields["trade_sor"].json_schema_extra == {"keyed_by": "trade"}
    chosen = settings(trade_sor={"plumbing": "20060020", "*": "99999999"})
    assert chosen.trade_sor_code("plumbing") == "20060020"
    assert chosen.trade_sor_code("roofing") == "99999999"
    assert settings(trade_sor={"plumbing": "20060020"}).trade_sor_code("roofing") is None
