"""Civica Universal Housing adaptors for repairs-gateway, over the UHWeb SOAP services:
``UhHousing`` (plugin ``civica-uh``) and ``UhDiary`` (plugin ``civica-uh-diary``)."""

from .diary import UhDiary
from .housing import UhHousing
from .settings import UhConnection, UhDiarySettings, UhHousingSettings

__all__ = ["UhConnection", "UhDiary", "UhDiarySettings", "UhHousing", "UhHousingSettings"]
