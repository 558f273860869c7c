"""The repair's life cycle, every pair of statuses: what may follow what."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest

from repairs_gateway.domain.repair import (
    CLOSED,
    TRANSITIONS,
    IllegalTransition,
    Intent,
    RepairStatus,
    can_move,
    check_move,
    public_status,
)

S = RepairStatus
ALLOWED = {
    (S.RECEIVED, S.BOOKING),
    (S.RECEIVED, S.BOOKED),  # a lost answer found booked when read
    (S.RECEIVED, S.CANCELLED),
    (S.RECEIVED, S.NEEDS_ATTENTION),
    (S.BOOKING, S.BOOKED),
    (S.BOOKING, S.RECEIVED),  # the backend was down: booked later
    (S.BOOKING, S.CANCELLED),
    (S.BOOKING, S.NEEDS_ATTENTION),  # the window was taken while a worker booked
    (S.BOOKED, S.BOOKED),  # moved
    (S.BOOKED, S.IN_PROGRESS),
    (S.BOOKED, S.COMPLETED),
    (S.BOOKED, S.CANCELLED),
    (S.BOOKED, S.NEEDS_ATTENTION),
    (S.IN_PROGRESS, S.BOOKED),
    (S.IN_PROGRESS, S.COMPLETED),
    (S.IN_PROGRESS, S.CANCELLED),
    (S.NEEDS_ATTENTION, S.BOOKING),
    (S.NEEDS_ATTENTION, S.BOOKED),
    (S.NEEDS_ATTENTION, S.CANCELLED),
}


@pytest.mark.parametrize(("current", "to"), list(itertools.product(RepairStatus, RepairStatus)))
def test_every_pair_of_statuses_is_allowed_exactly_when_the_life_cycle_says(
    current: RepairStatus, to: RepairStatus
) -> None:
    allowed = (current, to) in ALLOWED
    assert can_move(current, to) is allowed
    if allowed:
        assert check_move(current.value, to.value) is to
    else:
        with pytest.raises(IllegalTransition, match=f"from {current} to {to}"):
            check_move(current, to)


def test_closed_repairs_never_move_and_every_status_has_a_row() -> None:
    assert set(TRANSITIONS) == set(RepairStatus)
    for status in CLOSED:
        assert TRANSITIONS[status] == frozenset()


def test_residents_read_the_gateways_own_statuses_as_received() -> None:
    assert public_status(S.BOOKING) == "received"
    assert public_status("needs_attention") == "received"
    assert {public_status(s) for s in RepairStatus} == {
        "received",
        "booked",
        "in_progress",
        "completed",
        "cancelled",
    }


def test_an_intent_survives_its_round_trip_through_the_database_form() -> None:
    start, end = datetime(2026, 12, 7, 8, tzinfo=UTC), datetime(2026, 12, 7, 12, tzinfo=UTC)
    intent = Intent("move", Intent.new_attempt(), "drs", start, end, "Morning", "ref-1", "booking")
    assert Intent.from_json(intent.to_json()) == intent
    assert Intent.new_attempt() != Intent.new_attempt()
