"""DRS's bookingConfirmation push: the simulator sends it when a booking changes through its
control, and the adaptor reads it (``StatusPushReader``), refusing a push without the
council's token."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from lxml import etree
from pydantic import SecretStr, ValidationError
from repairs_gateway.ports import (
    AdapterContext,
    BackendRejected,
    ReceiptRefused,
    StatusPushReader,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from drs_helpers import CONTRACT, ENDPOINT, LOGIN, PASSWORD, create_order, open_session
from repairs_gateway_kirona_drs import DrsScheduler, DrsSettings
from repairs_gateway_kirona_drs.protocol import SOAP11_ENVELOPE_NS
from repairs_gateway_kirona_drs.push import (
    PUSH_NAMESPACE,
    PUSH_SOAP_ACTION,
    BookingConfirmation,
    answer_envelope,
    confirmation_envelope,
)
from repairs_gateway_kirona_drs.simulator import DrsSimulator

TOKEN = "a-long-enough-push-token-42"
CALLBACK = "http://receiver.test/drs"
AFTERNOON_LOCAL = ("2025-06-02T12:00:00+01:00", "2025-06-02T16:00:00+01:00")
BEARER = {"authorization": f"Bearer {TOKEN}"}


class Receiver:
    """A client of DRS's background service: records what it is sent."""

    def __init__(self, status_code: int = 200) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.status_code = status_code
        self.app = Starlette(routes=[Route("/drs", self._take, methods=["POST"])])

    async def _take(self, request: Request) -> Response:
        self.requests.append((dict(request.headers), await request.body()))
        return Response(answer_envelope(), status_code=self.status_code, media_type="text/xml")


@pytest.fixture
def receiver() -> Receiver:
    return Receiver()


@pytest.fixture
async def pushing(sim: DrsSimulator, receiver: Receiver) -> AsyncIterator[DrsSimulator]:
    """The simulator, its pushes going to ``receiver``."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=receiver.app)) as client:
        sim.pushes.client = client
        yield sim


def reader(push_token: str | None = TOKEN, contract: str = CONTRACT) -> DrsScheduler:
    settings = DrsSettings(
        endpoint=ENDPOINT,
        login=LOGIN,
        password=SecretStr(PASSWORD),
        contract=contract,
        push_token=SecretStr(push_token) if push_token else None,
    )
    return DrsScheduler(settings, AdapterContext("eastbrook"))


def confirmation(number: str = "EB-7KQ3M9X", contract: str = CONTRACT) -> bytes:
    return confirmation_envelope(
        BookingConfirmation(booking_id="5001", primary_order_number=number, contract=contract)
    )


async def scheduled_order(http: httpx.AsyncClient, number: str) -> None:
    session = await open_session(http)
    answer = await create_order(http, session, number)
    assert answer.status == "success", answer.error
    response = await http.post(
        f"/_simulator/orders/{number}/status",
        json={"start": "2025-06-02T08:00:00+01:00", "end": "2025-06-02T12:00:00+01:00"},
    )
    assert response.status_code == 200, response.text


async def subscribe(http: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await http.post("/_simulator/callback", json={"url": CALLBACK, **body})


# ----------------------------------------------------------------------- the simulator


async def test_a_change_through_the_control_is_pushed_in_drss_shape(
    http: httpx.AsyncClient, pushing: DrsSimulator, receiver: Receiver
) -> None:
    await scheduled_order(http, "EB-20")  # before any callback is set: nothing is pushed
    assert receiver.requests == []
    subscribed = await subscribe(http, token=TOKEN)
    assert subscribed.json() == {"url": CALLBACK, "token": True, "deliveries": []}

    start, end = AFTERNOON_LOCAL
    response = await http.post("/_simulator/orders/EB-20/status", json={"start": start, "end": end})
    assert response.status_code == 200, response.text
    assert response.json()["callback"]["httpStatus"] == 200

    [(headers, body)] = receiver.requests
    assert headers["content-type"].startswith("text/xml")
    assert headers["soapaction"] == f'"{PUSH_SOAP_ACTION}"'
    assert headers["authorization"] == f"Bearer {TOKEN}"
    root = etree.fromstring(body)
    assert root.tag == f"{{{SOAP11_ENVELOPE_NS}}}Envelope"
    wrapper = root.find(f"{{{SOAP11_ENVELOPE_NS}}}Body/{{{PUSH_NAMESPACE}}}bookingConfirmation")
    assert wrapper is not None
    inner = wrapper.find("bookingConfirmation")  # unqualified, as DRS's own messages
    assert inner is not None
    assert [child.tag for child in inner] == [
        "bookingId",
        "primaryOrderNumber",
        "contract",
        "locationID",
        "planningWindowStart",
        "planningWindowEnd",
        "bookingReason",
        "changedDate",
        "tokenId",
        "userId",
    ]
    order = pushing.state.find_orders(numbers=["EB-20"])[0]
    booking = order.bookings[0]
    assert inner.findtext("bookingId") == str(booking.booking_id)
    assert inner.findtext("primaryOrderNumber") == "EB-20"
    assert inner.findtext("contract") == CONTRACT
    assert inner.findtext("locationID") == order.location_id
    window = (inner.findtext("planningWindowStart"), inner.findtext("planningWindowEnd"))
    assert window == AFTERNOON_LOCAL
    assert inner.findtext("bookingReason") == "first"
    assert inner.findtext("changedDate") == "2025-06-02T07:00:00+01:00"  # the simulator's clock
    assert inner.findtext("tokenId") == booking.token_id
    assert inner.findtext("userId") == order.user_id

    await http.post("/_simulator/orders/EB-20/status", json={"status": "STARTED"})
    shown = (await http.get("/_simulator/callback")).json()
    assert [d["bookingLifeCycleStatus"] for d in shown["deliveries"]] == ["PLANNED", "STARTED"]
    assert TOKEN not in str(shown)  # the control never shows the token


async def test_what_the_simulator_pushes_the_adaptor_reads(
    http: httpx.AsyncClient, pushing: DrsSimulator, receiver: Receiver
) -> None:
    await scheduled_order(http, "EB-21")
    await subscribe(http, token=TOKEN)
    await http.post("/_simulator/orders/EB-21/status", json={"status": "COMPLETED"})
    [(headers, body)] = receiver.requests
    assert reader().read_push(headers, body) == ["EB-21"]


async def test_a_push_without_a_token_sends_no_authorization(
    http: httpx.AsyncClient, pushing: DrsSimulator, receiver: Receiver
) -> None:
    await scheduled_order(http, "EB-22")
    await subscribe(http)
    await http.post("/_simulator/orders/EB-22/status", json={"status": "ARRIVED"})
    [(headers, _)] = receiver.requests
    assert "authorization" not in headers


async def test_a_callback_that_cannot_be_reached_is_recorded_and_the_change_stands(
    http: httpx.AsyncClient, sim: DrsSimulator
) -> None:
    await scheduled_order(http, "EB-23")
    await http.post("/_simulator/callback", json={"url": "http://127.0.0.1:9/nothing-listens"})
    response = await http.post("/_simulator/orders/EB-23/status", json={"status": "STARTED"})
    assert response.status_code == 200
    delivery = response.json()["callback"]
    assert delivery["httpStatus"] is None and delivery["error"]
    assert sim.state.find_orders(numbers=["EB-23"])[0].bookings[0].status == "STARTED"


async def test_the_callback_can_be_turned_off(
    http: httpx.AsyncClient, pushing: DrsSimulator, receiver: Receiver
) -> None:
    await scheduled_order(http, "EB-24")
    await subscribe(http, token=TOKEN)
    off = await http.post("/_simulator/callback", json={"url": None})
    assert off.json()["url"] is None
    response = await http.post("/_simulator/orders/EB-24/status", json={"status": "STARTED"})
    assert response.json()["callback"] is None
    assert receiver.requests == []


@pytest.mark.parametrize(
    ("body", "status_code"),
    [
        ({"url": "ftp://example.test/"}, 422),
        ({"url": 7}, 422),
        ({"url": CALLBACK, "token": ""}, 422),
        ({"url": CALLBACK, "token": 5}, 422),
        ([], 400),
    ],
)
async def test_the_callback_control_refuses_what_it_cannot_use(
    http: httpx.AsyncClient, body: Any, status_code: int
) -> None:
    response = await http.post("/_simulator/callback", json=body)
    assert response.status_code == status_code
    assert "error" in response.json()


# ----------------------------------------------------------------------- the adaptor


def test_the_adaptor_reads_pushes() -> None:
    assert isinstance(reader(), StatusPushReader)
    assert reader().read_push(BEARER, confirmation("EB-ABC")) == ["EB-ABC"]


def test_basic_authentication_carrying_the_token_is_accepted() -> None:
    basic = base64.b64encode(f"drs:{TOKEN}".encode()).decode()
    assert reader().read_push({"authorization": f"Basic {basic}"}, confirmation()) == ["EB-7KQ3M9X"]


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN} extra",
        f"bearer{TOKEN}",
        f"Token {TOKEN}",
        "Basic " + base64.b64encode(b"drs:nope").decode(),
        "Basic " + base64.b64encode(TOKEN.encode()).decode(),  # no user:password pair
        "Basic not-base64!",
    ],
)
def test_a_push_without_the_token_is_refused_before_it_is_read(authorization: str | None) -> None:
    headers = {} if authorization is None else {"authorization": authorization}
    with pytest.raises(ReceiptRefused):
        reader().read_push(headers, b"not even XML")


def test_a_council_without_a_push_token_takes_no_pushes() -> None:
    with pytest.raises(ReceiptRefused, match="no push_token"):
        reader(push_token=None).read_push(BEARER, confirmation())


def test_a_push_for_another_contract_names_nothing() -> None:
    assert reader().read_push(BEARER, confirmation(contract="PLANNED-WORKS")) == []


def test_fields_directly_under_the_wrapper_are_read_too() -> None:
    body = (
        f'<soap:Envelope xmlns:soap="{SOAP11_ENVELOPE_NS}"><soap:Body>'
        f'<ns:bookingConfirmation xmlns:ns="{PUSH_NAMESPACE}">'
        "<userId>planner</userId><primaryOrderNumber> EB-XYZ </primaryOrderNumber>"
        "<bookingId>5009</bookingId>"
        "</ns:bookingConfirmation></soap:Body></soap:Envelope>"
    ).encode()
    assert reader().read_push(BEARER, body) == ["EB-XYZ"]


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"<unclosed",
        b"<notSoap/>",
        f'<soap:Envelope xmlns:soap="{SOAP11_ENVELOPE_NS}"><soap:Body><other/></soap:Body>'
        "</soap:Envelope>".encode(),
        # The right element in the API's namespace, not the background service's.
        f'<soap:Envelope xmlns:soap="{SOAP11_ENVELOPE_NS}"><soap:Body>'
        '<ns:bookingConfirmation xmlns:ns="http://autogenerated.OTWebServiceApi.xmbrace.com/">'
        "<primaryOrderNumber>EB-1</primaryOrderNumber></ns:bookingConfirmation>"
        "</soap:Body></soap:Envelope>".encode(),
        confirmation(number=""),
        b'<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>',
    ],
)
def test_a_body_that_is_no_booking_confirmation_is_rejected(body: bytes) -> None:
    with pytest.raises(BackendRejected):
        reader().read_push(BEARER, body)


def test_the_answers_are_soap() -> None:
    media, taken = reader().push_answer(None)
    assert media.startswith("text/xml")
    root = etree.fromstring(taken)
    answer = root.find(
        f"{{{SOAP11_ENVELOPE_NS}}}Body/{{{PUSH_NAMESPACE}}}bookingConfirmationResponse/return"
    )
    assert answer is not None and answer.findtext("status") == "success"
    _, refused = reader().push_answer("no token")
    body = etree.fromstring(refused).find(f"{{{SOAP11_ENVELOPE_NS}}}Body")
    fault = body.find(f"{{{SOAP11_ENVELOPE_NS}}}Fault") if body is not None else None
    assert fault is not None and fault.findtext("faultstring") == "no token"


def test_a_short_push_token_is_refused_by_the_settings() -> None:
    with pytest.raises(ValidationError, match="at least 16"):
        reader(push_token="short")
