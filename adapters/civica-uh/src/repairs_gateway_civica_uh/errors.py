"""What a UH refusal (``Success`` false) means, by its ``ErrorCode`` and, for
installations whose codes differ from the ones assumed here, by its words."""

from __future__ import annotations

import re

from .client import Reply
from .protocol import (
    ERR_ALREADY_BOOKED,
    ERR_BOOKING_NOT_FOUND,
    ERR_ORDER_ALREADY_CANCELLED,
    ERR_ORDER_NOT_FOUND,
    ERR_PROPERTY_NOT_FOUND,
    ERR_SLOT_NOT_FOUND,
    ERR_SLOT_UNAVAILABLE,
)

_PROPERTY_NOT_FOUND = re.compile(r"propert(y|ies)\b.*\b(not found|does not exist|unknown)", re.I)
_ORDER_NOT_FOUND = re.compile(r"(works )?order\b.*\b(not found|does not exist|unknown)", re.I)
_ALREADY_CANCELLED = re.compile(r"already (been )?cancell?ed", re.I)
_SLOT_TAKEN = re.compile(r"(fully booked|no longer available|not available|no capacity)", re.I)
_BOOKING_NOT_FOUND = re.compile(r"(appointment|booking)\b.*\b(not found|does not exist)", re.I)


def _is(reply: Reply, code: int, words: re.Pattern[str]) -> bool:
    return not reply.success and (reply.code == code or bool(words.search(reply.message or "")))


def is_property_not_found(reply: Reply) -> bool:
    """UH holds no property with the reference asked for."""
    return _is(reply, ERR_PROPERTY_NOT_FOUND, _PROPERTY_NOT_FOUND)


def is_order_not_found(reply: Reply) -> bool:
    """UH holds no works order with the reference asked for."""
    return _is(reply, ERR_ORDER_NOT_FOUND, _ORDER_NOT_FOUND)


def is_already_cancelled(reply: Reply) -> bool:
    """The works order was cancelled before."""
    return _is(reply, ERR_ORDER_ALREADY_CANCELLED, _ALREADY_CANCELLED)


def is_slot_taken(reply: Reply) -> bool:
    """The diary slot is full, gone or was never there."""
    return not reply.success and (
        reply.code in (ERR_SLOT_UNAVAILABLE, ERR_SLOT_NOT_FOUND)
        or bool(_SLOT_TAKEN.search(reply.message or ""))
    )


def is_already_booked(reply: Reply) -> bool:
    """The works order already has an appointment."""
    return not reply.success and reply.code == ERR_ALREADY_BOOKED


def is_booking_not_found(reply: Reply) -> bool:
    """The works order has no appointment in the diary."""
    return _is(reply, ERR_BOOKING_NOT_FOUND, _BOOKING_NOT_FOUND)
