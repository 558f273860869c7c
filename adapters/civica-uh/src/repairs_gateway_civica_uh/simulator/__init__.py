"""A simulator of Civica UH's UHWeb SOAP services: the property service as UH publishes
it and the repair service as this package assumes it.

``UhSimulator`` is the app and its state; ``simulate`` is the plugins' factory that
``repairs-gateway simulate civica-uh`` (and ``civica-uh-diary``) calls.
"""

from .app import UhSimulator, simulate
from .data import (
    DEFAULT_CATALOGUE,
    DEFAULT_PROPERTIES,
    Alert,
    AsbestosHazard,
    DiaryWindow,
    SimProperty,
    SimulatorConfig,
    SorItem,
)
from .state import UhError, UhState

__all__ = [
    "DEFAULT_CATALOGUE",
    "DEFAULT_PROPERTIES",
    "Alert",
    "AsbestosHazard",
    "DiaryWindow",
    "SimProperty",
    "SimulatorConfig",
    "SorItem",
    "UhError",
    "UhSimulator",
    "UhState",
    "simulate",
]
