"""The repairs-gateway conformance kit, run against the DRS adaptor and its simulator.

The kit's tests come from ``SchedulerConformance``; the harness below builds the real
``DrsScheduler`` against the in-process simulator, on the real clock (the kit asks for
the windows of the coming days), with the kit's ``FaultyTransport`` in between.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from repairs_gateway.conformance import (
    FaultControl,
    FaultyTransport,
    SchedulerConformance,
    SchedulerHarness,
)
from repairs_gateway.ports import AdapterContext, Address, Job, Priority

from repairs_gateway_kirona_drs import DrsScheduler, DrsSettings
from repairs_gateway_kirona_drs.protocol import NAMESPACE, SOAP11_ENVELOPE_NS
from repairs_gateway_kirona_drs.simulator import DrsSimulator, SimulatorConfig

# Short, so that the kit's hang tests are quick; the real default is 10 s.
TIMEOUT = 0.3
SIM = SimulatorConfig()
JOB = Job(trade="plumbing", duration_minutes=60, priority=Priority.NORMAL, sor_code="20060020")

Edit = Callable[[bytes], bytes]


class _Spoiler(httpx.AsyncBaseTransport):
    """Passes requests to the simulator and, while an edit is on, spoils its real answer:
    an answer of the right operation and shape with the wrong content."""

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

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()

    def spoiling(self, edit: Edit) -> FaultControl:
        """Every answer is passed through ``edit`` while the control is open."""

        @asynccontextmanager
        async def control() -> AsyncIterator[None]:
            previous, self._edit = self._edit, edit
            try:
                yield
            finally:
                self._edit = previous

        return control


def _without_status(body: bytes) -> bytes:
    return re.sub(rb"<status>[^<]*</status>", b"", body)


def _dates_not_dates(body: bytes) -> bytes:
    return re.sub(rb"\d{4}-\d\d-\d\dT[\d:.]+(Z|[+-]\d\d:\d\d)?", b"next Tuesday", body)


# Every call answered with a well-formed openSession answer, whatever it asked.
ANOTHER_OPERATION = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    f'<soap:Envelope xmlns:soap="{SOAP11_ENVELOPE_NS}"><soap:Body>'
    f'<ns1:openSessionResponse xmlns:ns1="{NAMESPACE}">'
    "<return><status>success</status><sessionId>0123456789abcdef0123456789abcdef</sessionId>"
    "</return></ns1:openSessionResponse></soap:Body></soap:Envelope>"
)


@pytest.fixture
async def scheduler_harness() -> AsyncIterator[SchedulerHarness]:
    """The DRS adaptor on a fresh simulator of the default installation (Monday to
    Friday, four windows a day, two plumbers per window)."""
    simulator = DrsSimulator(SIM)
    spoiler = _Spoiler(httpx.ASGITransport(app=simulator.app))
    faults = FaultyTransport(spoiler)
    settings = DrsSettings.model_validate(
        {
            "endpoint": "http://drs.test" + SIM.path,
            "login": SIM.login,
            "password": SIM.password,
            "contract": "REPAIRS",
            "timeout_seconds": TIMEOUT,
        }
    )
    async with httpx.AsyncClient(transport=faults) as http:
        adapter = DrsScheduler(settings, AdapterContext("conformance"), http_client=http)
        yield SchedulerHarness(
            scheduler=adapter,
            address=Address(
                uprn="100023336956",
                lines=("Flat 2", "1 High Street", "Northfield"),
                postcode="NF1 1AA",
                property_ref="00012345",
            ),
            job=JOB,
            # The kit books a window until it is no longer offered: the installation's
            # capacity, plus one because the kit gives up after its last booking without
            # looking whether that one filled the window.
            max_fill_bookings=SIM.capacity_for(JOB.trade) + 1,
            down={
                **faults.down_faults(),
                "HTTP 504 from a proxy": faults.answering(
                    "<html><body>504 Gateway Time-out</body></html>",
                    status=504,
                    content_type="text/html",
                ),
            },
            hang=faults.hang(),
            malformed={
                **faults.xml_faults(),
                "an empty answer with HTTP 200": faults.answering(b"", content_type="text/xml"),
                "the answer of another operation": faults.answering(
                    ANOTHER_OPERATION, content_type="text/xml; charset=UTF-8"
                ),
                "answers without their status": spoiler.spoiling(_without_status),
                "dates that are not dates": spoiler.spoiling(_dates_not_dates),
            },
            timeout=TIMEOUT,
        )
        await adapter.aclose()


class TestDrsConforms(SchedulerConformance):
    """Every rule a scheduler must keep, against the simulated DRS."""
