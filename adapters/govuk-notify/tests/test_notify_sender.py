"""The sender (the adapter) through the official client against the simulator: Notify's
answers become SentMessage, BackendRejected or BackendUnavailable."""

from __future__ import annotations

import socket
from dataclasses import replace
from typing import Any

import pytest
from pydantic import SecretStr, ValidationError
from repairs_gateway.ports import (
    AdapterContext,
    BackendRejected,
    BackendUnavailable,
    Notifier,
    OutgoingMessage,
    check_roles,
)
from repairs_gateway.serving import serve_asgi

from notify_helpers import MOBILE, STRANGER, wait_for_status
from repairs_gateway_govuk_notify import PLUGIN, NotifySender, NotifySettings
from repairs_gateway_govuk_notify.simulator import NotifySimulator, SimulatorConfig, template_id

CONFIRMED = OutgoingMessage(
    council_id="northfield",
    kind="booking_confirmed",
    channel="sms",
    to=MOBILE,
    template=template_id("booking_confirmed", "sms"),
    personalisation={
        "name": "Sam",
        "reference": "NF-7KQ3M9X",
        "appointment": "Tuesday 8am to 12pm",
    },
    reference="NF-7KQ3M9X/booking_confirmed/1",
)


async def test_send_answers_notifys_id_and_passes_our_reference(
    sender: NotifySender, sim: NotifySimulator
) -> None:
    sent = await sender.send(CONFIRMED)
    held = sim.state.messages[sent.id]
    assert held.reference == CONFIRMED.reference
    assert held.body == "Dear Sam, your repair NF-7KQ3M9X is booked for Tuesday 8am to 12pm."
    assert held.key_type == "live"


async def test_an_email_goes_to_the_email_endpoint(
    sender: NotifySender, sim: NotifySimulator
) -> None:
    email = replace(
        CONFIRMED,
        kind="staff_needs_attention",
        channel="email",
        to="repairs-team@council.example",
        template=template_id("staff_needs_attention", "email"),
        personalisation={"reference": "NF-1", "address": "1 High Street", "reason": "no answer"},
    )
    sent = await sender.send(email)
    assert sim.state.messages[sent.id].subject == "Repair NF-1 needs a person"


async def test_a_bad_request_is_rejected_for_good(sender: NotifySender) -> None:
    landline = replace(CONFIRMED, to="020 7946 0000")
    with pytest.raises(BackendRejected) as caught:
        await sender.send(landline)
    assert "BadRequestError" in str(caught.value)
    assert caught.value.detail is not None
    assert "Not a UK mobile number" in caught.value.detail
    missing = replace(CONFIRMED, personalisation={"name": "Sam"})
    with pytest.raises(BackendRejected) as caught:
        await sender.send(missing)
    assert "Missing personalisation: reference, appointment" in (caught.value.detail or "")


async def test_a_refused_key_is_rejected_for_good(sim: NotifySimulator, base_url: str) -> None:
    secret_of_another = f"old-{sim.state.service_id}-00000000-0000-4000-8000-000000000000"
    settings = NotifySettings(api_key=SecretStr(secret_of_another), base_url=base_url)
    adapter = NotifySender(settings)
    with pytest.raises(BackendRejected) as caught:
        await adapter.send(CONFIRMED)
    assert "AuthError" in str(caught.value)
    assert "Invalid token: API key not found" in (caught.value.detail or "")
    await adapter.aclose()


async def test_a_team_key_to_a_stranger_is_rejected(
    sim: NotifySimulator, settings: NotifySettings
) -> None:
    adapter = NotifySender(settings.model_copy(update={"api_key": SecretStr(sim.api_key("team"))}))
    with pytest.raises(BackendRejected) as caught:
        await adapter.send(replace(CONFIRMED, to=STRANGER))
    assert "team-only API key" in (caught.value.detail or "")
    await adapter.aclose()


async def test_the_rate_limit_answers_429_and_the_sender_is_unavailable_for_now() -> None:
    sim = NotifySimulator(SimulatorConfig(rate_limit=3, rate_interval_seconds=60))
    with serve_asgi(sim.app) as url:
        adapter = NotifySender(NotifySettings(api_key=SecretStr(sim.api_key("live")), base_url=url))
        for _ in range(3):
            await adapter.send(CONFIRMED)
        with pytest.raises(BackendUnavailable) as caught:
            await adapter.send(CONFIRMED)
        assert caught.value.detail is not None
        assert (
            "RateLimitError: Exceeded rate limit for key type LIVE of 3 requests per 60 seconds"
            in caught.value.detail
        )
        assert "HTTP 429" in caught.value.detail
        # The limit is per key type: the test key still has its own allowance.
        test_key = NotifySender(
            NotifySettings(api_key=SecretStr(sim.api_key("test")), base_url=url)
        )
        assert (await test_key.send(CONFIRMED)).id
        await adapter.aclose()
        await test_key.aclose()


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_server_errors_are_unavailable(
    sender: NotifySender, sim: NotifySimulator, status: int
) -> None:
    sim.fail_next.append(status)
    with pytest.raises(BackendUnavailable):
        await sender.send(CONFIRMED)
    assert (await sender.send(CONFIRMED)).id


async def test_no_connection_is_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings = NotifySettings(
        api_key=SecretStr(
            f"k-{'1' * 8}-1111-4111-8111-{'1' * 12}-{'2' * 8}-2222-4222-8222-{'2' * 12}"
        ),
        base_url=f"http://127.0.0.1:{port}",
        timeout_seconds=2,
    )
    with pytest.raises(BackendUnavailable) as caught:
        await NotifySender(settings).send(CONFIRMED)
    assert "could not reach" in str(caught.value)


async def test_a_slow_notify_is_unavailable_within_the_time_limit() -> None:
    sim = NotifySimulator(SimulatorConfig(latency_ms=1500))
    with serve_asgi(sim.app) as url:
        settings = NotifySettings(
            api_key=SecretStr(sim.api_key("live")), base_url=url, timeout_seconds=0.3
        )
        adapter = NotifySender(settings)
        with pytest.raises(BackendUnavailable):
            await adapter.send(CONFIRMED)
        await adapter.aclose()


async def test_a_non_json_answer_is_rejected() -> None:
    from starlette.applications import Starlette
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    async def page(request: Any) -> PlainTextResponse:
        return PlainTextResponse("<html>hello</html>", status_code=201)

    app = Starlette(routes=[Route("/v2/notifications/sms", page, methods=["POST"])])
    with serve_asgi(app) as url:
        sim = NotifySimulator()
        settings = NotifySettings(api_key=SecretStr(sim.api_key("live")), base_url=url)
        with pytest.raises(BackendRejected):
            await NotifySender(settings).send(CONFIRMED)


async def test_find_sent_tells_whether_a_reference_went(sender: NotifySender, client: Any) -> None:
    assert await sender.find_sent(CONFIRMED.reference) is None
    sent = await sender.send(CONFIRMED)
    assert await sender.find_sent(CONFIRMED.reference) == sent
    wait_for_status(client, sent.id, "delivered")


async def test_concurrent_sends_each_get_their_own_message(
    sender: NotifySender, sim: NotifySimulator
) -> None:
    import asyncio

    sent = await asyncio.gather(
        *(sender.send(replace(CONFIRMED, reference=f"r-{i}")) for i in range(20))
    )
    assert len({s.id for s in sent}) == 20
    assert {sim.state.messages[s.id].reference for s in sent} == {f"r-{i}" for i in range(20)}


# ---------------------------------------------------------------------- settings and plugin


def test_settings_refuse_a_key_of_the_wrong_shape_without_repeating_it() -> None:
    with pytest.raises(ValidationError) as caught:
        NotifySettings(api_key=SecretStr("sk-live-1234-secret"))
    assert "not a GOV.UK Notify API key" in str(caught.value)
    assert "sk-live-1234-secret" not in str(caught.value)


def test_settings_default_to_notifys_public_api(sim: NotifySimulator) -> None:
    settings = NotifySettings(api_key=SecretStr(sim.api_key("live")))
    assert str(settings.base_url).rstrip("/") == "https://api.notifications.service.gov.uk"
    assert settings.service_id == sim.state.service_id
    with pytest.raises(ValidationError):
        NotifySettings(api_key=SecretStr(sim.api_key("live")), sender="x")  # type: ignore[call-arg]


def test_the_plugin_builds_a_notifier_from_council_settings(sim: NotifySimulator) -> None:
    from repairs_gateway.registry import discover_plugins

    assert discover_plugins()["govuk-notify"] is PLUGIN
    built = PLUGIN.build(
        {"api_key": sim.api_key("live"), "base_url": "http://127.0.0.1:1"},
        AdapterContext("northfield"),
    )
    check_roles(PLUGIN, built)
    assert isinstance(built, Notifier)
    assert PLUGIN.roles == frozenset({"notifications"})
