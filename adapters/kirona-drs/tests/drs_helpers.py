"""Wire-level helpers for the tests: hand-written SOAP requests and a reader of answers."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import httpx
from lxml import etree
from repairs_gateway.ports import BookingRequest, Contact, Slot, SlotQuery

from repairs_gateway_kirona_drs.protocol import NAMESPACE, SOAP11_ENVELOPE_NS, SOAP_ACTION_PREFIX
from repairs_gateway_kirona_drs.simulator.soap import request_schema

BASE_URL = "http://drs.test"
PATH = "/OTWebServiceGateway_SIM/ws/soap"
ENDPOINT = BASE_URL + PATH
LOGIN = "gateway"
PASSWORD = "drs-sim-password"
CONTRACT = "REPAIRS"
LONDON = ZoneInfo("Europe/London")
MONDAY = date(2025, 6, 2)  # British Summer Time


class FakeClock:
    """A clock the tests move by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Answer:
    """A simulator answer: the HTTP status and, for SOAP answers, the ``return`` element
    or the fault string."""

    http_status: int
    body: bytes
    result: etree._Element | None = None
    fault: str | None = None

    @property
    def status(self) -> str | None:
        return self.result.findtext("status") if self.result is not None else None

    @property
    def error(self) -> str | None:
        return self.result.findtext("errorMsg") if self.result is not None else None

    def find(self, path: str) -> etree._Element | None:
        assert self.result is not None
        return self.result.find(path)

    def findtext(self, path: str) -> str | None:
        assert self.result is not None
        found: str | None = self.result.findtext(path)
        return found

    def findall(self, path: str) -> list[etree._Element]:
        assert self.result is not None
        return list(self.result.findall(path))


def envelope(operation: str, fields: str, *, namespaced: bool = True) -> bytes:
    """``<ns:op><op>fields</op></ns:op>`` in a SOAP 1.1 envelope, as DRS clients send."""
    if namespaced:
        wrapper = (
            f'<ns:{operation} xmlns:ns="{NAMESPACE}">'
            f"<{operation}>{fields}</{operation}></ns:{operation}>"
        )
    else:
        wrapper = f"<{operation}><{operation}>{fields}</{operation}></{operation}>"
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP11_ENVELOPE_NS}">'
        f"<soapenv:Body>{wrapper}</soapenv:Body></soapenv:Envelope>"
    ).encode()


async def post(
    http: httpx.AsyncClient,
    operation: str,
    fields: str,
    *,
    body: bytes | None = None,
    action: str | None = None,
    namespaced: bool = True,
    content_type: str = "text/xml; charset=utf-8",
) -> Answer:
    """POST one SOAP request to the simulator and read the answer. Every SOAP answer is
    checked against the WSDL's schema, so the simulator never answers what a client
    built from the WSDL could not read."""
    headers = {
        "Content-Type": content_type,
        "SOAPAction": f'"{SOAP_ACTION_PREFIX + operation if action is None else action}"',
    }
    payload = body if body is not None else envelope(operation, fields, namespaced=namespaced)
    response = await http.post(PATH, content=payload, headers=headers)
    answer = Answer(response.status_code, response.content)
    if not response.headers.get("content-type", "").startswith("text/xml"):
        return answer
    try:
        root = etree.fromstring(response.content)
    except etree.XMLSyntaxError:
        return answer  # a spoilt answer (failure injection)
    body_node = root.find(f"{{{SOAP11_ENVELOPE_NS}}}Body")
    assert body_node is not None
    fault = body_node.find(f"{{{SOAP11_ENVELOPE_NS}}}Fault")
    if fault is not None:
        answer.fault = fault.findtext("faultstring")
        return answer
    wrapper = body_node[0]
    assert wrapper.tag == f"{{{NAMESPACE}}}{operation}Response"
    schema = request_schema()
    assert schema.validate(etree.ElementTree(copy.deepcopy(wrapper))), schema.error_log
    answer.result = wrapper.find("return")
    return answer


async def open_session(http: httpx.AsyncClient) -> str:
    answer = await post(
        http, "openSession", f"<id>0</id><login>{LOGIN}</login><password>{PASSWORD}</password>"
    )
    assert answer.status == "success", answer.error
    session: str | None = answer.findtext("sessionId")
    assert session
    return session


def codes_xml(number: str, sor: str = "20060020", quantity: str = "1", item: str = "1") -> str:
    return (
        f"<theBookingCodes><bookingCodeSORCode>{sor}</bookingCodeSORCode><bookingId>0</bookingId>"
        f"<itemNumberWithinBooking>{item}</itemNumberWithinBooking><orderId>0</orderId>"
        f"<primaryOrderNumber>{number}</primaryOrderNumber><quantity>{quantity}</quantity>"
        "</theBookingCodes>"
    )


def order_xml(
    number: str,
    *,
    sor: str = "20060020",
    comments: str = "Kitchen sink blocked",
    contract: str = CONTRACT,
    priority: str = "N",
    location: str = "00012345",
    target: str = "2025-06-30T16:00:00Z",
    codes: str | None = None,
) -> str:
    """A schema-valid ``order``."""
    return (
        f"<contactName>Ann Example</contactName><contract>{contract}</contract>"
        f"<locationID>{location}</locationID><message>false</message>"
        f"<orderComments>{escape(comments)}</orderComments><orderId>0</orderId>"
        f"<phone>01234 567890</phone><primaryOrderNumber>{number}</primaryOrderNumber>"
        f"<priority>{priority}</priority><targetDate>{target}</targetDate>"
        f"{codes if codes is not None else codes_xml(number, sor)}"
        "<theLocation><address1>1 High Street</address1>"
        "<excludedFromMsging>false</excludedFromMsging>"
        f"<locationId>{location}</locationId><name>1 High Street</name><postCode>NF1 1AA</postCode>"
        "<workflowType></workflowType></theLocation><userId>tester</userId>"
    )


def availability_xml(
    session: str, begin: str, end: str, number: str = "QUERY-1", sor: str = "20060020"
) -> str:
    return (
        "<id>0</id><canSelectOtherOrders>false</canSelectOtherOrders><newBooking>true</newBooking>"
        f"<periodBegin>{begin}</periodBegin><periodEnd>{end}</periodEnd><sessionId>{session}</sessionId>"
        f"<theOrder>{order_xml(number, sor=sor)}</theOrder>"
    )


def schedule_xml(
    session: str,
    booking_id: str,
    order_id: str,
    number: str,
    start: str,
    end: str,
    *,
    force: bool = False,
) -> str:
    return (
        f"<id>0</id><force>{'true' if force else 'false'}</force><sessionId>{session}</sessionId>"
        f"<theBooking><bookingId>{booking_id}</bookingId><bookingReason>first</bookingReason>"
        f"<contract>{CONTRACT}</contract><duration>60</duration><isEmergency>false</isEmergency>"
        f"<isNextBooking>false</isNextBooking><locationID>00012345</locationID>"
        f"<orderId>{order_id}</orderId><planningWindowEnd>{end}</planningWindowEnd>"
        f"<planningWindowStart>{start}</planningWindowStart>"
        f"<primaryOrderNumber>{number}</primaryOrderNumber>{codes_xml(number)}"
        "<userId>tester</userId></theBooking><timeLock>true</timeLock><userId>tester</userId>"
    )


async def create_order(http: httpx.AsyncClient, session: str, number: str, **kw: str) -> Answer:
    return await post(
        http,
        "createOrder",
        f"<id>0</id><sessionId>{session}</sessionId><theOrder>{order_xml(number, **kw)}</theOrder>",
    )


def booking_ids(answer: Answer) -> tuple[str, str]:
    """(orderId, bookingId) of a createOrder answer."""
    order_id = answer.result.findtext("theOrder/orderId") if answer.result is not None else None
    booking = (
        answer.result.findtext("theOrder/theBookings/bookingId")
        if answer.result is not None
        else None
    )
    assert order_id and booking
    return order_id, booking


def request_for(
    query: SlotQuery, slot: Slot, reference: str = "NF-7KQ3M9X", **changes: Any
) -> BookingRequest:
    request = BookingRequest(
        council_id=query.council_id,
        reference=reference,
        address=query.address,
        job=query.job,
        slot=slot,
        description="The kitchen sink is blocked and water will not drain.",
        contact=Contact("Ann Example", "01234 567890"),
    )
    return dataclasses.replace(request, **changes)
