"""The simulated installation: the fictional Larchford Borough Council's properties,
schedule of rates, suppliers, users and diary. Postcodes (UH1 .., UH2 .., UH3 ..) and
UPRNs (4000780xxxxx) are chosen not to meet the demo's NF/EB/SM ones."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

COMPANY = "001"
COMPANY_NAME = "Larchford Borough Council"
TOWN = "Larchford"
DWELLING, COMMUNAL, BLOCK = "7", "3", "2"


@dataclass(frozen=True, slots=True)
class Alert:
    """A key object alert (``GetPropertyAlerts``)."""

    reference: str
    category: str
    description: str


@dataclass(frozen=True, slots=True)
class AsbestosHazard:
    """An asbestos hazard (``GetPropertyAsbestosHazards``)."""

    reference: str
    description: str
    advice: str


@dataclass(frozen=True, slots=True)
class SimProperty:
    """A property record. ``postcode`` is as UH stores it (spelt as it was typed in)."""

    reference: str
    uprn: str | None
    lines: tuple[str, ...]
    postcode: str
    level: str = DWELLING
    type: str = "FLAT"
    parent: str | None = None
    no_maintenance: bool = False
    repairable: bool = True
    online_repairs: bool = True
    leasehold: bool = False
    alerts: tuple[Alert, ...] = ()
    asbestos: tuple[AsbestosHazard, ...] = ()


@dataclass(frozen=True, slots=True)
class SorItem:
    """A schedule of rates code UH will raise a task for."""

    code: str
    trade: str
    minutes: int
    description: str


@dataclass(frozen=True, slots=True)
class DiaryWindow:
    """A daily appointment window of UH's diary (``VisitSlotTypeCode``)."""

    code: str
    start: time
    minutes: int


def _larch_court() -> list[SimProperty]:
    road = ("Larch Road", TOWN)
    return [
        SimProperty("00041000", "400078000099", ("Larch Court", *road), "UH1 1AA", BLOCK, "BLOCK"),
        SimProperty(
            "00041010",
            "400078000100",
            ("Communal areas, Larch Court", *road),
            "UH1 1AA",
            COMMUNAL,
            "COMM",
            parent="00041000",
            asbestos=(
                AsbestosHazard(
                    "ASB-00017",
                    "Asbestos insulating board to the riser cupboard doors, ground floor",
                    "Do not drill or cut the riser doors",
                ),
            ),
        ),
        SimProperty(
            "00041001", "400078000101", ("Flat 1 Larch Court", *road), "UH1 1AA", parent="00041000"
        ),
        SimProperty(
            "00041002", "400078000102", ("Flat 2 Larch Court", *road), "UH1 1AA", parent="00041000"
        ),
        SimProperty(
            "00041003",
            "400078000103",
            ("Flat 3 Larch Court", *road),
            "UH1 1AA",
            parent="00041000",
            leasehold=True,
            no_maintenance=True,
        ),
        SimProperty(
            "00041004",
            "400078000104",
            ("Flat 4 Larch Court", *road),
            "UH1 1AA",
            parent="00041000",
            online_repairs=False,
        ),
    ]


def _willow_road() -> list[SimProperty]:
    return [
        # Typed into UH in lower case and without a space: found all the same.
        SimProperty("00042001", "400078000201", ("1 Willow Road", TOWN), "uh11ab", type="HOUSE"),
        SimProperty(
            "00042003",
            "400078000203",
            ("3 Willow Road", TOWN),
            "UH1 1AB",
            type="HOUSE",
            alerts=(
                Alert("KOA-0007", "DOG", "Large dog at the property: ask for it to be shut away"),
                Alert("KOA-0008", "LONE", "Do not visit alone: visits in pairs only"),
            ),
            asbestos=(
                AsbestosHazard(
                    "ASB-00042",
                    "Textured coating (Artex) to the kitchen ceiling",
                    "Do not drill, sand or scrape the kitchen ceiling",
                ),
            ),
        ),
    ]


def _birch_house() -> list[SimProperty]:
    road = ("Birch Lane", TOWN)
    flats = [
        SimProperty(
            f"000430{n:02d}",
            f"4000780003{n:02d}",
            (f"Flat {n} Birch House", *road),
            "UH1 2BH",
            parent="00043000",
        )
        for n in range(1, 17)
    ]
    communal = SimProperty(
        "00043100",
        "400078000300",
        ("Communal areas, Birch House", *road),
        "UH1 2BH",
        COMMUNAL,
        "COMM",
        parent="00043000",
    )
    return [communal, *flats]


def _chapel_lane() -> list[SimProperty]:
    return [
        SimProperty(
            "00044001",
            "400078000401",
            ("The Old School House", "Chapel Lane", TOWN),
            "UH2  3CD",
            type="HOUSE",
        ),
        # No UPRN recorded: cannot be offered (the gateway files repairs by UPRN).
        SimProperty("00044002", None, ("2 Chapel Lane", TOWN), "UH2 3CD", type="HOUSE"),
    ]


def _field_view() -> list[SimProperty]:
    return [
        SimProperty(
            "00045001",
            "400078000501",
            ("1 Field View", TOWN),
            "UH3 4EF",
            type="HOUSE",
            repairable=False,
        ),
    ]


DEFAULT_PROPERTIES: tuple[SimProperty, ...] = (
    *_larch_court(),
    *_willow_road(),
    *_birch_house(),
    *_chapel_lane(),
    *_field_view(),
)

DEFAULT_CATALOGUE: tuple[SorItem, ...] = (
    SorItem("20060020", "plumbing", 60, "Clear blockage to sink or basin"),
    SorItem("20060030", "plumbing", 30, "Renew washer to tap"),
    SorItem("20060040", "plumbing", 90, "Renew tap"),
    SorItem("20060110", "plumbing", 60, "Repair WC flushing mechanism"),
    SorItem("20110010", "carpentry", 120, "Repair kitchen unit door or drawer"),
    SorItem("20300050", "electrical", 60, "Repair extractor fan"),
    SorItem("N210010", "carpentry", 60, "Ease and adjust door"),
    SorItem("N373049", "heating", 120, "Repair boiler, no heating or hot water"),
    SorItem("N373050", "heating", 60, "Repair radiator or valve"),
    SorItem("GEN001", "general", 60, "General repair"),
)

DEFAULT_SUPPLIERS: tuple[str, ...] = ("LBC-DLO", "VALEPLUMB", "SPARKS01")
"""Contractors: the council's own direct labour organisation and two firms."""

DEFAULT_PRIORITIES: tuple[str, ...] = ("I", "E", "U", "N")

DEFAULT_WINDOWS: tuple[DiaryWindow, ...] = (
    DiaryWindow("AM", time(8, 0), 240),
    DiaryWindow("PM", time(12, 0), 240),
)


@dataclass(frozen=True)
class SimulatorConfig:
    """Everything the simulated installation holds and how it behaves."""

    username: str = "REPAIRSGW"
    password: str = "uh-sim-password"
    company_code: str = COMPANY
    path: str = "/UHWebServices"
    properties: tuple[SimProperty, ...] = DEFAULT_PROPERTIES
    catalogue: tuple[SorItem, ...] = DEFAULT_CATALOGUE
    suppliers: tuple[str, ...] = DEFAULT_SUPPLIERS
    priorities: tuple[str, ...] = DEFAULT_PRIORITIES
    windows: tuple[DiaryWindow, ...] = DEFAULT_WINDOWS
    capacity: int = 2
    working_days: frozenset[int] = field(default_factory=lambda: frozenset(range(5)))
    max_diary_days: int = 31
    uprn_user_field: str = "u_nlpguprn"
    latency_ms: float = 0.0
    fail_rate: float = 0.0
    seed: int | None = None
