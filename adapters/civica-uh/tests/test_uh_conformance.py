"""The repairs-gateway conformance kit, run against both UH adaptors and the simulator.

``civica-uh`` is held to the address source and works order rules; ``civica-uh-diary`` to
the scheduler rules. The kit's booking requests carry no works order (the gateway raises one first),
so the diary harness hands the kit a scheduler that raises each booking's order in the
simulator, as the gateway's ``civica-uh`` works orders adaptor would, then books.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager

import httpx
import pytest
from repairs_gateway.conformance import (
    AddressSourceConformance,
    AddressSourceHarness,
    FaultControl,
    FaultyTransport,
    SchedulerConformance,
    SchedulerHarness,
    WorksOrderConformance,
    WorksOrderHarness,
)
from repairs_gateway.ports import (
    AdapterContext,
    Address,
    Booking,
    BookingRequest,
    BookingState,
    Job,
    Priority,
    Slot,
    SlotQuery,
)

from repairs_gateway_civica_uh import UhDiary, UhHousing
from repairs_gateway_civica_uh.protocol import NAMESPACE, SOAP11_ENVELOPE_NS
from repairs_gateway_civica_uh.simulator import UhSimulator
from uh_helpers import KNOWN_POSTCODES, diary_settings, housing_settings

TIMEOUT = 0.3  # short, so the kit's hang tests are quick; the real default is 10 s

Edit = Callable[[bytes], bytes]


class _Spoiler(httpx.AsyncBaseTransport):
    """Passes requests on and, while an edit is on, spoils the real answer: the right
    operation with the wrong content."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self._edit: Edit | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on; edit the answer if an edit is on."""
        response = await self._inner.handle_async_request(request)
        if self._edit is None:
            return response
        body = self._edit(await response.aread())
        headers = {"content-type": response.headers.get("content-type", "text/xml")}
        return httpx.Response(response.status_code, headers=headers, content=body)

    def spoiling(self, edit: Edit) -> FaultControl:
        """Every answer goes through ``edit`` while the control is open."""

        @asynccontextmanager
        async def control() -> AsyncIterator[None]:
            previous, self._edit = self._edit, edit
            try:
                yield
            finally:
                self._edit = previous

        return control


def _without_success(body: bytes) -> bytes:
    return re.sub(rb"<Success>[^<]*</Success>", b"", body)


def _another_namespace(body: bytes) -> bytes:
    return body.replace(NAMESPACE.encode(), b"http://schemas.civica.co.uk/UHWeb/2009/01")


def _no_references(body: bytes) -> bytes:
    return re.sub(rb"<(Reference|PropertyReference)>[^<]*</\1>", b"", body)


ANOTHER_OPERATION = (
    f'<s:Envelope xmlns:s="{SOAP11_ENVELOPE_NS}"><s:Body>'
    f'<IssueOrderResponse xmlns="{NAMESPACE}"><IssueOrderResult>'
    "<ErrorCode>0</ErrorCode><Success>true</Success></IssueOrderResult></IssueOrderResponse>"
    "</s:Body></s:Envelope>"
)


def _malformed(faults: FaultyTransport, spoiler: _Spoiler) -> dict[str, FaultControl]:
    """Malformed answers to every call (each spoils every operation's answer, so no call
    can meet a real refusal left behind by an earlier one)."""
    xml = "text/xml; charset=utf-8"
    return {
        **faults.xml_faults(),
        "an empty answer with HTTP 200": faults.answering(b"", content_type=xml),
        "the answer of another operation": faults.answering(ANOTHER_OPERATION, content_type=xml),
        "answers without Success": spoiler.spoiling(_without_success),
        "answers in another namespace": spoiler.spoiling(_another_namespace),
    }


def _down(faults: FaultyTransport) -> dict[str, FaultControl]:
    return {
        **faults.down_faults(),
        "a WCF server fault": faults.answering(
            f'<s:Envelope xmlns:s="{SOAP11_ENVELOPE_NS}"><s:Body><s:Fault>'
            "<faultcode>s:Server</faultcode><faultstring>The server was unable to process "
            "the request due to an internal error.</faultstring></s:Fault></s:Body></s:Envelope>",
            status=500,
            content_type="text/xml; charset=utf-8",
        ),
    }


@pytest.fixture
async def address_source_harness() -> AsyncIterator[AddressSourceHarness]:
    """``civica-uh`` on a fresh simulator of the seeded installation."""
    simulator = UhSimulator()
    spoiler = _Spoiler(httpx.ASGITransport(app=simulator.app))
    faults = FaultyTransport(spoiler)
    async with httpx.AsyncClient(transport=faults) as http:
        adapter = UhHousing(
            housing_settings(timeout_seconds=TIMEOUT),
            AdapterContext("conformance"),
            http_client=http,
        )
        yield AddressSourceHarness(
            source=adapter,
            known_postcodes=KNOWN_POSTCODES,
            unknown_uprn="400078999999",
            down=_down(faults),
            hang=faults.hang(),
            malformed={
                **_malformed(faults, spoiler),
                "properties without their references": spoiler.spoiling(_no_references),
            },
            timeout=TIMEOUT,
        )
        await adapter.aclose()


class TestUhAddressesConform(AddressSourceConformance):
    """Every rule an address source must keep, against the simulated UH."""


@pytest.fixture
async def works_order_harness() -> AsyncIterator[WorksOrderHarness]:
    """``civica-uh`` raising works orders on a fresh simulator."""
    simulator = UhSimulator()
    spoiler = _Spoiler(httpx.ASGITransport(app=simulator.app))
    faults = FaultyTransport(spoiler)

    async def is_open(reference: str) -> bool:
        order = simulator.state.orders.get(reference)
        return order is not None and order.status != "CANCELLED"

    async with httpx.AsyncClient(transport=faults) as http:
        adapter = UhHousing(
            housing_settings(timeout_seconds=TIMEOUT),
            AdapterContext("conformance"),
            http_client=http,
        )
        yield WorksOrderHarness(
            sink=adapter,
            address=ADDRESS,
            job=Job("plumbing", 60, Priority.NORMAL, "20060020"),
            refused_job=Job("plumbing", 60, Priority.NORMAL, "NOSUCH01"),
            is_open=is_open,
            hazard_address=Address(
                uprn="400078000203",
                lines=("3 Willow Road", "Larchford"),
                postcode="UH1 1AB",
                property_ref="00042003",
            ),
            down=_down(faults),
            hang=faults.hang(),
            malformed=_malformed(faults, spoiler),
            timeout=TIMEOUT,
        )
        await adapter.aclose()


class TestUhWorksOrdersConform(WorksOrderConformance):
    """Every rule a works order sink must keep, against the simulated UH."""


class _OrderFirst:
    """The diary as the gateway drives it: every booking request gets a works order,
    raised straight in the simulator (so the kit's faults touch only the diary calls)."""

    def __init__(self, diary: UhDiary, simulator: UhSimulator, address: Address) -> None:
        self._diary = diary
        self._simulator = simulator
        self._address = address

    def _order(self) -> str:
        created = self._simulator.state.create_repair(
            {"PropertyRef": self._address.property_ref, "Problem": "Kit booking", "Priority": "N"},
            [{"JobCode": "20060020", "PriorityCode": "N", "SupplierReference": "LBC-DLO"}],
        )
        return created.orders[0]

    async def slots(self, query: SlotQuery) -> Sequence[Slot]:
        """The diary's slots."""
        return await self._diary.slots(query)

    async def book(self, request: BookingRequest) -> Booking:
        """Raise the order, then book it."""
        return await self._diary.book(dataclasses.replace(request, works_order_ref=self._order()))

    async def reschedule(self, booking: Booking, job: Job, slot: Slot) -> Booking:
        """Move the booking."""
        return await self._diary.reschedule(booking, job, slot)

    async def cancel(self, booking: Booking) -> None:
        """Cancel the booking."""
        await self._diary.cancel(booking)

    async def status(self, booking: Booking) -> BookingState:
        """The booking's state."""
        return await self._diary.status(booking)


ADDRESS = Address(
    uprn="400078000101",
    lines=("Flat 1 Larch Court", "Larch Road", "Larchford"),
    postcode="UH1 1AA",
    property_ref="00041001",
)


@pytest.fixture
async def scheduler_harness() -> AsyncIterator[SchedulerHarness]:
    """``civica-uh-diary`` on a fresh simulator: AM and PM windows Monday to Friday, two
    places each."""
    simulator = UhSimulator()
    spoiler = _Spoiler(httpx.ASGITransport(app=simulator.app))
    faults = FaultyTransport(spoiler)
    async with httpx.AsyncClient(transport=faults) as http:
        diary = UhDiary(
            diary_settings(timeout_seconds=TIMEOUT), AdapterContext("conformance"), http_client=http
        )
        yield SchedulerHarness(
            scheduler=_OrderFirst(diary, simulator, ADDRESS),
            address=ADDRESS,
            job=Job("plumbing", 60, Priority.NORMAL, "20060020"),
            # The kit books until the window is no longer offered: capacity, plus one.
            max_fill_bookings=simulator.config.capacity + 1,
            down=_down(faults),
            hang=faults.hang(),
            malformed=_malformed(faults, spoiler),
            timeout=TIMEOUT,
        )
        await diary.aclose()


class TestUhDiaryConforms(SchedulerConformance):
    """Every rule a scheduler must keep, against the simulated UH diary."""
