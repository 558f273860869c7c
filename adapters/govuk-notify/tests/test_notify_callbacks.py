"""Delivery receipts and received texts reach the service's callbacks, with its token."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
from notifications_python_client.notifications import NotificationsAPIClient
from repairs_gateway.serving import serve_asgi

from notify_helpers import MOBILE, CallbackReceiver, wait_for_status
from repairs_gateway_govuk_notify.simulator import NotifySimulator, SimulatorConfig, template_id

REMINDER = template_id("reminder", "sms")
FIELDS = {"reference": "NF-7KQ3M9X", "appointment": "tomorrow, 8am to 12pm"}
RECEIPT_FIELDS = {
    "id",
    "reference",
    "to",
    "status",
    "created_at",
    "completed_at",
    "sent_at",
    "notification_type",
    "template_id",
    "template_version",
}


@pytest.fixture
def receiver() -> CallbackReceiver:
    return CallbackReceiver()


@pytest.fixture
def receiver_url(receiver: CallbackReceiver) -> Iterator[str]:
    with serve_asgi(receiver.app, "callback-receiver") as url:
        yield url


@pytest.fixture
def config(receiver_url: str) -> SimulatorConfig:
    """Receipts configured at start, as the service's settings would hold them."""
    return SimulatorConfig(
        sending_after_seconds=0.02,
        final_after_seconds=0.05,
        callback_url=f"{receiver_url}/notify/receipts",
        callback_token="receipt-token-0123456789",
    )


def test_a_delivery_receipt_reaches_the_callback_with_the_bearer_token(
    client: Any, receiver: CallbackReceiver
) -> None:
    sent = client.send_sms_notification(MOBILE, REMINDER, FIELDS, reference="msg-42")
    wait_for_status(client, sent["id"], "delivered")
    (got,) = receiver.wait_for(1)
    assert got.path == "/notify/receipts"
    assert got.authorization == "Bearer receipt-token-0123456789"
    assert set(got.body) == RECEIPT_FIELDS
    assert got.body["id"] == sent["id"]
    assert got.body["reference"] == "msg-42"
    assert got.body["to"] == MOBILE
    assert got.body["status"] == "delivered"
    assert got.body["notification_type"] == "sms"
    assert got.body["template_id"] == REMINDER
    assert got.body["template_version"] == 1
    seen = client.get_notification_by_id(sent["id"])
    for name in ("created_at", "sent_at", "completed_at"):
        assert got.body[name] == seen[name]


def test_a_permanent_failure_is_receipted(client: Any, receiver: CallbackReceiver) -> None:
    sent = client.send_sms_notification("07700900002", REMINDER, FIELDS, reference="gone")
    (got,) = receiver.wait_for(1)
    assert (got.body["id"], got.body["status"]) == (sent["id"], "permanent-failure")


def test_smoke_test_recipients_send_no_receipt(
    client: Any, receiver: CallbackReceiver, sim: NotifySimulator
) -> None:
    client.send_sms_notification("07700900000", REMINDER, FIELDS)
    sent = client.send_sms_notification(MOBILE, REMINDER, FIELDS)
    (got,) = receiver.wait_for(1)
    assert got.body["id"] == sent["id"]


def test_a_control_sets_a_status_and_its_receipt_goes(
    config: SimulatorConfig, receiver: CallbackReceiver
) -> None:
    sim = NotifySimulator(replace(config, sending_after_seconds=0.5, final_after_seconds=60))
    with serve_asgi(sim.app) as base_url:
        client = NotificationsAPIClient(sim.api_key("live"), base_url=base_url, timeout=5)
        sent = client.send_sms_notification(MOBILE, REMINDER, FIELDS, reference="r")
        set_status = f"{base_url}/_simulator/messages/{sent['id']}/status"
        answer = httpx.post(set_status, json={"status": "temporary-failure"})
        assert answer.status_code == 200
        assert answer.json()["status"] == "temporary-failure"
        (got,) = receiver.wait_for(1)
        assert got.body["status"] == "temporary-failure"
        assert got.body["sent_at"] and got.body["completed_at"]
        # Final is final: the message's own timeline does not move it on, nor receipt it twice.
        time.sleep(0.7)
        assert client.get_notification_by_id(sent["id"])["status"] == "temporary-failure"
        assert len(receiver.received) == 1
        listed = httpx.get(f"{base_url}/_simulator/messages").json()["messages"]
        assert [(m["id"], m["status"], m["body"]) for m in listed] == [
            (sent["id"], "temporary-failure", sent["content"]["body"])
        ]
        refused = httpx.post(set_status, json={"status": "lost"})
        assert refused.status_code == 422


def test_callbacks_can_be_set_by_a_control_and_failures_are_recorded(
    client: Any, receiver: CallbackReceiver, receiver_url: str, base_url: str
) -> None:
    receiver.status = 500
    set_to = {"delivery_status": {"url": f"{receiver_url}/other", "bearer_token": "t2"}}
    assert httpx.post(f"{base_url}/_simulator/callbacks", json=set_to).status_code == 200
    client.send_sms_notification(MOBILE, REMINDER, FIELDS)
    (got,) = receiver.wait_for(1)
    assert (got.path, got.authorization) == ("/other", "Bearer t2")
    shown = httpx.get(f"{base_url}/_simulator/callbacks").json()
    assert shown["delivery_status"] == {"url": f"{receiver_url}/other", "bearer_token": "t2"}
    for _ in range(100):
        attempts = httpx.get(f"{base_url}/_simulator/callbacks").json()["attempts"]
        if attempts:
            break
        time.sleep(0.02)
    assert attempts[0]["error"] == "HTTP 500"


def test_a_reply_reaches_the_inbound_callback_and_the_received_texts(
    client: Any, receiver: CallbackReceiver, receiver_url: str, base_url: str
) -> None:
    inbound = {"inbound": {"url": f"{receiver_url}/replies", "bearer_token": "in-token"}}
    httpx.post(f"{base_url}/_simulator/callbacks", json=inbound).raise_for_status()
    posted = httpx.post(
        f"{base_url}/_simulator/inbound", json={"source_number": MOBILE, "message": "STOP"}
    )
    assert posted.status_code == 201
    (got,) = receiver.wait_for(1)
    assert got.path == "/replies"
    assert got.authorization == "Bearer in-token"
    assert set(got.body) == {
        "id",
        "source_number",
        "destination_number",
        "message",
        "date_received",
    }
    assert (got.body["source_number"], got.body["message"]) == ("447700900123", "STOP")
    texts = client.get_received_texts()["received_text_messages"]
    assert [(t["id"], t["content"], t["user_number"]) for t in texts] == [
        (got.body["id"], "STOP", "447700900123")
    ]


def test_an_unreachable_callback_does_not_hold_up_sending(
    sim: NotifySimulator, client: Any, base_url: str
) -> None:
    closed = {"delivery_status": {"url": "http://127.0.0.1:9/gone", "bearer_token": "x"}}
    httpx.post(f"{base_url}/_simulator/callbacks", json=closed).raise_for_status()
    sent = client.send_sms_notification(MOBILE, REMINDER, FIELDS)
    wait_for_status(client, sent["id"], "delivered")
    assert isinstance(client, NotificationsAPIClient)
