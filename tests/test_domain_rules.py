"""References read over the phone, postcode normalisation, triage and window labels."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time

import pytest

from repairs_gateway import ports
from repairs_gateway.domain import postcodes
from repairs_gateway.domain.postcodes import normalise_postcode
from repairs_gateway.domain.references import ALPHABET, InvalidReference, new_reference, parse_reference
from repairs_gateway.domain.triage import Catalogue, Exit
from repairs_gateway.domain.windows import label_for
from repairs_gateway.ports import Job, Priority


def test_references_have_no_look_alike_characters() -> None:
    for reference in (new_reference("NF") for _ in range(2000)):
        assert not set(reference[3:]) & set("01OIL")
        assert parse_reference(reference) == reference


def test_every_single_misread_character_is_caught() -> None:
    reference = new_reference("NF")
    for position in range(3, len(reference)):
        for char in ALPHABET:
            if char != reference[position]:
                misread = reference[:position] + char + reference[position + 1 :]
                with pytest.raises(InvalidReference):
                    parse_reference(misread)


@pytest.mark.parametrize(
    ("raw", "normal"), [("sw1a1aa", "SW1A 1AA"), (" M1  1AE ", "M1 1AE"), ("b338th", "B33 8TH")]
)
def test_postcodes_are_normalised(raw: str, normal: str) -> None:
    assert normalise_postcode(raw) == normal


def test_the_normaliser_adapters_import_from_the_ports_is_the_domains() -> None:
    assert ports.normalise_postcode is postcodes.normalise_postcode
    assert ports.InvalidPostcode is postcodes.InvalidPostcode
    with pytest.raises(ports.InvalidPostcode):
        ports.normalise_postcode("not a postcode")


# Plain values in the shapes the domain reads: the domain needs no councils file.


@dataclass(frozen=True)
class JobValue:
    trade: str
    duration_minutes: int
    priority: Priority = Priority.NORMAL
    sor_code: str | None = None


@dataclass(frozen=True)
class Option:
    id: str
    next: Node | None = None
    job: JobValue | None = None
    exit: Exit | None = None


@dataclass(frozen=True)
class Node:
    options: list[Option]


@dataclass(frozen=True)
class Route:
    trades: list[str]


@dataclass(frozen=True)
class Source:
    triage: Node
    sor_codes: dict[str, JobValue] = field(default_factory=dict)
    schedulers: list[Route] = field(default_factory=list)


def test_a_catalogue_is_built_from_plain_values() -> None:
    blocked = JobValue("plumber", 60, Priority.URGENT, "PL01")
    source = Source(
        Node(
            [
                Option("kitchen", next=Node([Option("sink", job=blocked)])),
                Option("gas", exit=Exit("emergency", "Call the gas emergency line")),
            ]
        ),
        sor_codes={"el02": JobValue("electrician", 30)},
        schedulers=[Route(["roofer", "*"])],
    )
    catalogue = Catalogue(source)
    assert catalogue.leaves["kitchen/sink"].job == Job("plumber", 60, Priority.URGENT, "PL01")
    assert catalogue.leaves["gas"].exit == Exit("emergency", "Call the gas emergency line")
    assert catalogue.leaves["gas"].job is None
    assert set(catalogue.sor_codes) == {"PL01", "EL02"}
    assert catalogue.trades == {"plumber", "electrician", "roofer"}


@dataclass(frozen=True)
class Window:
    label: str
    start: time
    end: time


def test_windows_are_labelled_from_plain_values() -> None:
    morning = (datetime(2025, 3, 3, 8), datetime(2025, 3, 3, 12))
    assert label_for(*morning, []) == "Morning"
    assert label_for(*morning, [Window("Early", time(8), time(12))]) == "Early"
    assert label_for(*morning, [Window("Late", time(13), time(17))]) is None
