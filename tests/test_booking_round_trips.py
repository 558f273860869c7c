"""One booking's round trips to the database, pinned: a later change that adds statements,
sessions or commits to createRepair is noticed here (issue 11)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway_support import Gateway, on_both_databases
from journey import OTHER_UPRN, UPRN, create, first_window, repair_body

# What one booking through the built-in calendar costs once the API key is cached:
#   the Idempotency-Key replay lookup (both kinds, one query)          1 session, 1 statement
#   the property read by the address register (PostgreSQL; SQLite's is
#     answered without a statement here)                              (1 session, 1 statement)
#   the repair stored with its intent, lease, event and notify job     1 session, 3 statements, commit
#   the calendar's booking                                             1 session, 3 statements, commit
#   the outcome, the lease let go, its event and job (RETURNING row)   1 session, 3 statements, commit
#   the history for the answer                                         1 session, 1 statement
#   the answer kept for Idempotency-Key replays (issue 14)             1 session, 1 statement, commit
# Before issue 11: 14 statements in 6 sessions on SQLite, 15 in 7 on PostgreSQL.
MOST_STATEMENTS = 13
MOST_SESSIONS = 7
COMMITS = 4
"""Four commits, each kept for a guarantee: the repair with its intent before any backend
is called (store-first), the calendar's own transaction (a backend's), the outcome, and the
first answer, which a retry with the same Idempotency-Key is answered exactly (only when a
key was sent)."""


@dataclass
class Count:
    statements: list[str] = field(default_factory=list)
    sessions: int = 0
    commits: int = 0


@contextmanager
def counting(engine: AsyncEngine) -> Iterator[Count]:
    """Statements sent, connections checked out (one a session) and commits on ``engine``."""
    count = Count()
    sync = engine.sync_engine

    def executed(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        count.statements.append(statement.split("\n")[0][:80])

    def committed(_conn: Any) -> None:
        count.commits += 1

    def checked_out(*_: Any) -> None:
        count.sessions += 1

    event.listen(sync, "before_cursor_execute", executed)
    event.listen(sync, "commit", committed)
    event.listen(sync.pool, "checkout", checked_out)
    try:
        yield count
    finally:
        event.remove(sync, "before_cursor_execute", executed)
        event.remove(sync, "commit", committed)
        event.remove(sync.pool, "checkout", checked_out)


@on_both_databases
async def test_a_booking_costs_at_most_its_pinned_round_trips(gateway: Gateway) -> None:
    window = await first_window(gateway, OTHER_UPRN)
    warm = await create(gateway, repair_body(uprn=UPRN), key="warm-up")  # the API key is read once
    assert warm.status_code == 201
    with counting(gateway.app.state.gateway.engine) as count:
        response = await create(gateway, repair_body(window["id"], uprn=OTHER_UPRN), key="booking-1")
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "booked"
    assert len(count.statements) <= MOST_STATEMENTS, "\n".join(count.statements)
    assert count.sessions <= MOST_SESSIONS, "\n".join(count.statements)
    assert count.commits == COMMITS, "\n".join(count.statements)


@on_both_databases
async def test_a_replayed_booking_is_answered_from_one_lookup_and_its_history(gateway: Gateway) -> None:
    window = await first_window(gateway, OTHER_UPRN)
    first = await create(gateway, repair_body(window["id"], uprn=OTHER_UPRN), key="booking-2")
    assert first.status_code == 201
    with counting(gateway.app.state.gateway.engine) as count:
        again = await create(gateway, repair_body(window["id"], uprn=OTHER_UPRN), key="booking-2")
    assert again.status_code == 201
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["reference"] == first.json()["reference"]
    assert len(count.statements) <= 2, "\n".join(count.statements)  # the lookup, the history
    assert count.commits == 0
