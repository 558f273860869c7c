"""Report a repair: postcode, address, the council's questions, description, a time,
contact details, check your answers, sending, and a repeat of an open repair or the
confirmation. One module per part of the journey; ``router`` holds them all, in order."""

from __future__ import annotations

from fastapi import APIRouter

from repairs_gateway.web.report import (
    address,
    appointments,
    check_answers,
    confirmation,
    contact,
    description,
    duplicate,
    sending,
    triage,
)

# The journey's parts in its order, each a module with its own ``router``.
PARTS = (
    address,
    triage,
    description,
    appointments,
    contact,
    check_answers,
    sending,
    duplicate,
    confirmation,
)

router = APIRouter()
for part in PARTS:
    router.include_router(part.router)
