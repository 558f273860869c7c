"""The simulator's test-only JSON controls under /_simulator/ (not part of DRS): what DRS
holds, holding a call before or after it is carried out, and status changes."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest
from repairs_gateway.serving import serve_asgi

from drs_helpers import (
    PATH,
    Answer,
    booking_ids,
    create_order,
    envelope,
    open_session,
    post,
    schedule_xml,
)
from repairs_gateway_kirona_drs.protocol import SOAP_ACTION_PREFIX
from repairs_gateway_kirona_drs.simulator import DrsSimulator, control

# Monday 2 June 2025 (the fixture clock is 07:00 that day, London summer time).
MORNING = ("2025-06-02T07:00:00Z", "2025-06-02T11:00:00Z")
MORNING_LOCAL = ("2025-06-02T08:00:00+01:00", "2025-06-02T12:00:00+01:00")
AFTERNOON_LOCAL = ("2025-06-02T12:00:00+01:00", "2025-06-02T16:00:00+01:00")


async def orders(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await http.get("/_simulator/orders")
    assert response.status_code == 200, response.text
    listed: list[dict[str, Any]] = response.json()["orders"]
    return listed


async def held(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/_simulator/held")
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def hold(http: httpx.AsyncClient, operation: str, phase: str, count: int = 1) -> None:
    response = await http.post(
        "/_simulator/hold", json={"operation": operation, "phase": phase, "count": count}
    )
    assert response.status_code == 200, response.text


async def release(http: httpx.AsyncClient, *, drop: bool) -> dict[str, int]:
    response = await http.post("/_simulator/release", json={"drop": drop})
    assert response.status_code == 200, response.text
    counts: dict[str, int] = response.json()
    return counts


async def until_held(http: httpx.AsyncClient, count: int = 1) -> list[dict[str, Any]]:
    """The held calls, once ``count`` of them are held."""
    for _ in range(500):
        calls: list[dict[str, Any]] = (await held(http))["held"]
        if len(calls) >= count:
            return calls
        await asyncio.sleep(0.002)
    raise AssertionError("the call was never held")


async def created(http: httpx.AsyncClient, session: str, number: str) -> tuple[str, str]:
    answer = await create_order(http, session, number)
    assert answer.status == "success", answer.error
    return booking_ids(answer)


async def schedule(
    http: httpx.AsyncClient, session: str, ids: tuple[str, str], number: str
) -> Answer:
    order_id, booking_id = ids
    return await post(
        http, "scheduleBooking", schedule_xml(session, booking_id, order_id, number, *MORNING)
    )


# ----------------------------------------------------------------------- what DRS holds


async def test_orders_lists_created_and_scheduled_orders_with_local_windows(
    http: httpx.AsyncClient,
) -> None:
    assert await orders(http) == []
    session = await open_session(http)
    ids = await created(http, session, "EB-1")
    [order] = await orders(http)
    assert order["primaryOrderNumber"] == "EB-1"
    assert str(order["orderId"]) == ids[0]
    assert order["contract"] == "REPAIRS"
    # Created but not scheduled: DRS reads PLANNED over a default window; the flag tells.
    assert order["scheduled"] is False
    [booking] = order["bookings"]
    assert str(booking["bookingId"]) == ids[1]
    assert booking["bookingLifeCycleStatus"] == "PLANNED"
    assert booking["scheduled"] is False
    assert booking["planningWindowStart"].endswith("+01:00")

    answer = await schedule(http, session, ids, "EB-1")
    assert answer.status == "success", answer.error
    [order] = await orders(http)
    assert order["scheduled"] is True
    [booking] = order["bookings"]
    assert booking["scheduled"] is True
    assert (booking["planningWindowStart"], booking["planningWindowEnd"]) == MORNING_LOCAL
    assert booking["timeLock"] is True


# ----------------------------------------------------------------------- holding calls


async def test_a_call_held_before_and_dropped_is_never_carried_out(
    http: httpx.AsyncClient, sim: DrsSimulator
) -> None:
    session = await open_session(http)
    await hold(http, "createOrder", "before")
    assert (await held(http))["armed"] == [
        {"operation": "createOrder", "phase": "before", "count": 1}
    ]
    call = asyncio.create_task(create_order(http, session, "EB-2"))
    [waiting] = await until_held(http)
    assert waiting["operation"] == "createOrder"
    assert waiting["phase"] == "before"
    assert waiting["primaryOrderNumber"] == "EB-2"
    assert (await held(http))["armed"] == []
    assert await orders(http) == []

    assert await release(http, drop=True) == {"released": 1, "disarmed": 0}
    answer = await call
    assert answer.http_status == 503
    assert await orders(http) == []
    assert (await held(http))["held"] == []
    assert sim.state.calls["createOrder"] == 1


async def test_a_call_held_before_and_released_is_carried_out(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    await hold(http, "createOrder", "before")
    call = asyncio.create_task(create_order(http, session, "EB-3"))
    await until_held(http)
    assert await orders(http) == []
    await release(http, drop=False)
    # The release answers once the call has run: DRS holds the order now.
    assert [o["primaryOrderNumber"] for o in await orders(http)] == ["EB-3"]
    answer = await call
    assert answer.status == "success", answer.error


async def test_a_call_held_after_is_carried_out_and_its_answer_waits(
    http: httpx.AsyncClient,
) -> None:
    session = await open_session(http)
    ids = await created(http, session, "EB-4")
    await hold(http, "scheduleBooking", "after")
    call = asyncio.create_task(schedule(http, session, ids, "EB-4"))
    [waiting] = await until_held(http)
    assert (waiting["operation"], waiting["phase"]) == ("scheduleBooking", "after")
    assert waiting["primaryOrderNumber"] == "EB-4"
    assert not call.done()
    [order] = await orders(http)
    assert order["scheduled"] is True  # carried out already; only the answer is held
    await release(http, drop=False)
    answer = await call
    assert answer.status == "success", answer.error


async def test_an_answer_held_after_and_dropped_is_lost_but_the_call_stands(
    http: httpx.AsyncClient,
) -> None:
    session = await open_session(http)
    ids = await created(http, session, "EB-5")
    await hold(http, "scheduleBooking", "after")
    call = asyncio.create_task(schedule(http, session, ids, "EB-5"))
    await until_held(http)
    await release(http, drop=True)
    answer = await call
    assert answer.result is None  # cut short: nothing readable comes back
    [order] = await orders(http)
    assert order["scheduled"] is True


async def test_count_holds_that_many_calls_and_release_disarms_the_rest(
    http: httpx.AsyncClient,
) -> None:
    session = await open_session(http)
    await hold(http, "createOrder", "before", count=3)
    calls = [asyncio.create_task(create_order(http, session, f"EB-6{n}")) for n in range(2)]
    waiting = await until_held(http, 2)
    assert sorted(c["primaryOrderNumber"] for c in waiting) == ["EB-60", "EB-61"]
    assert (await held(http))["armed"] == [
        {"operation": "createOrder", "phase": "before", "count": 1}
    ]
    assert await release(http, drop=False) == {"released": 2, "disarmed": 1}
    assert all(a.status == "success" for a in await asyncio.gather(*calls))
    # Nothing is armed any more: the next call goes straight through.
    answer = await create_order(http, session, "EB-62")
    assert answer.status == "success", answer.error


async def test_fail_answers_that_many_calls_503_without_carrying_them_out(
    http: httpx.AsyncClient, sim: DrsSimulator
) -> None:
    session = await open_session(http)
    failing = await http.post("/_simulator/fail", json={"operation": "createOrder", "count": 2})
    assert failing.json() == {"operation": "createOrder", "failing": 2}
    # A retrying gateway meets DRS down at every try, then DRS is back.
    assert (await create_order(http, session, "EB-81")).http_status == 503
    assert (await create_order(http, session, "EB-81")).http_status == 503
    assert await orders(http) == []
    assert (await create_order(http, session, "EB-81")).status == "success"
    assert sim.state.calls["createOrder"] == 3


async def test_fail_with_count_0_forgets_the_failures_not_yet_met(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    await http.post("/_simulator/fail", json={"operation": "createOrder", "count": 3})
    forgotten = await http.post("/_simulator/fail", json={"operation": "createOrder", "count": 0})
    assert forgotten.json() == {"operation": "createOrder", "forgotten": 3}
    assert (await create_order(http, session, "EB-82")).status == "success"
    refused = await http.post("/_simulator/fail", json={"operation": "nothing", "count": 1})
    assert refused.status_code == 422


async def test_holds_are_per_operation_and_phase(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    await hold(http, "scheduleBooking", "before")
    await hold(http, "createOrder", "after")
    call = asyncio.create_task(create_order(http, session, "EB-7"))
    [waiting] = await until_held(http)
    assert (waiting["operation"], waiting["phase"]) == ("createOrder", "after")
    await release(http, drop=False)
    assert (await call).status == "success"


async def test_a_call_held_past_the_limit_is_dropped(
    http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(control, "HOLD_LIMIT_SECONDS", 0.05)
    session = await open_session(http)
    await hold(http, "createOrder", "before")
    answer = await create_order(http, session, "EB-8")
    assert answer.http_status == 503
    assert await orders(http) == []


async def test_selectorder_holds_name_the_order_asked_for(http: httpx.AsyncClient) -> None:
    session = await open_session(http)
    await hold(http, "selectOrder", "before")
    fields = (
        f"<id>0</id><includeCompletedBookings>true</includeCompletedBookings>"
        f"<primaryOrderNumber>EB-9</primaryOrderNumber><sessionId>{session}</sessionId>"
    )
    call = asyncio.create_task(post(http, "selectOrder", fields))
    [waiting] = await until_held(http)
    assert waiting["primaryOrderNumber"] == "EB-9"
    await release(http, drop=False)
    assert (await call).status == "error"  # no such order


@pytest.mark.parametrize(
    "body",
    [
        {"operation": "bookIt", "phase": "before"},
        {"operation": "createOrder", "phase": "during"},
        {"operation": "createOrder", "phase": "before", "count": 0},
        {"operation": "createOrder", "phase": "before", "count": True},
        {"operation": "createOrder", "phase": "before", "count": "1"},
    ],
)
async def test_hold_refuses_what_it_cannot_do(
    http: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await http.post("/_simulator/hold", json=body)
    assert response.status_code == 422
    assert response.json()["error"]
    assert (await held(http))["armed"] == []


async def test_controls_refuse_a_body_that_is_not_a_json_object(http: httpx.AsyncClient) -> None:
    for body in (b"not json", b"[1]"):
        response = await http.post("/_simulator/hold", content=body)
        assert response.status_code == 400
    assert (await http.post("/_simulator/release", content=b"")).status_code == 200


def test_a_dropped_answer_reaches_a_real_client_as_a_lost_connection(sim: DrsSimulator) -> None:
    """Over a real server, as the crash tests use it: ``before`` + drop is a 503, and an
    ``after`` answer dropped is a connection closed mid-answer."""

    def soap(client: httpx.Client, operation: str, fields: str) -> httpx.Response:
        return client.post(
            PATH,
            content=envelope(operation, fields),
            headers={
                "Content-Type": "text/xml; charset=utf-8",
                "SOAPAction": f'"{SOAP_ACTION_PREFIX}{operation}"',
            },
        )

    def until_held_sync(client: httpx.Client) -> None:
        for _ in range(500):
            if client.get("/_simulator/held").json()["held"]:
                return
            threading.Event().wait(0.01)
        raise AssertionError("the call was never held")

    with serve_asgi(sim.app, "drs") as url, httpx.Client(base_url=url, timeout=10) as client:
        login = "<id>0</id><login>gateway</login><password>drs-sim-password</password>"
        client.post("/_simulator/hold", json={"operation": "openSession", "phase": "before"})
        outcome: dict[str, Any] = {}

        def call(name: str) -> None:
            with httpx.Client(base_url=url, timeout=10) as own:
                try:
                    outcome[name] = soap(own, "openSession", login).status_code
                except httpx.HTTPError as exc:
                    outcome[name] = type(exc).__name__

        worker = threading.Thread(target=call, args=("before",))
        worker.start()
        until_held_sync(client)
        client.post("/_simulator/release", json={"drop": True})
        worker.join(10)
        assert outcome["before"] == 503
        assert sim.state.sessions_opened == 0

        client.post("/_simulator/hold", json={"operation": "openSession", "phase": "after"})
        worker = threading.Thread(target=call, args=("after",))
        worker.start()
        until_held_sync(client)
        client.post("/_simulator/release", json={"drop": True})
        worker.join(10)
        assert outcome["after"] == "RemoteProtocolError"
        assert sim.state.sessions_opened == 1


# ----------------------------------------------------------------------- status changes


async def test_status_moves_a_booking_along_its_life_cycle(
    http: httpx.AsyncClient, sim: DrsSimulator
) -> None:
    session = await open_session(http)
    ids = await created(http, session, "EB-10")
    await schedule(http, session, ids, "EB-10")
    response = await http.post("/_simulator/orders/EB-10/status", json={"status": "ARRIVED"})
    assert response.status_code == 200, response.text
    assert response.json()["bookings"][0]["bookingLifeCycleStatus"] == "ARRIVED"
    fields = (
        f"<id>0</id><includeCompletedBookings>true</includeCompletedBookings>"
        f"<primaryOrderNumber>EB-10</primaryOrderNumber><sessionId>{session}</sessionId>"
    )
    answer = await post(http, "selectOrder", fields)
    assert answer.findtext("theOrders/theBookings/bookingLifeCycleStatus") == "ARRIVED"
    # DRS will not reschedule a booking an operative has arrived at.
    again = await schedule(http, session, ids, "EB-10")
    assert again.status == "error"


async def test_status_moves_a_window_as_a_contractor_would(
    http: httpx.AsyncClient, sim: DrsSimulator
) -> None:
    session = await open_session(http)
    ids = await created(http, session, "EB-11")
    await schedule(http, session, ids, "EB-11")
    start, end = AFTERNOON_LOCAL
    response = await http.post("/_simulator/orders/EB-11/status", json={"start": start, "end": end})
    assert response.status_code == 200, response.text
    [booking] = response.json()["bookings"]
    assert (booking["planningWindowStart"], booking["planningWindowEnd"]) == AFTERNOON_LOCAL
    assert booking["bookingLifeCycleStatus"] == "PLANNED"
    # The diary follows: the morning place is free again, the afternoon one taken.
    [(held_start, held_end)] = sim.state.held_windows("EB-11")
    assert (held_start.isoformat(), held_end.isoformat()) == AFTERNOON_LOCAL

    both = await http.post(
        "/_simulator/orders/EB-11/status",
        json={"status": "COMPLETED", "start": MORNING[0], "end": MORNING[1]},
    )
    [booking] = both.json()["bookings"]
    assert booking["bookingLifeCycleStatus"] == "COMPLETED"
    assert (booking["planningWindowStart"], booking["planningWindowEnd"]) == MORNING_LOCAL


async def test_status_schedules_an_unscheduled_booking_when_given_a_window(
    http: httpx.AsyncClient,
) -> None:
    session = await open_session(http)
    await created(http, session, "EB-12")
    response = await http.post(
        "/_simulator/orders/EB-12/status",
        json={"start": MORNING_LOCAL[0], "end": MORNING_LOCAL[1]},
    )
    assert response.json()["scheduled"] is True


@pytest.mark.parametrize(
    ("path", "body", "status_code"),
    [
        ("/_simulator/orders/NOPE/status", {"status": "ARRIVED"}, 404),
        ("/_simulator/orders/EB-13/status", {"status": "ARRIVED", "bookingId": 1}, 404),
        ("/_simulator/orders/EB-13/status", {"status": "LOST"}, 422),
        ("/_simulator/orders/EB-13/status", {}, 422),
        ("/_simulator/orders/EB-13/status", {"start": MORNING_LOCAL[0]}, 422),
        (
            "/_simulator/orders/EB-13/status",
            {"start": "2025-06-02T08:00:00", "end": "2025-06-02T12:00:00"},
            422,
        ),
        (
            "/_simulator/orders/EB-13/status",
            {"start": MORNING_LOCAL[1], "end": MORNING_LOCAL[0]},
            422,
        ),
        ("/_simulator/orders/EB-13/status", {"start": 5, "end": 6}, 422),
    ],
)
async def test_status_refuses_what_it_cannot_do(
    http: httpx.AsyncClient, path: str, body: dict[str, Any], status_code: int
) -> None:
    session = await open_session(http)
    await created(http, session, "EB-13")
    response = await http.post(path, json=body)
    assert response.status_code == status_code, response.text
    assert response.json()["error"]
    [order] = await orders(http)
    assert order["bookings"][0]["bookingLifeCycleStatus"] == "PLANNED"
    assert order["scheduled"] is False
