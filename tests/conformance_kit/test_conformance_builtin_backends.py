"""The built-in address register and calendar pass the conformance kit, built through
their entry points as the gateway builds them, on a migrated SQLite database."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.builtin.address_register import import_csv
from repairs_gateway.conformance import (
    AddressSourceConformance,
    AddressSourceHarness,
    FaultRule,
    SchedulerConformance,
    SchedulerHarness,
)
from repairs_gateway.persistence.db import make_engine, make_sessionmaker
from repairs_gateway.persistence.migrate import upgrade
from repairs_gateway.ports import AdapterContext, Address, Job
from repairs_gateway.registry import discover_plugins

COUNCIL = "northfield"

IN_PROCESS: dict[FaultRule, str] = {
    "down": (
        "an in-process backend on the gateway's own database: when that database is down the "
        "gateway can neither store nor look up anything, whatever the adaptor raises"
    ),
    "hang": "an in-process backend has no remote end to hang; SQLite's busy timeout bounds a lock wait",
    "timeout": "an in-process backend has no client time limit of its own",
    "malformed": "the built-ins read only rows the gateway wrote and validated itself",
}

# Postcodes as a council's export might spell them; the import normalises them.
REGISTER_CSV = """uprn,address_line_1,address_line_2,postcode,kind,property_ref
100021000001,1 Mill Lane,Northfield,nf1 1aa,dwelling,ML1
100021000002,2 Mill Lane,Northfield,NF11AA,dwelling,
100021000003,"Flat 1, Weir House",Northfield, NF1  2AB ,dwelling,WH1
100021000004,Weir House communal areas,Northfield,NF1 2AB,communal,
"""

CALENDAR_SETTINGS: dict[str, Any] = {
    "lead_time_days": 1,
    "windows": [
        {"start": "08:00", "end": "12:00", "capacity": {"plumbing": 2, "*": 1}},
        {"start": "12:00", "end": "16:00", "capacity": {"plumbing": 2, "*": 1}},
    ],
}


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file with every migration applied, never written to by tests: migrating
    once and copying the file per test keeps the run short."""
    path = tmp_path_factory.mktemp("conformance-template") / "gateway.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture
async def gateway_sessions(
    migrated_template: Path, tmp_path: Path
) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on a fresh copy of the migrated database, as the gateway hands the built-ins."""
    path = tmp_path / "gateway.db"
    shutil.copyfile(migrated_template, path)
    engine = make_engine(f"sqlite+aiosqlite:///{path}")
    try:
        yield make_sessionmaker(engine)
    finally:
        await engine.dispose()


def _build(name: str, settings: dict[str, Any], sessions: async_sessionmaker[AsyncSession]) -> Any:
    plugin = discover_plugins()[name]
    context = AdapterContext(council_id=COUNCIL, timezone="Europe/London", database=sessions)
    return plugin.build(plugin.settings.model_validate(settings), context)


class TestAddressRegisterConforms(AddressSourceConformance):
    """The built-in register, filled from a CSV."""

    @pytest.fixture
    async def address_source_harness(
        self, gateway_sessions: async_sessionmaker[AsyncSession]
    ) -> AddressSourceHarness:
        """The register with four properties at two postcodes."""
        await import_csv(gateway_sessions, COUNCIL, REGISTER_CSV)
        await import_csv(
            gateway_sessions, "southmoor", "uprn,address_line_1,postcode\n200000000001,1 Moor Road,ZZ9 9ZZ\n"
        )
        return AddressSourceHarness(
            source=_build("builtin-register", {}, gateway_sessions),
            known_postcodes={
                "NF1 1AA": ["100021000001", "100021000002"],
                "NF1 2AB": ["100021000003", "100021000004"],
            },
            # Another council's property is there: it must not be answered.
            unknown_postcode="ZZ9 9ZZ",
            unknown_uprn="200000000001",
            not_applicable=IN_PROCESS,
        )


class TestBuiltinCalendarConforms(SchedulerConformance):
    """The built-in calendar with two windows a weekday and room for two plumbing jobs each."""

    @pytest.fixture
    def scheduler_harness(self, gateway_sessions: async_sessionmaker[AsyncSession]) -> SchedulerHarness:
        """The calendar, empty."""
        return SchedulerHarness(
            scheduler=_build("builtin-calendar", CALENDAR_SETTINGS, gateway_sessions),
            address=Address("100021000001", ("1 Mill Lane", "Northfield"), "NF1 1AA"),
            job=Job("plumbing", 60),
            council_id=COUNCIL,
            reference_prefix="NF",
            not_applicable=IN_PROCESS,
        )
