"""A simulator of Totalmobile: its OAuth 2 token endpoint, the world-scoped jobs API, and
the appointment-offer calls this package assumes (see the README).

``TotalmobileSimulator`` is the app and its ``world``; ``simulate`` is the plugin's factory
that ``repairs-gateway simulate totalmobile`` calls.
"""

from .app import TotalmobileSimulator, simulate
from .config import DEFAULT_SKILLS, SimulatorConfig
from .world import ApiError, World

__all__ = [
    "DEFAULT_SKILLS",
    "ApiError",
    "SimulatorConfig",
    "TotalmobileSimulator",
    "World",
    "simulate",
]
