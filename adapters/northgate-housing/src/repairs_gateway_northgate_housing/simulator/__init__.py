"""A simulator of Northgate/NEC Housing's assumed REST/JSON API (see the README).

``NorthgateSimulator`` is the app and its state; ``simulate`` is the plugin's factory that
``repairs-gateway simulate northgate-housing`` calls.
"""

from .app import NorthgateSimulator, simulate
from .data import ELIGIBLE_BY_POSTCODE, PROPERTIES, SeedAlert, SeedProperty, SimulatorConfig
from .state import NorthgateState, SimError

__all__ = [
    "ELIGIBLE_BY_POSTCODE",
    "PROPERTIES",
    "NorthgateSimulator",
    "NorthgateState",
    "SeedAlert",
    "SeedProperty",
    "SimError",
    "SimulatorConfig",
    "simulate",
]
