"""Every bad postcode is told in one wording, naming the field: too short, too long, the
wrong shape, not text or empty, in a query, in a body, and in an address import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.api import errors
from repairs_gateway.api.schemas import Postcode, Wire
from repairs_gateway.builtin.address_register import import_csv
from repairs_gateway.persistence.db import make_engine, make_sessionmaker
from repairs_gateway.spec import spec_document

from gateway_support import Gateway, empty_tables
from journey import NORTHFIELD

WORDING = "is not a UK postcode (for example NF1 1AA)"

# What a resident might type, and how the answer quotes it back (spaces around it dropped).
BAD_TEXT = {
    "too-short": ("NF1A", "'NF1A'"),
    "outward-only": ("NF1", "'NF1'"),
    "wrong-shape": ("NF1-1AA", "'NF1-1AA'"),
    "too-long": ("NF1 1AA NF1 1AA NF1", "'NF1 1AA NF1 1AA ...'"),
    "empty": ("", "''"),
    "blank": ("   ", "''"),
    "non-ascii": ("NF1 1ÄA", "'NF1 1ÄA'"),
    "padded-too-short": ("  nf1a ", "'nf1a'"),
}


def _only_error(response: httpx.Response, location: str) -> dict[str, Any]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    [error] = body["errors"]
    assert error["field"] == "postcode"
    assert error["location"] == location
    assert body["detail"] == f"postcode: {error['message']}"
    return dict(error)


@pytest.mark.parametrize(("given", "quoted"), BAD_TEXT.values(), ids=BAD_TEXT.keys())
async def test_a_bad_postcode_in_the_query_gets_the_one_wording(
    gateway: Gateway, given: str, quoted: str
) -> None:
    response = await gateway.client.get(
        f"{NORTHFIELD}/addresses", params={"postcode": given}, headers=gateway.auth()
    )
    assert _only_error(response, "query")["message"] == f"{quoted} {WORDING}"


async def test_a_good_postcode_in_the_query_is_still_read(gateway: Gateway) -> None:
    response = await gateway.client.get(
        f"{NORTHFIELD}/addresses", params={"postcode": " nf11aa "}, headers=gateway.auth()
    )
    assert response.status_code == 200
    assert response.json()["postcode"] == "NF1 1AA"


class _PostcodeBody(Wire):
    postcode: Postcode


@pytest.fixture
async def body_client() -> AsyncIterator[httpx.AsyncClient]:
    """An app with one route taking a postcode in its body, answering errors as the gateway does."""
    app = FastAPI()
    errors.install(app)

    @app.post("/echo")
    async def echo(body: _PostcodeBody) -> dict[str, str]:
        return {"postcode": body.postcode}

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as client:
        yield client


BAD_JSON: dict[str, tuple[object, str]] = {
    **BAD_TEXT,
    "number": (12345, "12345"),
    "null": (None, "null"),
    "list": (["NF1", "1AA"], '["NF1", "1AA"]'),
    "object": ({"outward": "NF1"}, '{"outward": "NF1...'),
}


@pytest.mark.parametrize(("given", "quoted"), BAD_JSON.values(), ids=BAD_JSON.keys())
async def test_a_bad_postcode_in_a_body_gets_the_same_wording(
    body_client: httpx.AsyncClient, given: object, quoted: str
) -> None:
    response = await body_client.post("/echo", json={"postcode": given})
    assert _only_error(response, "body")["message"] == f"{quoted} {WORDING}"


async def test_a_good_postcode_in_a_body_is_taken_as_given(body_client: httpx.AsyncClient) -> None:
    response = await body_client.post("/echo", json={"postcode": "nf1 1aa"})
    assert response.status_code == 200
    assert response.json() == {"postcode": "nf1 1aa"}


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    """Sessions on the emptied test database."""
    await empty_tables(database_url)
    engine = make_engine(database_url)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def test_an_address_import_tells_bad_postcodes_in_the_same_wording(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Quoted CSV fields, so the spaces of "blank" and "padded" reach the check as given.
    rows = "".join(f'{100 + n},{n} Mill Lane,"{given}"\n' for n, (given, _) in enumerate(BAD_TEXT.values()))
    report = await import_csv(sessions, "millbrook", "uprn,address_line_1,postcode\n" + rows)
    assert report.imported == 0
    assert report.problems == [
        f"line {n + 2}: postcode: {quoted} {WORDING}" for n, (_, quoted) in enumerate(BAD_TEXT.values())
    ]


def _fields(document: dict[str, Any], node: Any, seen: set[str]) -> set[str]:
    """Every property name under a schema, through references, arrays and combinations."""
    if isinstance(node, list):
        return set().union(*(_fields(document, item, seen) for item in node))
    if not isinstance(node, dict):
        return set()
    reference = node.get("$ref")
    if isinstance(reference, str):
        if reference in seen:
            return set()
        seen.add(reference)
        target: Any = document
        for part in reference.removeprefix("#/").split("/"):
            target = target[part]
        return _fields(document, target, seen)
    names = {name.lower() for name in node.get("properties", {})}
    return names.union(*(_fields(document, value, seen) for value in node.values()))


def test_every_place_the_api_takes_a_postcode_is_covered_here(gateway: Gateway) -> None:
    """A new query parameter or body field named postcode must take ``Postcode`` and be
    tested above: this fails until it is listed."""
    document: dict[str, Any] = gateway.app.openapi()
    places = set()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for parameter in operation.get("parameters", []):
                if parameter["name"].lower() == "postcode":
                    places.add((method, path, parameter["in"]))
            if "postcode" in _fields(document, operation.get("requestBody", {}), set()):
                places.add((method, path, "body"))
    assert places == {("get", "/v1/councils/{councilId}/addresses", "query")}


async def test_the_specs_example_is_the_answer_the_gateway_gives(gateway: Gateway) -> None:
    example = spec_document()["components"]["examples"]["ProblemNotAPostcode"]["value"]
    response = await gateway.client.get(
        f"{NORTHFIELD}/addresses", params={"postcode": "NF1A"}, headers=gateway.auth()
    )
    body = response.json()
    assert (body["errors"], body["detail"]) == (example["errors"], example["detail"])
