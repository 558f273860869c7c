"""The repairs-gateway conformance kit, run against the Totalmobile adaptor and its simulator.

The harness builds the real ``TotalmobileScheduler`` against the in-process simulator on
the real clock (the kit asks for the coming days' windows), with the kit's
``FaultyTransport`` in between, and a spoiler for answers of the right shape with the
wrong content.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from repairs_gateway.conformance import (
    FaultControl,
    FaultyTransport,
    SchedulerConformance,
    SchedulerHarness,
)
from repairs_gateway.ports import AdapterContext, Slot

from repairs_gateway_totalmobile import TotalmobileScheduler
from repairs_gateway_totalmobile.simulator import SimulatorConfig, TotalmobileSimulator
from tm_helpers import ADDRESS, JOB, LONDON, settings

# Short, so that the kit's hang tests are quick; the real default is 10 s.
TIMEOUT = 0.3
SIM = SimulatorConfig()

Edit = Callable[[Any], Any]


class _Spoiler(httpx.AsyncBaseTransport):
    """Passes requests to the simulator and, while an edit is on, spoils its JSON answers:
    the right shape with the wrong content."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self._edit: Edit | None = None

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Send ``request`` on; edit a JSON answer if an edit is on."""
        response = await self._inner.handle_async_request(request)
        body = await response.aread()
        if self._edit is None or not body or "token" in request.url.path:
            return httpx.Response(response.status_code, headers=response.headers, content=body)
        spoiled = json.dumps(self._edit(json.loads(body))).encode()
        headers = {"content-type": response.headers.get("content-type", "application/json")}
        return httpx.Response(response.status_code, headers=headers, content=spoiled)

    async def aclose(self) -> None:
        """Close the wrapped transport."""
        await self._inner.aclose()

    def spoiling(self, edit: Edit) -> FaultControl:
        """Every JSON answer is passed through ``edit`` while the control is open."""

        @asynccontextmanager
        async def control() -> AsyncIterator[None]:
            previous, self._edit = self._edit, edit
            try:
                yield
            finally:
                self._edit = previous

        return control


def _without(*keys: str) -> Edit:
    def edit(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: edit(v) for k, v in value.items() if k not in keys}
        if isinstance(value, list):
            return [edit(v) for v in value]
        return value

    return edit


def _dates_not_dates(value: Any) -> Any:
    text = re.sub(r"\d{4}-\d\d-\d\d", "next Tuesday", json.dumps(value))
    return json.loads(text)


@pytest.fixture
async def scheduler_harness() -> AsyncIterator[SchedulerHarness]:
    """The adaptor on a fresh simulator of the default installation (Monday to Friday,
    AM, PM and all-day bands, two plumbers per band)."""
    simulator = TotalmobileSimulator(SIM)
    spoiler = _Spoiler(httpx.ASGITransport(app=simulator.app))
    faults = FaultyTransport(spoiler)

    async def fill(slot: Slot) -> None:
        # The offer handle names its day, band and skill (the simulator's own format).
        _, day, band, skill = slot.ref.split("-", 3)
        simulator.world.fill(slot.start.astimezone(LONDON).date(), band, skill)
        assert day == slot.start.astimezone(LONDON).strftime("%Y%m%d")

    async with httpx.AsyncClient(transport=faults) as http:
        adapter = TotalmobileScheduler(
            settings(SIM, timeout_seconds=TIMEOUT), AdapterContext("conformance"), http_client=http
        )
        yield SchedulerHarness(
            scheduler=adapter,
            address=ADDRESS,
            job=JOB,
            fill=fill,
            down={
                **faults.down_faults(),
                "HTTP 504 from a proxy": faults.answering(
                    "<html><body>504 Gateway Time-out</body></html>",
                    status=504,
                    content_type="text/html",
                ),
                "HTTP 429 rate limited": faults.answering(
                    '{"title": "Too Many Requests"}', status=429
                ),
            },
            hang=faults.hang(),
            malformed={
                **faults.json_faults(),
                "an empty answer with HTTP 200": faults.answering(b"", content_type="text/plain"),
                "jobs without status, offers without date": spoiler.spoiling(
                    _without("status", "date")
                ),
                "dates that are not dates": spoiler.spoiling(_dates_not_dates),
                "appointments without their band": spoiler.spoiling(_without("timeBand")),
            },
            timeout=TIMEOUT,
        )
        await adapter.aclose()


class TestTotalmobileConforms(SchedulerConformance):
    """Every rule a scheduler must keep, against the simulated Totalmobile."""
