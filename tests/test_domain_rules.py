"""References read over the phone, and postcode normalisation."""

from __future__ import annotations

import pytest

from repairs_gateway.domain.postcodes import normalise_postcode
from repairs_gateway.domain.references import ALPHABET, InvalidReference, new_reference, parse_reference


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
