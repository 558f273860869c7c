"""Northgate/NEC Housing adaptor for repairs-gateway, and a simulator of its assumed API."""

from .adapter import NorthgateHousing
from .plugin import PLUGIN
from .settings import NorthgateSettings

__all__ = ["PLUGIN", "NorthgateHousing", "NorthgateSettings"]
