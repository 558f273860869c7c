"""Failures at every step: what the adaptor reports is what DRS holds."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import pytest
from repairs_gateway.ports import (
    AdapterContext,
    AdapterError,
    BackendRejected,
    BackendUnavailable,
    Booking,
    Slot,
    SlotQuery,
    SlotUnavailable,
)

from drs_helpers import BASE_URL, FakeClock, request_for
from repairs_gateway_kirona_drs import DrsScheduler, DrsSettings
from repairs_gateway_kirona_drs.client import UNSENDABLE, UnreadableAnswer
from repairs_gateway_kirona_drs.simulator import DrsSimulator, SimulatorConfig
from repairs_gateway_kirona_drs.simulator.soap import SoapFault, fault_envelope
from repairs_gateway_kirona_drs.simulator.state import TransportFailure

SECRET_TEXT = "ORA-00054 resource busy"  # what DRS might say: never for residents

Failure = tuple[str, TransportFailure | None]
FAILURES: list[Failure] = [
    ("error", None),
    ("failure", None),
    ("", "http503"),
    ("", "garbled"),
    ("", "dropped"),
]


def inject(sim: DrsSimulator, operation: str, failure: Failure) -> None:
    status, transport = failure
    sim.state.fail_next(
        operation, status=status or "error", message=SECRET_TEXT, transport=transport
    )


def flagged(error: AdapterError) -> bool:
    """Whether the error says DRS may have been left holding something."""
    return bool(re.search(r"half-booked|may exist|outcome unknown", error.detail or ""))


def held(sim: DrsSimulator, reference: str) -> list[tuple[Any, Any]]:
    return sim.state.held_windows(reference)


@pytest.fixture
async def slots(scheduler: DrsScheduler, week: SlotQuery) -> list[Slot]:
    return list(await scheduler.slots(week))


# ----------------------------------------------------------------------- every step, every way


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f[1] or f[0])
@pytest.mark.parametrize(
    "operation", ["createOrder", "scheduleBooking", "selectOrder", "deleteOrder"]
)
async def test_book_reports_only_what_drs_holds(
    scheduler: DrsScheduler,
    sim: DrsSimulator,
    week: SlotQuery,
    slots: list[Slot],
    operation: str,
    failure: Failure,
) -> None:
    inject(sim, operation, failure)
    try:
        booking = await scheduler.book(request_for(week, slots[0]))
    except AdapterError as error:
        assert SECRET_TEXT not in str(error)
        if not flagged(error):
            assert held(sim, "NF-7KQ3M9X") == []
            assert sim.state.find_orders(numbers=["NF-7KQ3M9X"]) == []
    else:
        assert booking.reference == "NF-7KQ3M9X"
        assert held(sim, "NF-7KQ3M9X") == [(slots[0].start, slots[0].end)]


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f[1] or f[0])
@pytest.mark.parametrize("operation", ["scheduleBooking", "selectOrder"])
async def test_reschedule_reports_only_what_drs_holds(
    scheduler: DrsScheduler,
    sim: DrsSimulator,
    week: SlotQuery,
    slots: list[Slot],
    operation: str,
    failure: Failure,
) -> None:
    booking = await scheduler.book(request_for(week, slots[0]))
    inject(sim, operation, failure)
    try:
        await scheduler.reschedule(booking, week.job, slots[-1])
    except AdapterError as error:
        assert SECRET_TEXT not in str(error)
        assert held(sim, "NF-7KQ3M9X") == [(slots[0].start, slots[0].end)]
    else:
        assert held(sim, "NF-7KQ3M9X") == [(slots[-1].start, slots[-1].end)]


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f[1] or f[0])
@pytest.mark.parametrize("operation", ["selectOrder", "deleteOrder"])
async def test_cancel_reports_only_what_drs_did(
    scheduler: DrsScheduler,
    sim: DrsSimulator,
    week: SlotQuery,
    slots: list[Slot],
    operation: str,
    failure: Failure,
) -> None:
    booking = await scheduler.book(request_for(week, slots[0]))
    inject(sim, operation, failure)
    try:
        await scheduler.cancel(booking)
    except AdapterError as error:
        assert SECRET_TEXT not in str(error)
        assert held(sim, "NF-7KQ3M9X") == [(slots[0].start, slots[0].end)]
    else:
        assert sim.state.find_orders(numbers=["NF-7KQ3M9X"]) == []


@pytest.mark.parametrize("failure", FAILURES, ids=lambda f: f[1] or f[0])
async def test_status_failures_are_typed(
    scheduler: DrsScheduler,
    sim: DrsSimulator,
    week: SlotQuery,
    slots: list[Slot],
    failure: Failure,
) -> None:
    booking = await scheduler.book(request_for(week, slots[0]))
    inject(sim, "selectOrder", failure)
    expected = BackendRejected if failure[1] is None else BackendUnavailable
    with pytest.raises(expected) as caught:
        await scheduler.status(booking)
    assert SECRET_TEXT not in str(caught.value)
    if failure[1] is None:
        assert SECRET_TEXT in (caught.value.detail or "")


# ----------------------------------------------------------------------- particular cases


async def test_drs_errors_keep_their_text_in_the_detail_only(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery, slots: list[Slot]
) -> None:
    sim.state.fail_next("createOrder", message=SECRET_TEXT)
    with pytest.raises(BackendRejected) as caught:
        await scheduler.book(request_for(week, slots[0]))
    assert SECRET_TEXT in (caught.value.detail or "")
    assert SECRET_TEXT not in str(caught.value)


async def test_a_failed_schedule_leaves_no_order_behind(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery, slots: list[Slot]
) -> None:
    sim.state.fail_next("scheduleBooking", message="Error in Booking.schedule. Resource locked")
    with pytest.raises(BackendRejected):
        await scheduler.book(request_for(week, slots[0]))
    assert sim.state.orders == {}
    assert sim.state.calls["deleteOrder"] == 1


async def test_a_lost_schedule_answer_keeps_the_booking_drs_made(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery, slots: list[Slot]
) -> None:
    sim.state.fail_next("scheduleBooking", transport="garbled")  # scheduled, answer lost
    booking = await scheduler.book(request_for(week, slots[0]))
    assert held(sim, booking.reference) == [(slots[0].start, slots[0].end)]


async def test_when_the_undo_fails_too_the_error_names_the_half_booked_order(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery, slots: list[Slot]
) -> None:
    for n in range(2):
        await scheduler.book(request_for(week, slots[0], f"NF-FILL000{n}"))
    sim.state.fail_next("deleteOrder", transport="http503")

    # Not SlotUnavailable, though the window was taken: that would tell the gateway that
    # nothing is held, and it would forget a repair whose order DRS keeps.
    with pytest.raises(BackendUnavailable) as caught:
        await scheduler.book(request_for(week, slots[0]))

    (order,) = sim.state.find_orders(numbers=["NF-7KQ3M9X"])
    detail = caught.value.detail or ""
    assert "half-booked" in detail
    assert "SlotUnavailable" in detail
    assert f"orderId={order.order_id}" in detail
    assert f"bookingId={order.bookings[0].booking_id}" in detail
    assert held(sim, "NF-7KQ3M9X") == []

    # The gateway keeps the repair, so a later cancel clears the order.
    await scheduler.cancel(Booking("NF-7KQ3M9X"))
    assert sim.state.find_orders(numbers=["NF-7KQ3M9X"]) == []


async def test_booking_again_after_a_half_booking_adopts_the_order(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery, slots: list[Slot]
) -> None:
    sim.state.fail_next("scheduleBooking", transport="http503")
    sim.state.fail_next("deleteOrder", transport="http503")
    with pytest.raises(BackendUnavailable):
        await scheduler.book(request_for(week, slots[0]))
    assert len(sim.state.find_orders(numbers=["NF-7KQ3M9X"])) == 1

    booking = await scheduler.book(request_for(week, slots[1]))

    (order,) = sim.state.find_orders(numbers=["NF-7KQ3M9X"])
    assert booking.backend_refs["orderId"] == str(order.order_id)
    assert held(sim, "NF-7KQ3M9X") == [(slots[1].start, slots[1].end)]


async def test_someone_elses_order_with_our_reference_is_not_adopted(
    scheduler: DrsScheduler, week: SlotQuery, slots: list[Slot], address: Any
) -> None:
    await scheduler.book(request_for(week, slots[0]))
    elsewhere = dataclasses.replace(address, property_ref="00099999")
    with pytest.raises(BackendRejected) as caught:
        await scheduler.book(request_for(week, slots[1], address=elsewhere))
    assert "already exists" in (caught.value.detail or "")


async def test_a_call_that_never_answers_times_out_as_unavailable(
    settings: DrsSettings,
    http: httpx.AsyncClient,
    sim: DrsSimulator,
    clock: FakeClock,
    week: SlotQuery,
) -> None:
    quick = settings.model_copy(update={"timeout_seconds": 0.2})
    adaptor = DrsScheduler(quick, AdapterContext("nf"), http_client=http, clock=clock)
    slot = (await adaptor.slots(week))[0]
    sim.state.fail_next("scheduleBooking", transport="hang")
    with pytest.raises(BackendUnavailable) as caught:
        await adaptor.book(request_for(week, slot))
    await adaptor.aclose()
    assert "no answer within 0.2 s" in (caught.value.detail or "")
    assert sim.state.orders == {}


async def test_an_unreachable_drs_is_unavailable(settings: DrsSettings, week: SlotQuery) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    async with httpx.AsyncClient(transport=httpx.MockTransport(refuse)) as http:
        adaptor = DrsScheduler(settings, AdapterContext("nf"), http_client=http)
        with pytest.raises(BackendUnavailable):
            await adaptor.slots(week)
        await adaptor.aclose()


@pytest.mark.parametrize(
    "rewrite",
    [
        pytest.param(lambda body: re.sub(rb"<orderId>\d+</orderId>", b"", body), id="no-orderId"),
        pytest.param(lambda body: body.replace(b"theOrder>", b"theOrdr>"), id="unknown-element"),
        pytest.param(lambda body: re.sub(rb"<status>success</status>", b"", body), id="no-status"),
    ],
)
async def test_a_malformed_create_answer_is_rejected_and_cleaned_up(
    settings: DrsSettings,
    sim: DrsSimulator,
    clock: FakeClock,
    week: SlotQuery,
    rewrite: Callable[[bytes], bytes],
) -> None:
    spoilt = _Rewrite(sim.app, "createOrderResponse", rewrite)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=spoilt), base_url=BASE_URL
    ) as http:
        adaptor = DrsScheduler(settings, AdapterContext("nf"), http_client=http, clock=clock)
        slot = (await adaptor.slots(week))[0]
        with pytest.raises(BackendRejected):
            await adaptor.book(request_for(week, slot))
        await adaptor.aclose()
    # DRS made the order before its answer was spoilt: it must not be left behind.
    assert sim.state.orders == {}


async def test_answers_without_their_status_report_what_drs_did(
    settings: DrsSettings, sim: DrsSimulator, clock: FakeClock, week: SlotQuery
) -> None:
    """DRS carried each call out, but its answer says neither success nor refusal: the
    adaptor looks at what DRS holds rather than reporting a failure."""
    spoilt = _Rewrite(
        sim.app, "nothing yet", lambda body: re.sub(rb"<status>\w+</status>", b"", body)
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=spoilt), base_url=BASE_URL
    ) as http:
        adaptor = DrsScheduler(settings, AdapterContext("nf"), http_client=http, clock=clock)
        first, second = list(await adaptor.slots(week))[:2]
        spoilt.marker = b"scheduleBookingResponse"
        booking = await adaptor.book(request_for(week, first))
        assert held(sim, booking.reference) == [(first.start, first.end)]
        moved = await adaptor.reschedule(booking, week.job, second)
        assert held(sim, moved.reference) == [(second.start, second.end)]
        spoilt.marker = b"deleteOrderResponse"
        await adaptor.cancel(moved)
        await adaptor.aclose()
    assert sim.state.orders == {}


async def test_a_soap_fault_is_rejected(settings: DrsSettings, week: SlotQuery) -> None:
    fault = fault_envelope(SoapFault("Unmarshalling Error: unexpected element"))

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, content=fault, headers={"Content-Type": "text/xml"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
        adaptor = DrsScheduler(settings, AdapterContext("nf"), http_client=http)
        with pytest.raises(BackendRejected) as caught:
            await adaptor.slots(week)
        await adaptor.aclose()
    assert "Unmarshalling Error" in (caught.value.detail or "")


async def test_an_identifier_xml_cannot_carry_is_a_request_that_could_not_be_sent(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    # Free text is cleaned (see test_drs_free_text); an identifier is not altered.
    control = dataclasses.replace(week.address, property_ref="00012345\x01")
    with pytest.raises(BackendRejected) as caught:
        await scheduler.slots(dataclasses.replace(week, address=control))
    assert str(caught.value) == UNSENDABLE  # not "an answer that could not be understood"
    assert not isinstance(caught.value, UnreadableAnswer)
    assert "checkAvailability" in (caught.value.detail or "")
    assert sim.state.calls["checkAvailability"] == 0


async def test_random_failures_never_leave_a_confirmed_booking_drs_does_not_hold(
    settings: DrsSettings, clock: FakeClock, week: SlotQuery
) -> None:
    sim = DrsSimulator(SimulatorConfig(fail_rate=0.3, seed=20250602), clock=clock)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=sim.app), base_url=BASE_URL
    ) as http:
        adaptor = DrsScheduler(settings, AdapterContext("nf"), http_client=http, clock=clock)
        slots: list[Slot] = []
        while not slots:
            try:
                slots = list(await adaptor.slots(week))
            except BackendUnavailable:
                continue
        confirmed: dict[str, Slot] = {}
        unsure: set[str] = set()
        for n in range(30):
            reference = f"NF-RAND{n:03d}"
            slot = slots[n % len(slots)]
            try:
                await adaptor.book(request_for(week, slot, reference))
            except SlotUnavailable:
                continue
            except AdapterError as error:
                if flagged(error):
                    unsure.add(reference)
                continue
            confirmed[reference] = slot
        await adaptor.aclose()

    assert 0 < len(confirmed) < 30, "some bookings fail, some get through"
    for reference, slot in confirmed.items():
        assert held(sim, reference) == [(slot.start, slot.end)]
    for order in sim.state.orders.values():
        assert order.primary_order_number in confirmed | dict.fromkeys(unsure)


# ----------------------------------------------------------------------- helpers


class _Rewrite:
    """Spoils the answers of one operation on their way back."""

    def __init__(
        self,
        app: Callable[..., Awaitable[None]],
        marker: str,
        rewrite: Callable[[bytes], bytes],
    ) -> None:
        self.app, self.marker, self.rewrite = app, marker.encode(), rewrite

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[Any]],
        send: Callable[[Any], Awaitable[None]],
    ) -> None:
        start: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def capture(message: Any) -> None:
            if message["type"] == "http.response.start":
                start.update(message)
            else:
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        if self.marker in body:
            body = self.rewrite(body)
        headers = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body})
