"""The simulator through the official client, as GOV.UK Notify's API v2 answers it."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from functools import partial
from typing import Any

import httpx
import jwt
import pytest
from notifications_python_client import authentication
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient

from notify_helpers import MOBILE, STRANGER, wait_for_status
from repairs_gateway_govuk_notify.simulator import NotifySimulator, template_id

BOOKED_SMS = template_id("booking_confirmed", "sms")
BOOKED_EMAIL = template_id("booking_confirmed", "email")
BOOKED = {
    "name": "Sam Resident",
    "reference": "NF-7KQ3M9X",
    "appointment": "Tuesday 3 June, 8am to 12pm",
}
EMAIL_FIELDS = {**BOOKED, "address": "Flat 2, 1 High Street", "repair": "Unblock the kitchen sink"}


def refusal(call: Callable[[], Any]) -> tuple[int, list[dict[str, str]]]:
    """Notify's status code and error list for a call the client raised on."""
    with pytest.raises(HTTPError) as caught:
        call()
    assert caught.value.response is not None
    body = caught.value.response.json()
    assert set(body) == {"status_code", "errors"}
    assert body["status_code"] == caught.value.status_code
    return caught.value.status_code, body["errors"]


# ---------------------------------------------------------------------- sending


def test_a_text_renders_its_template_and_answers_as_notify(client: Any, base_url: str) -> None:
    answer = client.send_sms_notification(
        phone_number=MOBILE, template_id=BOOKED_SMS, personalisation=BOOKED, reference="msg-1"
    )
    assert set(answer) == {"id", "reference", "content", "uri", "template", "scheduled_for"}
    uuid.UUID(answer["id"])
    assert answer["reference"] == "msg-1"
    assert answer["content"] == {
        "body": "Dear Sam Resident, your repair NF-7KQ3M9X is booked for"
        " Tuesday 3 June, 8am to 12pm.",
        "from_number": "GOVUK",
    }
    assert answer["uri"] == f"{base_url}/v2/notifications/{answer['id']}"
    assert answer["template"]["id"] == BOOKED_SMS
    assert answer["template"]["version"] == 1
    assert answer["template"]["uri"].endswith(f"/templates/{BOOKED_SMS}")


def test_an_email_renders_subject_and_body(client: Any) -> None:
    answer = client.send_email_notification(
        email_address="sam@resident.example", template_id=BOOKED_EMAIL, personalisation=EMAIL_FIELDS
    )
    assert answer["reference"] is None
    content = answer["content"]
    assert content["subject"] == "Repair NF-7KQ3M9X booked for Tuesday 3 June, 8am to 12pm"
    assert "at Flat 2, 1 High Street." in content["body"]
    assert "((" not in content["body"]
    assert content["from_email"].endswith("@notifications.service.gov.uk")


def test_placeholders_match_whatever_their_case_and_spacing(client: Any) -> None:
    shouted = {"NAME": "Sam", "Reference": "NF-1", "appoint ment": "today"}
    answer = client.send_sms_notification(MOBILE, BOOKED_SMS, personalisation=shouted)
    assert answer["content"]["body"] == "Dear Sam, your repair NF-1 is booked for today."


def test_missing_personalisation_is_a_bad_request(client: Any) -> None:
    without = {k: v for k, v in BOOKED.items() if k != "appointment"}
    status, errors = refusal(lambda: client.send_sms_notification(MOBILE, BOOKED_SMS, without))
    assert status == 400
    assert errors == [
        {"error": "BadRequestError", "message": "Missing personalisation: appointment"}
    ]
    status, errors = refusal(lambda: client.send_sms_notification(MOBILE, BOOKED_SMS))
    assert errors[0]["message"] == "Missing personalisation: name, reference, appointment"


def test_templates_must_exist_and_suit_the_endpoint(client: Any) -> None:
    status, errors = refusal(
        lambda: client.send_sms_notification(MOBILE, BOOKED_EMAIL, EMAIL_FIELDS)
    )
    assert (status, errors[0]["message"]) == (
        400,
        "email template is not suitable for sms notification",
    )
    status, errors = refusal(
        lambda: client.send_sms_notification(MOBILE, str(uuid.uuid4()), BOOKED)
    )
    assert (status, errors[0]["message"]) == (400, "Template not found")
    status, errors = refusal(lambda: client.send_sms_notification(MOBILE, "booking", BOOKED))
    assert (status, errors[0]["message"]) == (400, "template_id is not a valid UUID")


@pytest.mark.parametrize(
    "number",
    ["07700 900123", "+44 7700 900123", "447700900123", "(07700) 900-123", "+447700900123"],
)
def test_uk_mobiles_in_any_common_form_are_accepted(
    client_for: Callable[[str], Any], number: str
) -> None:
    answer = client_for("team").send_sms_notification(number, BOOKED_SMS, BOOKED)
    assert answer["id"]


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("020 7946 0000", "Not a UK mobile number"),
        ("01632 960001", "Not a UK mobile number"),
        ("+1 202 555 0100", "Not a UK mobile number"),
        ("07700 90012", "Not enough digits"),
        ("07700 9001234", "Too many digits"),
        ("07700 9OO123", "Must not contain letters or symbols"),
    ],
)
def test_numbers_that_are_not_uk_mobiles_are_refused(
    client: Any, number: str, message: str
) -> None:
    status, errors = refusal(lambda: client.send_sms_notification(number, BOOKED_SMS, BOOKED))
    assert status == 400
    assert errors == [{"error": "BadRequestError", "message": message}]


@pytest.mark.parametrize(
    "address", ["sam", "sam@", "sam@resident", "sam resident@x.example", "a..b@x.example"]
)
def test_malformed_email_addresses_are_refused(client: Any, address: str) -> None:
    status, errors = refusal(
        lambda: client.send_email_notification(address, BOOKED_EMAIL, EMAIL_FIELDS)
    )
    assert (status, errors[0]["message"]) == (400, "Not a valid email address")


def test_a_team_key_sends_only_to_the_team_and_guest_list(client_for: Callable[[str], Any]) -> None:
    team = client_for("team")
    status, errors = refusal(lambda: team.send_sms_notification(STRANGER, BOOKED_SMS, BOOKED))
    assert status == 400
    assert errors == [
        {
            "error": "BadRequestError",
            "message": "Can't send to this recipient using a team-only API key",
        }
    ]
    assert team.send_sms_notification("+447700900123", BOOKED_SMS, BOOKED)["id"]  # a team member
    assert team.send_sms_notification("07700900002", BOOKED_SMS, BOOKED)["id"]  # guest list
    assert team.send_email_notification("Repairs-Team@council.example", BOOKED_EMAIL, EMAIL_FIELDS)
    for other in ("live", "test"):
        assert client_for(other).send_sms_notification(STRANGER, BOOKED_SMS, BOOKED)["id"]


def test_letters_are_not_sent_by_this_service(client: Any) -> None:
    status, errors = refusal(
        lambda: client.send_letter_notification(BOOKED_SMS, {"address_line_1": "A"})
    )
    assert (status, errors[0]["error"]) == (400, "BadRequestError")


# ---------------------------------------------------------------------- authentication


def _token(secret: str, service_id: str, iat: int | None = None) -> str:
    return jwt.encode(
        {"iss": service_id, "iat": iat or int(time.time())}, secret, algorithm="HS256"
    )


def _post_with(base_url: str, authorization: str | None) -> httpx.Response:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return httpx.post(
        f"{base_url}/v2/notifications/sms",
        json={"phone_number": MOBILE, "template_id": BOOKED_SMS, "personalisation": BOOKED},
        headers=headers,
    )


def _auth_error(answer: httpx.Response, status: int, message: str) -> None:
    assert answer.status_code == status
    assert answer.json() == {
        "status_code": status,
        "errors": [{"error": "AuthError", "message": message}],
    }


def test_a_token_with_a_bad_signature_is_refused(sim: NotifySimulator, base_url: str) -> None:
    secret = sim.state.keys["live"].secret
    token = _token(secret, sim.state.service_id)
    head, claims, signature = token.split(".")
    tampered = f"{head}.{claims}.{signature[:-4]}{'AAAA' if signature[-4:] != 'AAAA' else 'BBBB'}"
    _auth_error(_post_with(base_url, f"Bearer {tampered}"), 403, "Invalid token: API key not found")
    _auth_error(
        _post_with(base_url, "Bearer not-a-jwt"),
        403,
        "Invalid token: signature, api token is not valid",
    )


def test_an_unknown_key_is_refused(sim: NotifySimulator, base_url: str) -> None:
    service_id = sim.state.service_id
    unknown_secret = NotificationsAPIClient(
        f"stolen-{service_id}-{uuid.uuid4()}", base_url=base_url, timeout=5
    )
    status, errors = refusal(
        lambda: unknown_secret.send_sms_notification(MOBILE, BOOKED_SMS, BOOKED)
    )
    assert (status, errors) == (
        403,
        [{"error": "AuthError", "message": "Invalid token: API key not found"}],
    )
    other_service = NotificationsAPIClient(
        f"other-{uuid.uuid4()}-{uuid.uuid4()}", base_url=base_url, timeout=5
    )
    status, errors = refusal(
        lambda: other_service.send_sms_notification(MOBILE, BOOKED_SMS, BOOKED)
    )
    assert (status, errors) == (
        403,
        [{"error": "AuthError", "message": "Invalid token: service not found"}],
    )


def test_a_request_without_a_bearer_token_is_unauthorised(base_url: str) -> None:
    _auth_error(
        _post_with(base_url, None), 401, "Unauthorized: authentication token must be provided"
    )
    _auth_error(
        _post_with(base_url, "Basic abc"),
        401,
        "Unauthorized: authentication bearer scheme must be used",
    )


# 32, not 31: a second may tick between making the token and checking it.
@pytest.mark.parametrize("offset", [-32, 32, -120])
def test_a_clock_more_than_30_seconds_out_is_refused(
    client: Any, monkeypatch: pytest.MonkeyPatch, offset: int
) -> None:
    real = authentication.epoch_seconds
    monkeypatch.setattr(authentication, "epoch_seconds", lambda: real() + offset)
    status, errors = refusal(lambda: client.send_sms_notification(MOBILE, BOOKED_SMS, BOOKED))
    assert status == 403
    assert errors == [
        {
            "error": "AuthError",
            "message": "Error: Your system clock must be accurate to within 30 seconds",
        }
    ]


@pytest.mark.parametrize("offset", [-29, 29])
def test_a_clock_29_seconds_out_is_accepted(
    client: Any, monkeypatch: pytest.MonkeyPatch, offset: int
) -> None:
    real = authentication.epoch_seconds
    monkeypatch.setattr(authentication, "epoch_seconds", lambda: real() + offset)
    assert client.send_sms_notification(MOBILE, BOOKED_SMS, BOOKED)["id"]


@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_only_hs256_is_accepted(sim: NotifySimulator, base_url: str) -> None:
    secret = sim.state.keys["live"].secret
    token = jwt.encode(
        {"iss": sim.state.service_id, "iat": int(time.time())}, secret, algorithm="HS512"
    )
    _auth_error(
        _post_with(base_url, f"Bearer {token}"), 403, "Invalid token: algorithm used is not HS256"
    )


# ---------------------------------------------------------------------- errors and limits


def test_unknown_paths_and_methods_answer_notifys_error_shape(base_url: str) -> None:
    missing = httpx.get(f"{base_url}/v2/nothing-here")
    assert missing.status_code == 404
    assert missing.json() == {
        "status_code": 404,
        "errors": [{"error": "NotFound", "message": "Not found"}],
    }
    wrong = httpx.delete(f"{base_url}/v2/notifications/sms")
    assert wrong.status_code == 405
    assert wrong.json()["errors"][0]["error"] == "MethodNotAllowed"


def test_an_injected_failure_answers_500_exception(sim: NotifySimulator, client: Any) -> None:
    sim.fail_next.append(500)
    status, errors = refusal(lambda: client.send_sms_notification(MOBILE, BOOKED_SMS, BOOKED))
    assert (status, errors) == (500, [{"error": "Exception", "message": "Internal server error"}])
    assert client.send_sms_notification(MOBILE, BOOKED_SMS, BOOKED)["id"]


# ---------------------------------------------------------------------- statuses


def test_a_message_moves_from_created_through_sending_to_delivered(client: Any) -> None:
    sent = client.send_sms_notification(MOBILE, BOOKED_SMS, BOOKED, reference="r-1")
    first = client.get_notification_by_id(sent["id"])
    assert first["status"] in ("created", "sending")
    assert first["type"] == "sms"
    assert first["phone_number"] == MOBILE
    assert first["reference"] == "r-1"
    assert first["body"] == sent["content"]["body"]
    assert first["template"] == sent["template"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", first["created_at"])
    done = wait_for_status(client, sent["id"], "delivered")
    assert done["sent_at"] and done["completed_at"]
    assert done["completed_at"] >= done["sent_at"] >= done["created_at"]


@pytest.mark.parametrize(
    ("to", "status"),
    [
        ("07700900002", "permanent-failure"),
        ("07700 900 003", "temporary-failure"),
        ("+447700900004", "technical-failure"),
        ("perm-fail@simulator.notify", "permanent-failure"),
        ("temp-fail@simulator.notify", "temporary-failure"),
        ("tech-fail@simulator.notify", "technical-failure"),
    ],
)
def test_the_special_recipients_fail(
    client_for: Callable[[str], Any], to: str, status: str
) -> None:
    for key_type in ("live", "test"):
        client = client_for(key_type)
        if "@" in to:
            sent = client.send_email_notification(to, BOOKED_EMAIL, EMAIL_FIELDS)
        else:
            sent = client.send_sms_notification(to, BOOKED_SMS, BOOKED)
        assert wait_for_status(client, sent["id"], status)["completed_at"]


def test_smoke_test_recipients_are_answered_but_not_kept(client_for: Callable[[str], Any]) -> None:
    for key_type in ("live", "team", "test"):
        client = client_for(key_type)
        sent = client.send_sms_notification("07700900111", BOOKED_SMS, BOOKED)
        status, errors = refusal(partial(client.get_notification_by_id, sent["id"]))
        assert (status, errors) == (404, [{"error": "NoResultFound", "message": "No result found"}])


def test_a_test_keys_messages_are_delivered_and_listed_apart(
    client_for: Callable[[str], Any],
) -> None:
    test, live = client_for("test"), client_for("live")
    sent = test.send_sms_notification(STRANGER, BOOKED_SMS, BOOKED, reference="same")
    live.send_sms_notification(STRANGER, BOOKED_SMS, BOOKED, reference="same")
    wait_for_status(test, sent["id"], "delivered")
    listed = test.get_all_notifications(reference="same")["notifications"]
    assert [n["id"] for n in listed] == [sent["id"]]
    assert len(live.get_all_notifications(reference="same")["notifications"]) == 1


def test_messages_are_listed_by_reference_status_and_type(client: Any) -> None:
    ok = client.send_sms_notification(MOBILE, BOOKED_SMS, BOOKED, reference="a")
    bad = client.send_sms_notification("07700900002", BOOKED_SMS, BOOKED, reference="b")
    mail = client.send_email_notification(
        "sam@resident.example", BOOKED_EMAIL, EMAIL_FIELDS, reference="a"
    )
    wait_for_status(client, bad["id"], "permanent-failure")
    wait_for_status(client, ok["id"], "delivered")

    def ids(**query: str) -> list[str]:
        return [n["id"] for n in client.get_all_notifications(**query)["notifications"]]

    assert ids(reference="a") == [mail["id"], ok["id"]]  # newest first
    assert ids(status="failed") == [bad["id"]]
    assert ids(template_type="email") == [mail["id"]]
    status, errors = refusal(lambda: client.get_all_notifications(status="lost"))
    assert status == 400
    assert errors[0]["message"].startswith("status lost is not one of")


def test_templates_can_be_read(client: Any) -> None:
    template = client.get_template(BOOKED_EMAIL)
    assert template["type"] == "email"
    assert set(template["personalisation"]) == {
        "name",
        "reference",
        "appointment",
        "address",
        "repair",
    }
    assert len(client.get_all_templates(template_type="sms")["templates"]) == 7
