"""Kirona DRS scheduler adaptor for repairs-gateway, and a simulator of DRS."""

from .plugin import PLUGIN
from .scheduler import DrsScheduler
from .settings import DrsSettings

__all__ = ["PLUGIN", "DrsScheduler", "DrsSettings"]
