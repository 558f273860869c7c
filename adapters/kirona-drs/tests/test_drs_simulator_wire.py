"""The simulator on the wire: hand-written SOAP requests and what a real DRS answers."""

from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from datetime import time as clock_time
from pathlib import Path

import httpx
import pytest
import zeep
from lxml import etree

from drs_helpers import (
    BASE_URL,
    PATH,
    FakeClock,
    availability_xml,
    booking_ids,
    codes_xml,
    create_order,
    envelope,
    open_session,
    order_xml,
    post,
    schedule_xml,
)
from repairs_gateway_kirona_drs.protocol import ORDER_NOT_FOUND, PLANNING_FAILED
from repairs_gateway_kirona_drs.simulator import DrsSimulator, SimulatorConfig, SlotTemplate
from repairs_gateway_kirona_drs.simulator.state import LONDON

# Monday 2 June 2025 in UTC, as clients send it: 00:00 London is 23:00 the day before.
WEEK_BEGIN = "2025-06-01T23:00:00Z"
WEEK_END = "2025-06-08T22:59:59Z"


def slot_times(answer_day: etree._Element) -> list[tuple[str, str, str]]:
    return [
        (s.findtext("beginDate"), s.findtext("endDate"), s.findtext("available"))
        for s in answer_day.findall("slotsForDay")
    ]


# ----------------------------------------------------------------------- WSDL and HTTP


async def test_wsdl_is_served_with_the_address_it_was_asked_at(
    http: httpx.AsyncClient, tmp_path: Path
) -> None:
    response = await http.get(PATH + "?wsdl")
    assert response.status_code == 200
    wsdl = etree.fromstring(response.content)
    address = wsdl.find(".//{http://schemas.xmlsoap.org/wsdl/soap/}address")
    assert address is not None and address.get("location") == BASE_URL + PATH
    # A SOAP toolkit can build a client from it.
    saved = tmp_path / "drs.wsdl"
    saved.write_bytes(response.content)
    client = zeep.Client(str(saved))
    assert "checkAvailability" in dir(client.service)


async def test_only_the_installation_path_answers(http: httpx.AsyncClient) -> None:
    response = await http.post("/OTWebServiceGateway_OTHER/ws/soap", content=b"<x/>")
    assert response.status_code == 404


async def test_a_soap_1_1_request_must_be_text_xml(http: httpx.AsyncClient) -> None:
    answer = await post(http, "openSession", "", content_type="application/json")
    assert answer.http_status == 415


# ----------------------------------------------------------------------- sessions


async def test_open_session_answers_a_32_hex_session_id(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    assert re.fullmatch(r"[0-9a-f]{32}", session)


async def test_wrong_credentials_are_a_status_error_on_http_200(http: httpx.AsyncClient) -> None:
    answer = await post(
        http, "openSession", "<id>0</id><login>gateway</login><password>guess</password>"
    )
    assert answer.http_status == 200
    assert answer.status == "error"
    assert answer.error
    assert answer.find("sessionId") is None


async def test_a_session_lasts_until_midnight_in_london_not_utc(
    http: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 6, 2, 23, 30, tzinfo=LONDON)  # 22:30 UTC
    session = await open_session(http)
    fields = availability_xml(session, WEEK_BEGIN, WEEK_END)
    clock.now = datetime(2025, 6, 2, 23, 59, tzinfo=LONDON)
    assert (await post(http, "checkAvailability", fields)).status == "success"
    clock.now = datetime(2025, 6, 3, 0, 1, tzinfo=LONDON)  # still 2 June in UTC
    expired = await post(http, "checkAvailability", fields)
    assert expired.http_status == 200
    assert expired.status == "error"
    assert "session" in (expired.error or "").lower()


async def test_a_closed_session_is_rejected(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    closed = await post(http, "closeSession", f"<id>0</id><sessionId>{session}</sessionId>")
    assert closed.status == "success"
    again = await post(http, "checkAvailability", availability_xml(session, WEEK_BEGIN, WEEK_END))
    assert again.status == "error"


# ----------------------------------------------------------------------- availability


async def test_a_window_longer_than_seven_days_is_cut_to_seven_with_a_warning(
    http: httpx.AsyncClient,
) -> None:
    session = await open_session(http)
    answer = await post(
        http, "checkAvailability", availability_xml(session, WEEK_BEGIN, "2025-06-11T22:59:59Z")
    )
    assert answer.status == "success"
    assert answer.error == "The number of days returned has been limited to 7 day"
    assert len(answer.findall("theSlots")) == 7


async def test_the_cap_can_be_raised_to_fourteen_days(clock: FakeClock) -> None:
    sim = DrsSimulator(SimulatorConfig(max_days=14), clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url=BASE_URL
    ) as http:
        session = await open_session(http)
        answer = await post(
            http,
            "checkAvailability",
            availability_xml(session, WEEK_BEGIN, "2025-06-15T22:59:59Z"),
        )
    assert answer.status == "success" and answer.error is None
    assert len(answer.findall("theSlots")) == 14


async def test_every_day_is_listed_and_weekends_have_no_slots(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    answer = await post(http, "checkAvailability", availability_xml(session, WEEK_BEGIN, WEEK_END))
    days = answer.findall("theSlots")
    assert [d.findtext("day") for d in days] == [
        f"2025-06-0{n}T00:00:00+01:00" for n in range(2, 9)
    ]
    saturday, sunday = days[5], days[6]
    for weekend in (saturday, sunday):
        assert weekend.find("slotsForDay") is None
        assert weekend.findtext("weeklyDayOff") == "true"
    assert all(d.find("slotsForDay") is not None for d in days[:5])


async def test_weekday_slots_follow_the_pattern_in_local_time(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    answer = await post(http, "checkAvailability", availability_xml(session, WEEK_BEGIN, WEEK_END))
    monday = answer.findall("theSlots")[0]
    assert slot_times(monday) == [
        ("2025-06-02T08:00:00+01:00", "2025-06-02T12:00:00+01:00", "YES"),
        ("2025-06-02T12:00:00+01:00", "2025-06-02T16:00:00+01:00", "YES"),
        ("2025-06-02T09:30:00+01:00", "2025-06-02T14:30:00+01:00", "YES"),
        ("2025-06-02T08:00:00+01:00", "2025-06-02T16:00:00+01:00", "YES"),
    ]


async def test_winter_times_carry_a_zero_offset(http: httpx.AsyncClient, clock: FakeClock) -> None:
    clock.now = datetime(2025, 1, 6, 7, 0, tzinfo=LONDON)
    session = await open_session(http)
    answer = await post(
        http,
        "checkAvailability",
        availability_xml(session, "2025-01-06T00:00:00Z", "2025-01-06T23:59:59Z"),
    )
    monday = answer.findall("theSlots")[0]
    assert monday.findtext("day") == "2025-01-06T00:00:00+00:00"
    assert slot_times(monday)[0][:2] == ("2025-01-06T08:00:00+00:00", "2025-01-06T12:00:00+00:00")


async def test_the_slot_pattern_is_configurable(clock: FakeClock) -> None:
    config = SimulatorConfig(pattern=(SlotTemplate(clock_time(7, 30), clock_time(10, 0)),))
    sim = DrsSimulator(config, clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url=BASE_URL
    ) as http:
        session = await open_session(http)
        answer = await post(
            http, "checkAvailability", availability_xml(session, WEEK_BEGIN, WEEK_END)
        )
    assert slot_times(answer.findall("theSlots")[0]) == [
        ("2025-06-02T07:30:00+01:00", "2025-06-02T10:00:00+01:00", "YES")
    ]


async def test_slots_already_started_are_not_available(
    http: httpx.AsyncClient, clock: FakeClock
) -> None:
    clock.now = datetime(2025, 6, 2, 10, 0, tzinfo=LONDON)
    session = await open_session(http)
    answer = await post(http, "checkAvailability", availability_xml(session, WEEK_BEGIN, WEEK_END))
    available = [s[2] for s in slot_times(answer.findall("theSlots")[0])]
    assert available == ["NO", "YES", "NO", "NO"]


async def test_unknown_sor_code_is_refused(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    answer = await post(
        http, "checkAvailability", availability_xml(session, WEEK_BEGIN, WEEK_END, sor="NOPE")
    )
    assert answer.http_status == 200 and answer.status == "error"
    assert "NOPE" in (answer.error or "")


# ----------------------------------------------------------------------- orders and bookings


async def test_create_order_answers_ids_and_a_planned_booking(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    answer = await create_order(http, session, "NF-AAAAAAA")
    assert answer.status == "success"
    order_id, booking_id = booking_ids(answer)
    assert order_id.isdigit() and booking_id.isdigit()
    booking = answer.find("theOrder/theBookings")
    assert booking is not None
    assert booking.findtext("bookingLifeCycleStatus") == "PLANNED"
    assert booking.findtext("theBookingCodes/trade") == "plumbing"
    assert booking.findtext("duration") == "60"
    assert booking.findtext("tokenId")


@pytest.mark.parametrize(
    ("comments", "accepted"),
    [
        ("", False),
        ("   ", False),
        ("x" * 255, True),
        ("x" * 256, False),
        # Counted as Java does, in UTF-16 code units: an emoji is two.
        ("\N{WRENCH}" * 127 + "x", True),
        ("\N{WRENCH}" * 128, False),
    ],
)
async def test_order_comments_are_required_and_at_most_255_characters(
    http: httpx.AsyncClient, comments: str, accepted: bool
) -> None:
    session = await open_session(http)
    answer = await create_order(http, session, "NF-COMMENT", comments=comments)
    assert answer.http_status == 200
    assert (answer.status == "success") is accepted
    if not accepted:
        assert "orderComments" in (answer.error or "")


async def test_a_duplicate_primary_order_number_is_refused(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    assert (await create_order(http, session, "NF-DUPLICA")).status == "success"
    again = await create_order(http, session, "NF-DUPLICA")
    assert again.status == "error"
    assert "already exists" in (again.error or "")


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"contract": "OTHER"}, "Contract"),
        ({"priority": ""}, "Priority is mandatory"),
        ({"priority": "Z9"}, "Priority"),
        ({"codes": ""}, "booking code"),
        ({"codes": codes_xml("NF-RULES01", quantity="0")}, "quantity"),
        ({"codes": codes_xml("NF-RULES01", item="0")}, "itemNumberWithinBooking"),
    ],
)
async def test_create_order_applies_drs_rules(
    http: httpx.AsyncClient, change: dict[str, str], fragment: str
) -> None:
    session = await open_session(http)
    answer = await create_order(http, session, "NF-RULES01", **change)
    assert answer.status == "error"
    assert fragment in (answer.error or "")


async def test_unknown_orders_get_drs_own_texts(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    selected = await post(
        http,
        "selectOrder",
        f"<id>0</id><includeCompletedBookings>true</includeCompletedBookings>"
        f"<primaryOrderNumber>NF-NOTHERE</primaryOrderNumber><sessionId>{session}</sessionId>",
    )
    assert selected.status == "error"
    assert selected.error == ORDER_NOT_FOUND
    deleted = await post(
        http,
        "deleteOrder",
        f"<id>0</id><sessionId>{session}</sessionId><theOrder>{order_xml('NF-NOTHERE')}</theOrder>",
    )
    assert deleted.status == "error"
    assert "no order exists" in (deleted.error or "")


async def test_capacity_is_per_slot_and_trade_and_freed_by_delete(
    http: httpx.AsyncClient,
) -> None:
    session = await open_session(http)
    start, end = "2025-06-03T07:00:00Z", "2025-06-03T11:00:00Z"  # 08:00-12:00 London
    orders = []
    for n in range(3):
        created = await create_order(http, session, f"NF-CAP000{n}")
        order_id, booking_id = booking_ids(created)
        orders.append(order_id)
        scheduled = await post(
            http,
            "scheduleBooking",
            schedule_xml(session, booking_id, order_id, f"NF-CAP000{n}", start, end),
        )
        expected = "success" if n < 2 else "error"  # two plumbers free in that slot
        assert scheduled.status == expected, scheduled.error
    assert scheduled.error == PLANNING_FAILED

    async def tuesday_morning(sor: str) -> str | None:
        answer = await post(
            http,
            "checkAvailability",
            availability_xml(session, WEEK_BEGIN, WEEK_END, sor=sor),
        )
        return answer.findtext("theSlots[2]/slotsForDay/available")

    assert await tuesday_morning("20060020") == "NO"  # plumbing: full
    assert await tuesday_morning("20300050") == "YES"  # electrical: free

    first = order_xml("NF-CAP0000").replace(
        "<orderId>0</orderId>", f"<orderId>{orders[0]}</orderId>"
    )
    deleted = await post(
        http,
        "deleteOrder",
        f"<id>0</id><sessionId>{session}</sessionId><theOrder>{first}</theOrder>",
    )
    assert deleted.status == "success"
    assert await tuesday_morning("20060020") == "YES"


async def test_schedule_booking_again_moves_the_booking(
    http: httpx.AsyncClient, sim: DrsSimulator
) -> None:
    session = await open_session(http)
    order_id, booking_id = booking_ids(await create_order(http, session, "NF-MOVE001"))
    for start, end in [
        ("2025-06-03T07:00:00Z", "2025-06-03T11:00:00Z"),
        ("2025-06-04T11:00:00Z", "2025-06-04T15:00:00Z"),
    ]:
        moved = await post(
            http,
            "scheduleBooking",
            schedule_xml(session, booking_id, order_id, "NF-MOVE001", start, end),
        )
        assert moved.status == "success"
    (held,) = sim.state.held_windows("NF-MOVE001")
    assert held[0] == datetime(2025, 6, 4, 12, 0, tzinfo=LONDON)


async def test_a_window_that_is_not_a_slot_cannot_be_booked(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    order_id, booking_id = booking_ids(await create_order(http, session, "NF-ODDSLOT"))
    for start, end in [
        ("2025-06-03T07:15:00Z", "2025-06-03T11:00:00Z"),  # not on the pattern
        ("2025-06-07T07:00:00Z", "2025-06-07T11:00:00Z"),  # a Saturday
    ]:
        answer = await post(
            http,
            "scheduleBooking",
            schedule_xml(session, booking_id, order_id, "NF-ODDSLOT", start, end),
        )
        assert answer.status == "error" and answer.error == PLANNING_FAILED


async def test_select_order_shows_the_life_cycle(
    http: httpx.AsyncClient, sim: DrsSimulator
) -> None:
    session = await open_session(http)
    _, booking_id = booking_ids(await create_order(http, session, "NF-LIFE001"))
    sim.state.set_status(int(booking_id), "COMPLETED")
    fields = (
        "<id>0</id><includeCompletedBookings>{flag}</includeCompletedBookings>"
        "<primaryOrderNumber>NF-LIFE001</primaryOrderNumber><sessionId>{session}</sessionId>"
    )
    everything = await post(http, "selectOrder", fields.format(flag="true", session=session))
    assert everything.findtext("theOrders/theBookings/bookingLifeCycleStatus") == "COMPLETED"
    assert everything.findtext("theOrders/status") == "COMPLETED"
    open_only = await post(http, "selectOrder", fields.format(flag="false", session=session))
    assert open_only.find("theOrders/theBookings") is None


# ----------------------------------------------------------------------- what DRS refuses to read


async def test_the_soap_action_must_match_the_operation(http: httpx.AsyncClient) -> None:
    fields = "<id>0</id><login>gateway</login><password>drs-sim-password</password>"
    for action in ("", "http://autogenerated.OTWebServiceApi.xmbrace.com/SOAP/closeSession"):
        answer = await post(http, "openSession", fields, action=action)
        assert answer.http_status == 500
        assert "SOAPAction" in (answer.fault or "")


async def test_an_outer_wrapper_without_namespace_is_an_unmarshalling_error(
    http: httpx.AsyncClient,
) -> None:
    fields = "<id>0</id><login>gateway</login><password>drs-sim-password</password>"
    answer = await post(http, "openSession", fields, namespaced=False)
    assert answer.http_status == 500
    assert answer.fault == (
        "Unmarshalling Error: Namespace URIs and local names to the unmarshaller needs to be "
        "interned."
    )


async def test_a_namespaced_inner_element_is_refused(http: httpx.AsyncClient) -> None:
    ns = "http://autogenerated.OTWebServiceApi.xmbrace.com/"
    body = envelope("openSession", "").replace(
        b"<openSession></openSession>",
        f'<x:openSession xmlns:x="{ns}"><id>0</id><login>gateway</login>'
        "<password>drs-sim-password</password></x:openSession>".encode(),
    )
    answer = await post(http, "openSession", "", body=body)
    assert answer.http_status == 500
    assert (answer.fault or "").startswith("Unmarshalling Error")


async def test_a_request_missing_a_required_field_is_refused(http: httpx.AsyncClient) -> None:
    answer = await post(http, "openSession", "<id>0</id><login>gateway</login>")
    assert answer.http_status == 500
    assert "password" in (answer.fault or "")


async def test_malformed_xml_is_a_soap_fault_with_http_500(http: httpx.AsyncClient) -> None:
    answer = await post(http, "openSession", "", body=b"<soapenv:Envelope><unclosed>")
    assert answer.http_status == 500
    assert answer.fault


# ----------------------------------------------------------------------- latency and failures


async def test_latency_is_added_to_every_call(clock: FakeClock) -> None:
    sim = DrsSimulator(SimulatorConfig(latency_ms=80), clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url=BASE_URL
    ) as http:
        began = time.perf_counter()
        await open_session(http)
        assert time.perf_counter() - began >= 0.08


async def test_random_failures_are_seeded_and_of_every_kind(clock: FakeClock) -> None:
    async def outcomes(seed: int) -> list[str]:
        sim = DrsSimulator(SimulatorConfig(fail_rate=0.5, seed=seed), clock=clock)
        seen = []
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=sim.app), base_url=BASE_URL
        ) as http:
            for _ in range(40):
                fields = "<id>0</id><login>gateway</login><password>drs-sim-password</password>"
                response = await http.post(
                    PATH,
                    content=envelope("openSession", fields),
                    headers={
                        "Content-Type": "text/xml",
                        "SOAPAction": "http://autogenerated.OTWebServiceApi.xmbrace.com/SOAP/openSession",
                    },
                )
                seen.append(_kind(response))
        return seen

    first = await outcomes(7)
    assert first == await outcomes(7)
    assert {"ok", "http503", "broken"} <= set(first)
    assert 8 <= first.count("ok") <= 32


def _kind(response: httpx.Response) -> str:
    if response.status_code == 503:
        return "http503"
    try:
        etree.fromstring(response.content)
    except etree.XMLSyntaxError:
        return "broken"
    return "ok"


async def test_fail_next_answers_the_chosen_error_once(
    http: httpx.AsyncClient, sim: DrsSimulator
) -> None:
    session = await open_session(http)
    sim.state.fail_next("createOrder", status="failure", message="Database locked")
    failed = await create_order(http, session, "NF-FAILNXT")
    assert failed.http_status == 200
    assert (failed.status, failed.error) == ("failure", "Database locked")
    assert sim.state.find_orders(numbers=["NF-FAILNXT"]) == []
    assert (await create_order(http, session, "NF-FAILNXT")).status == "success"


async def test_a_garbled_answer_still_carries_out_the_call(
    http: httpx.AsyncClient, sim: DrsSimulator
) -> None:
    session = await open_session(http)
    sim.state.fail_next("createOrder", transport="garbled")
    answer = await create_order(http, session, "NF-GARBLED")
    with pytest.raises(etree.XMLSyntaxError):
        etree.fromstring(answer.body)
    assert len(sim.state.find_orders(numbers=["NF-GARBLED"])) == 1


async def test_describe_names_the_endpoint_and_credentials(sim: DrsSimulator) -> None:
    text = sim.describe("http://127.0.0.1:8081")
    assert "http://127.0.0.1:8081/OTWebServiceGateway_SIM/ws/soap" in text
    assert "gateway" in text and "drs-sim-password" in text


def test_sessions_expire_with_the_calendar_day_in_state(clock: FakeClock) -> None:
    sim = DrsSimulator(clock=clock)
    session = sim.state.open_session("gateway", "drs-sim-password")
    clock.now += timedelta(days=1)
    with pytest.raises(Exception, match="session"):
        sim.state.require_session(session)
