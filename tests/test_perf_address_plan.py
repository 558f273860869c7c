"""Addresses by postcode are found through the index at 100k rows, on SQLite and PostgreSQL.

The plan is what keeps a lookup as fast at a million rows as at a thousand (bench/addresses.py
measures the time; tests never do). The lookup used to be planned through the primary key for
its order, reading the whole council, whenever the planner had no statistics.
"""

from __future__ import annotations

import json
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import delete, insert, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.builtin.address_register import AddressRegister, addresses_at_query, analyze_register
from repairs_gateway.persistence.db import make_engine, make_sessionmaker
from repairs_gateway.persistence.models import RegisterAddress

from gateway_support import on_both_databases

COUNCIL = "plan-test"
ROWS = 100_000
PER_POSTCODE = 10
INDEX = "ix_register_addresses_postcode_uprn"


def _postcode(number: int) -> str:
    """The ``number``th of 10,000 distinct postcodes, PT1 0AP to PT10 9NZ."""
    letters = "ABDEFGHJLN"[number // 10 % 10] + "PQRSTUWXYZ"[number // 100 % 10]
    return f"PT{number // 1000 + 1} {number % 10}{letters}"


@pytest.fixture
async def big_register(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """100k addresses of one council, ten a postcode, UPRNs shuffled across postcodes so the
    primary key's order tells nothing of a postcode's; no statistics yet."""
    engine = make_engine(database_url)
    sessions = make_sessionmaker(engine)
    uprns = random.Random(11).sample(range(10**9, 10**10), ROWS)
    rows = [
        {
            "council_id": COUNCIL,
            "uprn": str(uprn),
            "lines": [f"{n} Plan Street"],
            "postcode": _postcode(n // PER_POSTCODE),
            "kind": "dwelling",
            "property_ref": None,
        }
        for n, uprn in enumerate(uprns)
    ]
    async with sessions.begin() as session:
        await session.execute(delete(RegisterAddress).where(RegisterAddress.council_id == COUNCIL))
        await session.execute(insert(RegisterAddress), rows)
    try:
        yield sessions
    finally:
        async with sessions.begin() as session:
            await session.execute(delete(RegisterAddress).where(RegisterAddress.council_id == COUNCIL))
        await engine.dispose()


async def _plan(sessions: async_sessionmaker[AsyncSession], postcode: str) -> str:
    """The plan of the register's own statement, as text naming each access path."""
    async with sessions() as session:
        dialect = session.get_bind().dialect
        sql = str(
            addresses_at_query(COUNCIL, postcode).compile(
                dialect=dialect, compile_kwargs={"literal_binds": True}
            )
        )
        if dialect.name == "sqlite":
            rows = (await session.execute(text("EXPLAIN QUERY PLAN " + sql))).all()
            return "\n".join(str(row[-1]) for row in rows)
        document: Any = (await session.execute(text("EXPLAIN (FORMAT JSON) " + sql))).scalar_one()
        if isinstance(document, str):
            document = json.loads(document)
        return json.dumps(document)


def _assert_index_only(plan: str) -> None:
    assert INDEX in plan, plan
    # No sort: the index gives the UPRN order. No scan of the table or the council.
    assert "TEMP B-TREE" not in plan and '"Sort"' not in plan, plan
    assert "Seq Scan" not in plan and "sqlite_autoindex" not in plan, plan
    assert "SCAN" not in plan.replace("INDEX SCAN", ""), plan


@on_both_databases
async def test_addresses_at_a_postcode_are_read_through_the_index_at_100k_rows(
    big_register: async_sessionmaker[AsyncSession],
) -> None:
    postcode = _postcode(4321)
    async with big_register() as session:
        dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        # SQLite's planner needs no statistics for it: two equalities and the order, all in
        # the index. PostgreSQL's costs by statistics, and ones taken before 100k rows came
        # (a near-empty table, say) make it read the primary key instead: hence the ANALYZE
        # every import ends with, which is what the next plan is read after.
        _assert_index_only(await _plan(big_register, postcode))
    await analyze_register(big_register)
    _assert_index_only(await _plan(big_register, postcode))
    found = await AddressRegister(COUNCIL, big_register).addresses_at(postcode)
    uprns = [address.uprn for address in found]
    assert len(uprns) == PER_POSTCODE
    assert uprns == sorted(uprns)
    assert {address.postcode for address in found} == {postcode}
