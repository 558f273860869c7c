"""The simulated installation: its settings and its seeded properties and alerts.

All of it is fictional. The area is Netherholme, outward codes ``NH1``/``NH2`` (no UK
postcode area is ``NH``), UPRNs ``7000500000xx``, property references ``P00100xx``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True, slots=True)
class SeedAlert:
    """A cautionary alert or asbestos record held against a property."""

    code: str
    description: str
    category: str = "CAUTIONARY"
    location: str | None = None
    comment: str | None = None
    start: date | None = None
    end: date | None = None


@dataclass(frozen=True, slots=True)
class SeedProperty:
    """A property as the installation holds it; ``postcode`` as its staff typed it."""

    ref: str
    uprn: str
    type_code: str
    type_name: str
    postcode: str
    street: str | None = None
    number: str | None = None
    building: str | None = None
    lines: tuple[str, ...] = ()
    city: str = "Netherholme"
    alerts: tuple[SeedAlert, ...] = ()


PROPERTIES: tuple[SeedProperty, ...] = (
    SeedProperty("P0010001", "700050000001", "HOUSE", "House", "NH1 1AA", "Heron Way", "1"),
    SeedProperty(
        "P0010003",
        "700050000003",
        "HOUSE",
        "House",
        "NH1 1AA",
        "Heron Way",
        "3",
        alerts=(
            SeedAlert("DOG", "Dog on the premises", comment="Ask for it to be shut away", start=date(2022, 3, 1)),
            SeedAlert("ASB", "Asbestos containing material", "ASBESTOS", location="Loft insulation"),
            SeedAlert("VRB", "Verbal abuse towards staff", start=date(2018, 1, 1), end=date(2020, 1, 1)),
        ),
    ),
    SeedProperty("P0010090", "700050000090", "GARAGE", "Garage", "NH1 1AA", "Heron Way", building="Garage 9"),
    SeedProperty("P0010005", "700050000005", "SHOP", "Shop unit", "NH1 1AA", "Heron Way", "5"),
    SeedProperty(
        "P0010101", "700050000101", "FLAT", "Flat", "nh1  1ab", "Kestrel Road", "2", "Kestrel House", ("Flat 1",)
    ),
    SeedProperty(
        "P0010102", "700050000102", "FLAT", "Flat", "NH11AB", "Kestrel Road", "2", "Kestrel House", ("Flat 2",)
    ),
    SeedProperty(
        "P0010100",
        "700050000100",
        "BLOCK",
        "Block communal areas",
        "NH1 1AB",
        "Kestrel Road",
        "2",
        "Kestrel House",
        ("Communal areas",),
    ),
    SeedProperty(
        "P0010201",
        "700050000201",
        "BUNGALOW",
        "Bungalow",
        "NH2 4WR",
        "Wren Close",
        "7",
        alerts=(SeedAlert("LNW", "Lone working: attend in pairs", location="Whole property"),),
    ),
)

ELIGIBLE_BY_POSTCODE: dict[str, tuple[str, ...]] = {
    "NH1 1AA": ("700050000001", "700050000003"),
    "NH1 1AB": ("700050000100", "700050000101", "700050000102"),
    "NH2 4WR": ("700050000201",),
}
"""The UPRNs an adaptor with the default property types answers at each postcode."""


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """One simulated installation: credentials, token lifetime, capacity, injected faults."""

    client_id: str = "repairs-gateway"
    client_secret: str = "ng-sim-secret"
    scope: str = "housing.repairs"
    token_lifetime_seconds: int = 3600
    requests_per_second: int = 50
    """Capacity: calls a client may make in one second before it is answered 429."""
    priorities: frozenset[str] = frozenset({"1", "2", "3", "4", "5"})
    properties: tuple[SeedProperty, ...] = PROPERTIES
    latency_ms: float = 0.0
    fail_rate: float = 0.0
    seed: int | None = None
    channels: frozenset[str] = field(default_factory=lambda: frozenset({"WEB", "PHONE", "OFFICE"}))
