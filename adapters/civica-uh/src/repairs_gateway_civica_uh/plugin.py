"""The entry points the gateway discovers: ``repairs_gateway.adapters`` -> ``civica-uh``
(properties, works orders, hazards) and ``civica-uh-diary`` (UH's appointment diary)."""

from __future__ import annotations

from typing import Any

from repairs_gateway.ports import AdapterContext, AdapterPlugin

from .diary import UhDiary
from .housing import UhHousing
from .settings import UhDiarySettings, UhHousingSettings
from .simulator import simulate


def build_housing(settings: Any, context: AdapterContext) -> UhHousing:
    """Build the properties and works-orders adaptor for one council."""
    if not isinstance(settings, UhHousingSettings):
        settings = UhHousingSettings.model_validate(settings)
    return UhHousing(settings, context)


def build_diary(settings: Any, context: AdapterContext) -> UhDiary:
    """Build the diary scheduler for one council."""
    if not isinstance(settings, UhDiarySettings):
        settings = UhDiarySettings.model_validate(settings)
    return UhDiary(settings, context)


HOUSING_PLUGIN = AdapterPlugin(
    name="civica-uh",
    roles=frozenset({"addresses", "works_orders"}),
    settings=UhHousingSettings,
    build=build_housing,
    simulator=simulate,
    description=(
        "Civica Universal Housing over UHWeb: eligible properties, hazards, works orders."
    ),
)

DIARY_PLUGIN = AdapterPlugin(
    name="civica-uh-diary",
    roles=frozenset({"scheduler"}),
    settings=UhDiarySettings,
    build=build_diary,
    simulator=simulate,
    description="Civica Universal Housing's own appointment diary (books UH works orders).",
)
