"""Fidelity to the WSDL a real DRS publishes (read from the shared reference folder).

These are the only tests that read ``<repo>/../shared/reference/kirona-drs``; they skip
when it is absent. Nothing at run time reads it: the package ships its own WSDL.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import zeep
import zeep.helpers
from lxml import etree
from zeep.proxy import AsyncServiceProxy
from zeep.transports import AsyncTransport

from drs_helpers import BASE_URL, CONTRACT, ENDPOINT, LOGIN, PASSWORD
from repairs_gateway_kirona_drs.protocol import NAMESPACE, OPERATIONS, WSDL_PATH
from repairs_gateway_kirona_drs.simulator import DrsSimulator

REPO = Path(__file__).resolve().parents[3]
REFERENCE = REPO.parent / "shared" / "reference" / "kirona-drs" / "soap.wsdl"
XS = "http://www.w3.org/2001/XMLSchema"
WSDL = "http://schemas.xmlsoap.org/wsdl/"

pytestmark = pytest.mark.skipif(
    not REFERENCE.is_file(), reason=f"reference DRS WSDL not found at {REFERENCE}"
)


# ----------------------------------------------------------------------- the shipped types


def _schema_items(path: Path) -> dict[str, etree._Element]:
    root = etree.parse(str(path)).getroot()
    schema = root.find(f"{{{WSDL}}}types/{{{XS}}}schema")
    assert schema is not None
    return {
        f"{etree.QName(node).localname}:{node.get('name')}": node
        for node in schema
        if isinstance(node.tag, str)
    }


def _shape(node: etree._Element) -> Any:
    """What a type means on the wire: base, then each element's name, type, occurrences
    and default in order; or a simple type's enumeration."""
    if etree.QName(node).localname == "simpleType":
        return [e.get("value") for e in node.iter(f"{{{XS}}}enumeration")]
    if etree.QName(node).localname == "element":
        return node.get("type")
    extension = node.find(f"{{{XS}}}complexContent/{{{XS}}}extension")
    fields = [
        (
            e.get("name"),
            e.get("type"),
            e.get("minOccurs", "1"),
            e.get("maxOccurs", "1"),
            e.get("default"),
        )
        for e in node.iter(f"{{{XS}}}element")
    ]
    return (extension.get("base") if extension is not None else None, fields)


def _closure(items: dict[str, etree._Element]) -> list[str]:
    """The global elements and types the operations we use depend on."""
    todo = [f"element:{op}" for op in OPERATIONS] + [f"element:{op}Response" for op in OPERATIONS]
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
                    name = value[4:]
                    kind = "complexType" if f"complexType:{name}" in items else "simpleType"
                    todo.append(f"{kind}:{name}")
    return sorted(seen)


def test_shipped_types_agree_with_the_reference_for_every_operation_used() -> None:
    ours, theirs = _schema_items(WSDL_PATH), _schema_items(REFERENCE)
    needed = _closure(theirs)
    assert "complexType:order" in needed and "simpleType:availableValue" in needed
    for key in needed:
        assert key in ours, f"{key} is missing from the shipped WSDL"
        assert _shape(ours[key]) == _shape(theirs[key]), f"{key} differs from the reference"
    assert sorted(ours) == needed, "the shipped WSDL carries types no operation uses"


def test_shipped_operations_use_the_reference_messages_and_soap_actions() -> None:
    ours = etree.parse(str(WSDL_PATH)).getroot()
    theirs = etree.parse(str(REFERENCE)).getroot()

    def parts(root: etree._Element) -> dict[str, str | None]:
        return {
            m.get("name"): m.find(f"{{{WSDL}}}part").get("element")
            for m in root.findall(f"{{{WSDL}}}message")
        }

    mine, reference = parts(ours), parts(theirs)
    for op in OPERATIONS:
        for name in (op, f"{op}Response"):
            assert mine[name].split(":")[1] == reference[name].split(":")[1]  # type: ignore[union-attr]
    actions = {
        o.getparent().get("name"): o.get("soapAction")
        for o in ours.iter("{http://schemas.xmlsoap.org/wsdl/soap/}operation")
    }
    assert actions == {op: f"{NAMESPACE}SOAP/{op}" for op in OPERATIONS}


# ----------------------------------------------------------------------- a client of the reference


@pytest.fixture
def reference_wsdl(tmp_path: Path) -> Iterator[Path]:
    """The reference WSDL has no binding or service: import it and add them."""
    operations = "".join(
        f'<wsdl:operation name="{op}"><soap:operation soapAction="{NAMESPACE}SOAP/{op}"/>'
        f'<wsdl:input><soap:body use="literal"/></wsdl:input>'
        f'<wsdl:output><soap:body use="literal"/></wsdl:output></wsdl:operation>'
        for op in OPERATIONS
    )
    wrapper = tmp_path / "reference-with-binding.wsdl"
    wrapper.write_text(
        f"""<?xml version="1.0" encoding="UTF-8"?>
<wsdl:definitions targetNamespace="{NAMESPACE}" xmlns:tns="{NAMESPACE}"
    xmlns:wsdl="{WSDL}" xmlns:soap="http://schemas.xmlsoap.org/wsdl/soap/">
  <wsdl:import namespace="{NAMESPACE}" location="{REFERENCE}"/>
  <wsdl:binding name="ReferenceBinding" type="tns:SOAP">
    <soap:binding style="document" transport="http://schemas.xmlsoap.org/soap/http"/>
    {operations}
  </wsdl:binding>
  <wsdl:service name="Reference">
    <wsdl:port name="ReferencePort" binding="tns:ReferenceBinding">
      <soap:address location="{ENDPOINT}"/>
    </wsdl:port>
  </wsdl:service>
</wsdl:definitions>
""",
        encoding="utf-8",
    )
    yield wrapper


@pytest.fixture
def wsdl_http() -> Iterator[httpx.Client]:
    """zeep's async transport wants a sync client for WSDL files (it reads ours locally)."""
    with httpx.Client() as client:
        yield client


async def test_a_client_built_from_the_reference_wsdl_books_on_the_simulator(
    reference_wsdl: Path, sim: DrsSimulator, wsdl_http: httpx.Client
) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url=BASE_URL
    ) as http:
        client = zeep.AsyncClient(
            str(reference_wsdl), transport=AsyncTransport(client=http, wsdl_client=wsdl_http)
        )
        service = AsyncServiceProxy(
            client, client.wsdl.bindings[f"{{{NAMESPACE}}}ReferenceBinding"], address=ENDPOINT
        )

        async def call(operation: str, **fields: Any) -> dict[str, Any]:
            result = zeep.helpers.serialize_object(
                await getattr(service, operation)(**{operation: fields}), dict
            )
            assert result["status"] == "success", result["errorMsg"]
            return dict(result)

        session = (await call("openSession", login=LOGIN, password=PASSWORD))["sessionId"]
        order = _order("NF-REFWSDL")
        slots = await call(
            "checkAvailability",
            canSelectOtherOrders=False,
            newBooking=True,
            periodBegin=datetime(2025, 6, 2, 23, 0, tzinfo=UTC),
            periodEnd=datetime(2025, 6, 3, 22, 59, 59, tzinfo=UTC),
            sessionId=session,
            theOrder={**order, "primaryOrderNumber": "QUERY"}
            | {"theBookingCodes": [_code("QUERY")]},
        )
        free = [
            s
            for day in slots["theSlots"]
            for s in day["slotsForDay"] or []
            if s["available"] == "YES"
        ]
        created = await call("createOrder", sessionId=session, theOrder=order)
        booking = created["theOrder"]["theBookings"][0]
        await call(
            "scheduleBooking",
            force=False,
            sessionId=session,
            theBooking={
                "bookingId": booking["bookingId"],
                "contract": CONTRACT,
                "duration": booking["duration"],
                "isEmergency": False,
                "isNextBooking": False,
                "locationID": "00012345",
                "orderId": created["theOrder"]["orderId"],
                "planningWindowEnd": free[0]["endDate"],
                "planningWindowStart": free[0]["beginDate"],
                "primaryOrderNumber": "NF-REFWSDL",
                "theBookingCodes": [_code("NF-REFWSDL")],
                "userId": "tester",
            },
            timeLock=True,
            userId="tester",
        )
        selected = await call(
            "selectOrder",
            includeCompletedBookings=True,
            primaryOrderNumber=["NF-REFWSDL"],
            sessionId=session,
        )

    (found,) = selected["theOrders"]
    (held,) = found["theBookings"]
    assert held["bookingLifeCycleStatus"] == "PLANNED"
    assert held["planningWindowStart"] == free[0]["beginDate"]
    assert free[0]["beginDate"].utcoffset().total_seconds() == 3600  # local time, summer


def _code(number: str) -> dict[str, Any]:
    return {
        "bookingCodeSORCode": "20060020",
        "bookingId": 0,
        "itemNumberWithinBooking": "1",
        "orderId": 0,
        "primaryOrderNumber": number,
        "quantity": "1",
    }


def _order(number: str) -> dict[str, Any]:
    return {
        "contract": CONTRACT,
        "locationID": "00012345",
        "orderComments": "Kitchen sink blocked",
        "orderId": 0,
        "primaryOrderNumber": number,
        "priority": "N",
        "targetDate": datetime(2025, 6, 30, 15, 0, tzinfo=UTC),
        "theBookingCodes": [_code(number)],
        "theLocation": {
            "address1": "1 High Street",
            "locationId": "00012345",
            "name": "1 High Street",
            "postCode": "NF1 1AA",
            "workflowType": "",
        },
        "userId": "tester",
    }
