"""listAddresses: normalisation, unknown postcodes and bad input."""

from __future__ import annotations

import pytest

from gateway_support import Gateway
from journey import NORTHFIELD, field_names


@pytest.mark.parametrize("spelling", ["NF1 1AA", "nf11aa", " nf1  1aa ", "Nf1 1Aa"])
async def test_every_spelling_of_a_postcode_finds_the_same_addresses(gateway: Gateway, spelling: str) -> None:
    response = await gateway.client.get(
        f"{NORTHFIELD}/addresses", params={"postcode": spelling}, headers=gateway.auth()
    )
    assert response.status_code == 200
    body = response.json()
    assert body["postcode"] == "NF1 1AA"
    assert [a["uprn"] for a in body["addresses"]] == [
        "100012345001",
        "100012345002",
        "100012345003",
        "100012345900",
    ]
    communal = body["addresses"][-1]
    assert communal["kind"] == "communal"
    assert communal["addressLines"][0] == "Communal areas, Beech Court"


async def test_an_unknown_postcode_is_an_empty_list(gateway: Gateway) -> None:
    response = await gateway.client.get(
        f"{NORTHFIELD}/addresses", params={"postcode": "ZZ9 9ZZ"}, headers=gateway.auth()
    )
    assert response.status_code == 200
    assert response.json() == {"postcode": "ZZ9 9ZZ", "addresses": []}


async def test_councils_see_only_their_own_addresses(gateway: Gateway) -> None:
    response = await gateway.client.get(
        "/v1/councils/southmoor/addresses", params={"postcode": "NF1 1AA"}, headers=gateway.auth()
    )
    assert response.json()["addresses"] == []


@pytest.mark.parametrize(
    "postcode",
    [
        "",
        "   ",
        "NF1",
        "1AA NF1",
        "NF1 1AAA",
        "NF1-1AA",
        "N" * 40,
        "NF1 1ÄA",
        "\uff2e\uff26\uff11 \uff11\uff21\uff21",
        "NF1 1AA;--",
    ],
    ids=[
        "empty",
        "blank",
        "outward-only",
        "reversed",
        "too-long-inward",
        "hyphen",
        "oversized",
        "non-ascii",
        "full-width",
        "injection",
    ],
)
async def test_a_bad_postcode_is_a_400_naming_postcode(gateway: Gateway, postcode: str) -> None:
    response = await gateway.client.get(
        f"{NORTHFIELD}/addresses", params={"postcode": postcode}, headers=gateway.auth()
    )
    assert response.status_code == 400
    assert field_names(response) == {"postcode"}


async def test_a_missing_postcode_is_a_400_naming_postcode(gateway: Gateway) -> None:
    response = await gateway.client.get(f"{NORTHFIELD}/addresses", headers=gateway.auth())
    assert response.status_code == 400
    assert field_names(response) == {"postcode"}


async def test_an_unknown_council_is_a_404_naming_council_id(gateway: Gateway) -> None:
    response = await gateway.client.get(
        "/v1/councils/nowhere/addresses", params={"postcode": "NF1 1AA"}, headers=gateway.auth()
    )
    assert response.status_code == 404
    assert field_names(response) == {"councilId"}


async def test_a_malformed_council_id_is_a_400(gateway: Gateway) -> None:
    response = await gateway.client.get(
        "/v1/councils/North_Field!/addresses", params={"postcode": "NF1 1AA"}, headers=gateway.auth()
    )
    assert response.status_code == 400
    assert field_names(response) == {"councilId"}
