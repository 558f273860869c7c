"""Fidelity to the property service WSDL a real UH publishes (read from the shared
reference folder): the shipped WSDL agrees with it field by field, and a zeep client
built from it, unchanged, is answered by the simulator.

These are the only tests that read ``<repo>/../shared/reference/civica-uh``; they skip
when it is absent. Nothing at run time reads it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import zeep
import zeep.helpers
from lxml import etree
from zeep.proxy import AsyncServiceProxy
from zeep.transports import AsyncTransport

from repairs_gateway_civica_uh.protocol import PROPERTY_OPERATIONS, WSDL_PATHS
from repairs_gateway_civica_uh.simulator import UhSimulator
from uh_helpers import BASE_URL, HAZARD_REF, PASSWORD, USER

REPO = Path(__file__).resolve().parents[3]
REFERENCE = REPO.parent / "shared" / "reference" / "civica-uh" / "PropertyService.wsdl"
XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"
SOAP = "http://schemas.xmlsoap.org/wsdl/soap/"
OURS = WSDL_PATHS["PropertyService"]

pytestmark = pytest.mark.skipif(
    not REFERENCE.is_file(), reason=f"reference UH WSDL not found at {REFERENCE}"
)


def _items(path: Path) -> dict[str, etree._Element]:
    root = etree.parse(str(path)).getroot()
    schema = root.find(f"{{{WSDL}}}types/{{{XS}}}schema")
    assert schema is not None
    return {
        f"{etree.QName(n).localname}:{n.get('name')}": n for n in schema if isinstance(n.tag, str)
    }


def _shape(node: etree._Element) -> Any:
    """A type on the wire: its base, then each element's name, type, occurrences and
    nillability, in order."""
    if node.get("type"):
        return ("element", node.get("type"), node.get("nillable"))
    extension = node.find(f"{{{XS}}}complexContent/{{{XS}}}extension")
    fields = [
        (
            e.get("name"),
            e.get("type"),
            e.get("minOccurs", "1"),
            e.get("maxOccurs", "1"),
            e.get("nillable", "false"),
        )
        for e in node.iter(f"{{{XS}}}element")
        if e is not node
    ]
    return (extension.get("base") if extension is not None else None, fields)


def _closure(items: dict[str, etree._Element]) -> list[str]:
    todo = [f"element:{op}" for op in PROPERTY_OPERATIONS]
    todo += [f"element:{op}Response" for op in PROPERTY_OPERATIONS]
    seen: list[str] = []
    while todo:
        key = todo.pop()
        if key in seen:
            continue
        seen.append(key)
        for node in items[key].iter():
            for attribute in ("type", "base"):
                value = node.get(attribute) or ""
                if value.startswith("tns:"):
                    todo.append(f"complexType:{value[4:]}")
                    if f"element:{value[4:]}" in items:
                        todo.append(f"element:{value[4:]}")
    return sorted(seen)


def test_shipped_types_agree_with_the_reference_field_by_field() -> None:
    ours, theirs = _items(OURS), _items(REFERENCE)
    needed = _closure(theirs)
    assert "complexType:PropertyDto" in needed and "complexType:WebRequest" in needed
    for key in needed:
        assert key in ours, f"{key} is missing from the shipped WSDL"
        assert _shape(ours[key]) == _shape(theirs[key]), f"{key} differs from the reference"
    assert sorted(ours) == needed, "the shipped WSDL carries types no operation uses"


def test_shipped_operations_use_the_reference_messages_and_soap_actions() -> None:
    def operations(path: Path) -> dict[str, tuple[str | None, ...]]:
        root = etree.parse(str(path)).getroot()
        parts = {
            m.get("name"): m.find(f"{{{WSDL}}}part").get("element")
            for m in root.findall(f"{{{WSDL}}}message")
        }
        found = {}
        for op in root.iterfind(f"{{{WSDL}}}binding/{{{WSDL}}}operation"):
            name = op.get("name")
            if name not in PROPERTY_OPERATIONS:
                continue
            port_op = root.find(f"{{{WSDL}}}portType/{{{WSDL}}}operation[@name='{name}']")
            assert port_op is not None
            messages = [
                parts[port_op.find(f"{{{WSDL}}}{d}").get("message").split(":")[1]]
                for d in ("input", "output")
            ]
            soap_op = op.find(f"{{{SOAP}}}operation")
            found[name] = (soap_op.get("soapAction"), soap_op.get("style"), *messages)
        return found

    assert operations(OURS) == operations(REFERENCE)
    assert set(operations(OURS)) == set(PROPERTY_OPERATIONS)


# ----------------------------------------------------------------------- a client of the reference


@pytest.fixture
async def reference_client() -> AsyncIterator[tuple[AsyncServiceProxy, UhSimulator]]:
    """A zeep client built from UH's own WSDL, unchanged, talking to the simulator."""
    simulator = UhSimulator()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=simulator.app)) as http:
        with httpx.Client() as wsdl_http:
            transport = AsyncTransport(client=http, wsdl_client=wsdl_http)
            client = zeep.AsyncClient(str(REFERENCE), transport=transport)
            binding = client.wsdl.bindings[
                "{http://schemas.civica.co.uk/UHWeb/2013/03}BasicHttpBinding_IPropertyService"
            ]
            proxy = AsyncServiceProxy(client, binding, address=f"{BASE_URL}/PropertyService.svc")
            yield proxy, simulator


def _dto(**fields: Any) -> dict[str, Any]:
    return {
        "CompanyCode": "001",
        "DirectUser": {"UserName": USER, "UserPassword": PASSWORD},
        "SourceSystem": "FIDELITY",
        "UserId": 0,
        **fields,
    }


def _plain(result: Any) -> dict[str, Any]:
    body = zeep.helpers.serialize_object(result, dict)
    assert isinstance(body, dict)
    return body


async def test_a_client_of_the_real_wsdl_lists_a_postcode_and_reads_a_property(
    reference_client: tuple[AsyncServiceProxy, UhSimulator],
) -> None:
    proxy, simulator = reference_client
    listed = _plain(await proxy.GetPropertyListByPostCode(dto=_dto(PostCode="UH1 1AB")))
    assert listed["Success"] is True and listed["ErrorCode"] == 0
    summaries = listed["PropertyList"]["PropertySummary"]
    assert {s["PropertyReference"] for s in summaries} == {"00042001", "00042003"}
    assert {s["AddressLine1"] for s in summaries} == {"1 Willow Road", "3 Willow Road"}

    got = _plain(await proxy.GetPropertyByRef(dto=_dto(PropertyReference=HAZARD_REF)))
    prop = got["Property"]
    assert got["Success"] is True
    assert prop["Reference"] == HAZARD_REF
    assert (prop["Repairable"], prop["OnlineRepairs"], prop["NoMaintenanceAllowed"]) == (
        True,
        True,
        False,
    )
    assert prop["LevelReference"] == "7" and prop["Asbestos"] is True
    fields = {f["Key"]: f["Value"] for f in prop["UserFieldList"]["UserField"]}
    assert fields == {"u_nlpguprn": "400078000203"}
    assert simulator.state.calls == {"GetPropertyListByPostCode": 1, "GetPropertyByRef": 1}


async def test_a_client_of_the_real_wsdl_reads_alerts_and_asbestos_hazards(
    reference_client: tuple[AsyncServiceProxy, UhSimulator],
) -> None:
    proxy, _ = reference_client
    alerts = _plain(await proxy.GetPropertyAlerts(dto=_dto(PropertyReference=HAZARD_REF)))
    assert alerts["Success"] is True
    assert [
        a["Category"] for a in alerts["KeyObjectAlertMessages"]["KeyObjectAlertMessageDto"]
    ] == [
        "DOG",
        "LONE",
    ]
    asbestos = _plain(
        await proxy.GetPropertyAsbestosHazards(dto=_dto(PropertyReference=HAZARD_REF))
    )
    [hazard] = asbestos["PropertyHazardList"]["PropertyHazardInfo"]
    assert hazard["HazardReference"] == "ASB-00042"
    assert hazard["PropertyReference"] == HAZARD_REF
    assert "kitchen ceiling" in hazard["HazardAdvise"]


async def test_a_client_of_the_real_wsdl_is_refused_in_the_body_for_a_wrong_password(
    reference_client: tuple[AsyncServiceProxy, UhSimulator],
) -> None:
    proxy, _ = reference_client
    dto = _dto(PropertyReference=HAZARD_REF)
    dto["DirectUser"] = {"UserName": USER, "UserPassword": "wrong"}
    refused = _plain(await proxy.GetPropertyByRef(dto=dto))
    assert refused["Success"] is False
    assert refused["ErrorCode"] != 0 and "Authentication failed" in refused["ErrorMessage"]
    assert refused["Property"] is None
