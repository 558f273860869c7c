"""The demo's data, in one place for the demo, the contract suite's built-in target and the
tests: fictional councils, their triage and calendars, and their addresses."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

DEMO = files("repairs_gateway.demo")
ADDRESS_FILES = {
    "northfield": "northfield.csv",
    "southmoor": "southmoor.csv",
    "eastbrook": "eastbrook.csv",
}


@dataclass(frozen=True, slots=True)
class Tryout:
    """What a new user needs to follow the README's requests on one demo council: a postcode
    with homes at it, one of those homes, a triage path that ends in a job, and which
    systems the council's answers come from."""

    postcode: str
    uprn: str
    triage_path: str
    backends: str


# The same values the README's example requests are tested with, council by council.
TRYOUTS = {
    "northfield": Tryout("NF1 1AA", "100012345001", "kitchen/sink/blocked", "built-in register and calendar"),
    "southmoor": Tryout("SM4 7XY", "200034560001", "heating/radiator", "built-in register and calendar"),
    "eastbrook": Tryout("EB1 4QR", "300056780010", "kitchen/sink", "built-in register, Kirona DRS simulator"),
    "larchford": Tryout("UH1 1AB", "400078000203", "kitchen/sink", "Civica UH and Kirona DRS simulators"),
    "netherholme": Tryout("NH1 1AA", "700050000003", "kitchen/sink", "Northgate and Totalmobile simulators"),
}


def demo_config_path() -> Path:
    """The demo councils file (Northfield and Southmoor, on the built-in backends)."""
    return Path(str(DEMO / "councils.yaml"))


def demo_document(drs_endpoint: str | None = None) -> dict[str, Any]:
    """The demo councils; with a DRS simulator endpoint, also Eastbrook, scheduled by it."""
    document: dict[str, Any] = yaml.safe_load(demo_config_path().read_text(encoding="utf-8"))
    if drs_endpoint is not None:
        template = (DEMO / "drs-council.yaml").read_text(encoding="utf-8")
        document["councils"].append(yaml.safe_load(template.replace("{endpoint}", drs_endpoint)))
    return document


def council_from_template(file: str, **urls: str) -> dict[str, Any]:
    """A demo council from its template (``netherholme-council.yaml``...), each ``{name}``
    placeholder replaced by the URL of the simulator of that name."""
    text = (DEMO / file).read_text(encoding="utf-8")
    for name, url in urls.items():
        text = text.replace("{" + name + "}", url)
    council: dict[str, Any] = yaml.safe_load(text)
    return council


def demo_addresses(councils: Iterable[str]) -> dict[str, str]:
    """The address CSV of each of ``councils`` that the demo has one for."""
    return {
        council: (DEMO / ADDRESS_FILES[council]).read_text(encoding="utf-8")
        for council in councils
        if council in ADDRESS_FILES
    }


async def load_addresses(sessions: async_sessionmaker[AsyncSession], addresses: Mapping[str, str]) -> None:
    """Import each council's CSV into the built-in register."""
    from repairs_gateway.builtin.address_register import import_csv

    for council, text in addresses.items():
        await import_csv(sessions, council, text)
