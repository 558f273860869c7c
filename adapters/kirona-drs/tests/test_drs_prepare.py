"""Opening the day's session at start-up (``Preparable``), so the first page is one call."""

from __future__ import annotations

import httpx
import pytest
from pydantic import SecretStr
from repairs_gateway.ports import (
    AdapterContext,
    BackendRejected,
    BackendUnavailable,
    Preparable,
    SlotQuery,
)

from drs_helpers import FakeClock
from repairs_gateway_kirona_drs import DrsScheduler, DrsSettings
from repairs_gateway_kirona_drs.plugin import PLUGIN
from repairs_gateway_kirona_drs.simulator import DrsSimulator


def test_the_gateway_sees_the_adaptor_as_preparable(settings: DrsSettings) -> None:
    built = PLUGIN.build(settings, AdapterContext("northfield"))
    assert isinstance(built, Preparable)


async def test_after_prepare_the_first_page_opens_no_session(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    await scheduler.prepare()
    assert sim.state.calls["openSession"] == 1

    page = await scheduler.slots(week)

    assert len(page) == 20
    assert sim.state.calls["openSession"] == 1  # the page was one checkAvailability call
    assert sim.state.calls["checkAvailability"] == 1


async def test_prepare_twice_opens_one_session(scheduler: DrsScheduler, sim: DrsSimulator) -> None:
    await scheduler.prepare()
    await scheduler.prepare()
    assert sim.state.sessions_opened == 1


async def test_prepare_with_drs_down_raises_and_the_first_page_opens_the_session(
    scheduler: DrsScheduler, sim: DrsSimulator, week: SlotQuery
) -> None:
    sim.state.fail_next("openSession", transport="http503")
    with pytest.raises(BackendUnavailable):
        await scheduler.prepare()

    assert len(await scheduler.slots(week)) == 20
    assert sim.state.sessions_opened == 1


async def test_prepare_with_a_wrong_password_is_refused(
    settings: DrsSettings, http: httpx.AsyncClient, clock: FakeClock
) -> None:
    wrong = settings.model_copy(update={"password": SecretStr("not-the-password")})
    adaptor = DrsScheduler(wrong, AdapterContext("northfield"), http_client=http, clock=clock)
    try:
        with pytest.raises(BackendRejected) as refused:
            await adaptor.prepare()
    finally:
        await adaptor.aclose()
    assert "login" in str(refused.value)
