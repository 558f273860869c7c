"""The spec is as strict as the gateway: what its schemas allow, the gateway accepts, and
what the gateway refuses for its shape, the schemas refuse too.

schemathesis, with ``positive_data_acceptance`` on, found eight requests valid by the spec
that the gateway refused: a 15-digit postcode; a 31-character reference (no pattern in
getRepair, cancelRepair and rescheduleRepair); appointments naming the repair in all four
parameters at once; a trade the council does not know; an unsigned window id and one
holding a control character. And the link ``createRepairInFirstWindow`` could not be
followed from a search by SoR code or trade. Each case is kept here."""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from repairs_gateway.contract.formats import repair_references
from repairs_gateway.contract.generation import one_repair_form
from repairs_gateway.contract.schema import load_schema
from repairs_gateway.domain.references import check_character, parse_reference
from repairs_gateway.ports.postcodes import normalise_postcode
from repairs_gateway.spec import spec_document

from gateway_support import Gateway
from journey import NORTHFIELD, SINK, UPRN, create, field_names, repair_body

REFERENCE_OPERATIONS = ("getRepair", "cancelRepair", "rescheduleRepair", "retryRepair")


@cache
def _document() -> dict[str, Any]:
    return spec_document()


def _operation(operation_id: str) -> tuple[str, dict[str, Any], dict[str, Any]]:
    for path, item in _document()["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and operation.get("operationId") == operation_id:
                return path, item, {**operation, "method": method}
    raise AssertionError(f"no operation {operation_id}")


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": _document()["components"]})


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = _document()
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


@cache
def parameter(operation_id: str, name: str) -> Draft202012Validator:
    """A validator for the schema of ``operation_id``'s parameter ``name``."""
    _, item, operation = _operation(operation_id)
    for raw in [*item.get("parameters", []), *operation.get("parameters", [])]:
        declared = _resolve(raw)
        if declared["name"] == name:
            return _validator(declared["schema"])
    raise AssertionError(f"{operation_id} has no parameter {name}")


@cache
def schema(name: str) -> Draft202012Validator:
    """A validator for the spec's component schema ``name``."""
    return _validator({"$ref": f"#/components/schemas/{name}"})


# ------------------------------------------------------------------ the spec refuses them


def test_a_fifteen_digit_postcode_is_not_a_postcode_by_the_spec() -> None:
    postcode = parameter("listAddresses", "postcode")
    assert not postcode.is_valid("123456789012345")
    for refused in ("NF1", "NF1 1A1", "1NF 1AA", "NF1 1AA!", "NF1\t1AA", "NF11 1AAA"):
        assert not postcode.is_valid(refused), refused
    for accepted in ("NF1 1AA", "nf11aa", " nf1  1aa ", "EC1A 1BB", "M1 1AE"):
        assert postcode.is_valid(accepted), accepted


@pytest.mark.parametrize("operation", REFERENCE_OPERATIONS)
def test_a_31_character_reference_is_malformed_by_the_spec(operation: str) -> None:
    reference = parameter(operation, "reference")
    assert not reference.is_valid("NF-" + "2" * 28)
    assert not reference.is_valid("NF-7KQ3M9O")  # O is not in the alphabet
    assert not reference.is_valid("N-7KQ3M9X")
    assert reference.is_valid("NF-7KQ3M9X")
    assert reference.is_valid("nf7kq3m9x")


@pytest.mark.parametrize("operation", REFERENCE_OPERATIONS)
def test_the_reference_says_its_check_character_is_a_format(operation: str) -> None:
    _, item, _ = _operation(operation)
    declared = next(_resolve(p) for p in item["parameters"] if _resolve(p)["name"] == "reference")
    assert declared["schema"]["format"] == "repair-reference"
    assert "check character" in declared["description"]


def test_window_ids_without_a_signature_or_with_a_control_character_are_malformed() -> None:
    window_id = schema("WindowId")
    assert not window_id.is_valid("unsigned")
    assert not window_id.is_valid("eyJ3Ijp7fX0.")
    assert not window_id.is_valid("eyJ3Ijp7fX0.abc\x07")
    assert not window_id.is_valid("eyJ3Ijp7fX0\n.abc")
    assert window_id.is_valid("eyJ3Ijp7fX0.Qm3xT8vK2pLr7cWz")
    body = schema("RepairRequest")
    assert not body.is_valid(repair_body("abc\x01.def"))


# ------------------------------------------------------------------ what the spec allows, the gateway takes


@settings(max_examples=100, deadline=None)
@given(st.from_regex(r"^ *[A-Za-z]{1,2}[0-9][A-Za-z0-9]? *[0-9][A-Za-z]{2} *$", fullmatch=True))
def test_every_postcode_the_spec_allows_is_one_the_gateway_reads(raw: str) -> None:
    if parameter("listAddresses", "postcode").is_valid(raw):
        normalise_postcode(raw)  # raises InvalidPostcode, answered 400, if the spec were looser


@settings(max_examples=100, deadline=None)
@given(repair_references())
def test_every_reference_the_suite_generates_is_valid_by_the_spec_and_the_gateway(reference: str) -> None:
    assert parameter("getRepair", "reference").is_valid(reference)
    assert parse_reference(reference).replace("-", "") == reference.upper().replace("-", "")


async def test_a_well_formed_reference_the_council_does_not_hold_is_404_not_400(gateway: Gateway) -> None:
    reference = f"NF-234567{check_character('234567')}"
    for method, suffix in (("GET", ""), ("POST", "/cancel")):
        response = await gateway.client.request(
            method, f"{NORTHFIELD}/repairs/{reference}{suffix}", headers=gateway.auth()
        )
        assert response.status_code == 404, response.text


async def test_the_gateway_refuses_a_31_character_reference_as_the_spec_says(gateway: Gateway) -> None:
    response = await gateway.client.get(f"{NORTHFIELD}/repairs/NF-{'2' * 28}", headers=gateway.auth())
    assert response.status_code == 400
    assert field_names(response) == {"reference"}


async def test_an_unsigned_window_id_is_the_documented_422_and_stores_nothing(gateway: Gateway) -> None:
    for window_id in ("eyJ3Ijp7fX0.Qm3xT8vK2pLr7cWz", "abc\x07.def"):
        response = await create(gateway, repair_body(window_id))
        assert response.status_code in (400, 422), response.text
        if schema("WindowId").is_valid(window_id):
            # Right shape, not issued here: the 422 the spec documents for createRepair.
            assert response.status_code == 422
            assert response.json()["type"] == "/problems/invalid-window"
        else:
            assert field_names(response) == {"windowId"}
    staff = gateway.auth(await gateway.new_staff_key())
    listing = await gateway.client.get(f"{NORTHFIELD}/repairs", headers=staff)
    assert listing.status_code == 200
    assert listing.json()["repairs"] == []


async def test_a_trade_the_council_does_not_know_is_the_documented_422(gateway: Gateway) -> None:
    assert parameter("listAppointments", "trade").is_valid("thatching")
    response = await gateway.client.get(
        f"{NORTHFIELD}/appointments",
        params={"uprn": UPRN, "trade": "thatching", "durationMinutes": "60"},
        headers=gateway.auth(),
    )
    assert response.status_code == 422
    assert response.json()["type"] == "/problems/unknown-trade"
    _, _, operation = _operation("listAppointments")
    assert "422" in operation["responses"]
    assert "trade is unknown" in operation["responses"]["422"]["description"].replace("\n", " ")


# ------------------------------------------------------------------ the suite holds the gateway to it


def test_the_contract_suite_runs_positive_data_acceptance_allowing_only_documented_refusals() -> None:
    loaded = load_schema("http://127.0.0.1:9")
    checks = loaded.config.checks_config_for(operation=loaded.find_operation_by_id("getRepair"))
    assert checks.positive_data_acceptance.enabled
    assert checks.ignored_auth.enabled
    assert "400" not in checks.positive_data_acceptance.expected_statuses
    assert "422" not in checks.positive_data_acceptance.expected_statuses
    for operation in ("listAppointments", "createRepair", "rescheduleRepair"):
        config = loaded.config.checks_config_for(operation=loaded.find_operation_by_id(operation))
        assert "422" in config.positive_data_acceptance.expected_statuses, operation
        assert "400" not in config.positive_data_acceptance.expected_statuses, operation


@pytest.mark.parametrize(
    "query",
    [
        {"triagePath": SINK, "sorCode": "20060020", "trade": "plumbing", "durationMinutes": 60},
        {"sorCode": "20060020", "durationMinutes": 60},
        {"trade": "plumbing"},
        {"durationMinutes": 30},
        {},
    ],
)
def test_valid_generated_searches_name_the_repair_in_exactly_one_form(query: dict[str, Any]) -> None:
    named = dict(query, uprn=UPRN)
    one_repair_form(named)
    forms = [
        {"triagePath"} <= named.keys(),
        {"sorCode"} <= named.keys(),
        {"trade", "durationMinutes"} <= named.keys(),
    ]
    assert forms.count(True) == 1, named
    assert named.keys() - {"uprn"} in ({"triagePath"}, {"sorCode"}, {"trade", "durationMinutes"})


async def test_all_four_ways_of_naming_a_repair_at_once_is_refused_as_the_spec_says(gateway: Gateway) -> None:
    _, _, operation = _operation("listAppointments")
    assert "exactly one" in operation["description"]
    response = await gateway.client.get(
        f"{NORTHFIELD}/appointments",
        params={
            "uprn": UPRN,
            "triagePath": SINK,
            "sorCode": "20060020",
            "trade": "plumbing",
            "durationMinutes": "60",
        },
        headers=gateway.auth(),
    )
    assert response.status_code == 400
    assert field_names(response) == {"triagePath", "sorCode", "trade", "durationMinutes"}


@pytest.mark.parametrize(
    "query",
    [
        {"triagePath": SINK},
        {"sorCode": "20060020"},
        {"trade": "plumbing", "durationMinutes": "60"},
    ],
)
def test_a_search_in_any_form_has_a_link_into_create_repair_that_can_be_followed(
    query: dict[str, str],
) -> None:
    _, _, operation = _operation("listAppointments")
    links = operation["responses"]["200"]["links"]
    into_create = [link for link in links.values() if link["operationId"] == "createRepair"]
    followable = [
        link
        for link in into_create
        if all(
            expression.removeprefix("$request.query.") in {**query, "uprn": UPRN}
            for expression in link["requestBody"]["repair"].values()
        )
    ]
    assert len(followable) == 1, query
    repair = {
        name: query[expression.removeprefix("$request.query.")]
        for name, expression in followable[0]["requestBody"]["repair"].items()
    }
    if "durationMinutes" in repair:
        repair["durationMinutes"] = int(repair["durationMinutes"])
    assert schema("RepairSpec").is_valid(repair)
