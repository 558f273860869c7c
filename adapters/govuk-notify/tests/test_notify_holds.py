"""The hold control: a send held after its message is kept (or before), released or
dropped, so a crash test can kill the sender while Notify holds a message it never heard of."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import pytest

from notify_helpers import MOBILE
from repairs_gateway_govuk_notify.simulator import NotifySimulator, template_id

REMINDER = template_id("reminder", "sms")
FIELDS = {"reference": "NF-7KQ3M9X", "appointment": "Tuesday 3 June, 8am to 12pm"}


class Sending:
    """A send through the official client in a thread (its answer may be held or lost)."""

    def __init__(self, client: Any, reference: str) -> None:
        self.answer: dict[str, Any] | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(client, reference), daemon=True)
        self._thread.start()

    def _run(self, client: Any, reference: str) -> None:
        try:
            self.answer = client.send_sms_notification(
                MOBILE, REMINDER, FIELDS, reference=reference
            )
        except BaseException as exc:  # recorded for the test
            self.error = exc

    def join(self) -> None:
        self._thread.join(10)
        assert not self._thread.is_alive(), "the send never got an answer"


def control(base_url: str, method: str, path: str, **body: Any) -> httpx.Response:
    return httpx.request(method, f"{base_url}/_simulator/{path}", json=body or None, timeout=10)


def wait_held(base_url: str, count: int = 1) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        held: list[dict[str, Any]] = control(base_url, "GET", "held").json()["held"]
        if len(held) >= count:
            return held
        time.sleep(0.02)
    raise AssertionError("no send was held")


def test_held_after_the_message_is_kept_and_answered_once_released(
    client: Any, base_url: str, sim: NotifySimulator
) -> None:
    armed = control(base_url, "POST", "hold", phase="after", count=1)
    assert armed.status_code == 200 and armed.json()["armed"] == {"after": 1}
    sending = Sending(client, "msg-held")
    (held,) = wait_held(base_url)
    assert (held["phase"], held["type"], held["reference"]) == ("after", "sms", "msg-held")
    # Notify holds the message although the sender has no answer yet.
    kept = control(base_url, "GET", "messages", reference="msg-held").json()["messages"]
    assert [m["id"] for m in kept] == [held["messageId"]]
    assert sending.answer is None and sending.error is None
    assert control(base_url, "POST", "release").json() == {"released": 1, "disarmed": 0}
    sending.join()
    assert sending.answer is not None and sending.answer["id"] == held["messageId"]
    # The hold was taken: the next send is answered at once.
    assert client.send_sms_notification(MOBILE, REMINDER, FIELDS)["id"]


def test_a_dropped_answer_leaves_the_message_kept_and_findable_by_reference(
    client: Any, base_url: str
) -> None:
    control(base_url, "POST", "hold", phase="after")
    sending = Sending(client, "msg-lost")
    (held,) = wait_held(base_url)
    control(base_url, "POST", "release", drop=True)
    sending.join()
    assert sending.answer is None and sending.error is not None
    found = client.get_all_notifications(reference="msg-lost")["notifications"]
    assert [n["id"] for n in found] == [held["messageId"]]


def test_held_before_nothing_is_kept_and_a_drop_discards_the_send(
    client: Any, base_url: str
) -> None:
    control(base_url, "POST", "hold", phase="before", count=2)
    first = Sending(client, "msg-before")
    (held,) = wait_held(base_url)
    assert (held["phase"], held["messageId"]) == ("before", None)
    assert control(base_url, "GET", "messages").json()["messages"] == []
    assert control(base_url, "POST", "release", drop=True).json() == {"released": 1, "disarmed": 1}
    first.join()
    assert first.error is not None
    assert client.get_all_notifications(reference="msg-before")["notifications"] == []


def test_reset_drops_what_is_held(client: Any, base_url: str) -> None:
    control(base_url, "POST", "hold", phase="after", count=3)
    sending = Sending(client, "msg-reset")
    wait_held(base_url)
    assert control(base_url, "POST", "reset").status_code == 200
    sending.join()
    assert control(base_url, "GET", "held").json() == {"held": [], "armed": {}}


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"phase": "during"}, "phase must be one of before, after"),
        ({"phase": "after", "count": 0}, "count must be a whole number of at least 1"),
        ({"phase": "after", "count": True}, "count must be a whole number of at least 1"),
    ],
)
def test_a_bad_hold_is_refused(base_url: str, body: dict[str, Any], error: str) -> None:
    answer = control(base_url, "POST", "hold", **body)
    assert answer.status_code == 422 and answer.json() == {"error": error}
    assert control(base_url, "POST", "release", drop="yes").status_code == 422
