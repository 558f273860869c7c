"""The built-in register answers the same on its SQLite fast path as through the async
engine, sees an import at once, and falls back when the fast path cannot answer."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.builtin.address_register import AddressRegister, import_csv
from repairs_gateway.persistence.db import make_engine, make_sessionmaker

from gateway_support import empty_tables, on_both_databases

CSV = (
    "uprn,address_line_1,address_line_2,postcode,kind,property_ref\n"
    "300,3 Mill Lane,,MR1 2AB,dwelling,P3\n"
    "100,Stairwell,1-9 Mill Lane,mr12ab,communal,\n"
    "200,2 Mill Lane,,MR1 2AB,,\n"
    "400,4 Other Road,,MR9 9ZZ,dwelling,\n"
)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    await empty_tables(database_url)
    engine = make_engine(database_url)
    made = make_sessionmaker(engine)
    await import_csv(made, "millbrook", CSV)
    yield made
    await engine.dispose()


def _async_only(sessions: async_sessionmaker[AsyncSession]) -> AddressRegister:
    register = AddressRegister("millbrook", sessions)
    register._sqlite = None  # the path every other database takes
    return register


@on_both_databases
async def test_both_paths_answer_the_same_in_uprn_order(sessions: async_sessionmaker[AsyncSession]) -> None:
    fast, slow = AddressRegister("millbrook", sessions), _async_only(sessions)
    found = await fast.addresses_at("MR1 2AB")
    assert [a.uprn for a in found] == ["100", "200", "300"]
    assert found[0].kind == "communal" and found[0].lines == ("Stairwell", "1-9 Mill Lane")
    assert found[2].property_ref == "P3"
    assert list(found) == list(await slow.addresses_at("MR1 2AB"))
    assert await fast.address("300") == await slow.address("300") == found[2]
    assert await fast.address("999") is None and await slow.address("999") is None
    assert await fast.addresses_at("ZZ1 1ZZ") == []
    assert await AddressRegister("othertown", sessions).addresses_at("MR1 2AB") == []


async def test_an_import_is_seen_by_the_next_lookup(sessions: async_sessionmaker[AsyncSession]) -> None:
    register = AddressRegister("millbrook", sessions)
    assert len(await register.addresses_at("MR1 2AB")) == 3
    await import_csv(sessions, "millbrook", "uprn,address_line_1,postcode\n250,2a Mill Lane,MR1 2AB\n")
    assert [a.uprn for a in await register.addresses_at("MR1 2AB")] == ["100", "200", "250", "300"]


async def test_the_async_path_answers_when_the_fast_path_cannot(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    register = AddressRegister("millbrook", sessions)
    reader = register._sqlite
    assert reader is not None
    with reader._mutex:  # busy, as if another thread were reading through it
        assert [a.uprn for a in await register.addresses_at("MR1 2AB")] == ["100", "200", "300"]
        assert (await register.address("400")) is not None
