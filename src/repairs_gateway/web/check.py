"""Check a repair: find it by reference and postcode, see its status and history, cancel
it or choose another time."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
