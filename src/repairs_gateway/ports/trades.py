"""Settings keyed by trade: the mark check-config reads, and the ``"*"`` key's meaning.

An adaptor marks a settings field whose keys are trade names with
``Field(json_schema_extra=TRADE_KEYED)``; check-config then refuses a key that is none of the
council's trades. ``"*"`` (``ANY_TRADE``) is every trade the mapping does not name, for the
gateway's routes and for an adaptor's settings alike, so both read it with ``for_trade``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from pydantic.config import JsonDict

ANY_TRADE = "*"
TRADE_KEYED: JsonDict = {"keyed_by": "trade"}
"""The ``json_schema_extra`` of a settings field whose keys are trade names."""

V = TypeVar("V")


def for_trade(mapping: Mapping[str, V], trade: str) -> V | None:
    """``trade``'s entry in a trade-keyed mapping, else its ``"*"`` entry, else None."""
    return mapping.get(trade, mapping.get(ANY_TRADE))
