"""A faithful simulator of Kirona DRS's Web Services Gateway (SOAP 1.1).

``DrsSimulator`` is the app and its state; ``simulate`` is the plugin's factory that the
``repairs-gateway simulate kirona-drs`` command calls.
"""

from .app import DrsSimulator, simulate
from .state import (
    DEFAULT_CATALOGUE,
    DEFAULT_PATTERN,
    DrsState,
    SimulatorConfig,
    SlotTemplate,
    SorDefinition,
)

__all__ = [
    "DEFAULT_CATALOGUE",
    "DEFAULT_PATTERN",
    "DrsSimulator",
    "DrsState",
    "SimulatorConfig",
    "SlotTemplate",
    "SorDefinition",
    "simulate",
]
