"""Totalmobile scheduler adaptor for repairs-gateway, and a simulator of Totalmobile."""

from .plugin import PLUGIN
from .scheduler import TotalmobileScheduler
from .settings import TotalmobileSettings

__all__ = ["PLUGIN", "TotalmobileScheduler", "TotalmobileSettings"]
