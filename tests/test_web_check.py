"""The resident site's check journey: find a repair by reference and postcode, read its
status and history, cancel it or move it, at the HTML level against a real gateway."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

import httpx

from repairs_gateway.domain.references import new_reference
from repairs_gateway.web.display import clock_words

from gateway_support import Gateway
from journey import NORTHFIELD, create, first_window, repair_body, windows
from test_backend_failures import flaky_gateway
from web_support import Site, heading, site_for, text, window_choices


async def _booked(gateway: Gateway) -> dict[str, object]:
    window = await first_window(gateway)
    response = await create(gateway, repair_body(window["id"]))
    assert response.status_code == 201, response.text
    repair: dict[str, object] = response.json()
    return repair


async def _find(site: Site, reference: str, postcode: str) -> httpx.Response:
    await site.get("/check")
    return await site.submit("/check", {"reference": reference, "postcode": postcode})


async def test_a_repair_is_found_by_reference_and_postcode_with_its_status_and_history(
    gateway: Gateway,
) -> None:
    repair = await _booked(gateway)
    site = site_for(gateway)
    page = await _find(site, str(repair["reference"]).lower(), "nf11aa")
    assert heading(page) == f"Repair {repair['reference']}"
    said = text(page)
    assert "Booked" in said
    assert "Kitchen: Sink or taps: The sink is blocked" in said
    # The API's words, with its 24-hour times as GOV.UK writes times ("between 8am and midday").
    for event in repair["history"]:  # type: ignore[attr-defined]
        assert clock_words(event["description"]) in said
    assert not re.search(r"\b\d\d:\d\d\b", said)


async def test_a_wrong_postcode_gets_the_same_answer_as_an_unknown_reference(gateway: Gateway) -> None:
    repair = await _booked(gateway)
    site = site_for(gateway)
    wrong_postcode = await _find(site, str(repair["reference"]), "NF1 1AB")  # another property's
    # A well-formed reference (valid check character) that the council does not hold.
    unknown = new_reference("NF")
    unknown_reference = await _find(site, unknown, "NF1 1AA")
    assert wrong_postcode.status_code == unknown_reference.status_code == 404
    assert text(wrong_postcode).replace(str(repair["reference"]), "REF") == text(unknown_reference).replace(
        unknown, "REF"
    )
    assert "We could not find a repair with that reference at that postcode" in text(wrong_postcode)
    assert str(repair["reference"]) not in str(wrong_postcode.url)
    # Nothing of the repair was shown, and its page stays closed to this session.
    assert "Sink or taps" not in text(wrong_postcode)
    closed = await site.client.get(f"/repair/{repair['reference']}")
    assert closed.status_code == 303 and closed.headers["location"] == "/check"


async def test_a_malformed_reference_is_named_by_the_apis_message(gateway: Gateway) -> None:
    site = site_for(gateway)
    page = await _find(site, "NF-XXXXXXX", "NF1 1AA")
    assert page.status_code == 400
    assert 'href="#reference"' in page.text
    assert 'id="reference-error"' in page.text


async def test_a_repair_is_cancelled_after_a_confirmation(gateway: Gateway) -> None:
    repair = await _booked(gateway)
    site = site_for(gateway)
    await _find(site, str(repair["reference"]), "NF1 1AA")
    confirm = await site.get(f"/repair/{repair['reference']}/cancel")
    assert heading(confirm) == "Are you sure you want to cancel this repair?"
    still = await gateway.client.get(f"{NORTHFIELD}/repairs/{repair['reference']}", headers=gateway.auth())
    assert still.json()["status"] == "booked"
    after = await site.submit(f"/repair/{repair['reference']}/cancel", {})
    assert "Your repair has been cancelled." in text(after)
    assert "Cancelled" in text(after)
    assert "Cancel this repair" not in text(after)
    stored = await gateway.client.get(f"{NORTHFIELD}/repairs/{repair['reference']}", headers=gateway.auth())
    assert stored.json()["status"] == "cancelled"


async def test_a_repair_is_moved_to_a_window_on_a_later_page(gateway: Gateway) -> None:
    repair = await _booked(gateway)
    site = site_for(gateway)
    await _find(site, str(repair["reference"]), "NF1 1AA")
    await site.get(f"/repair/{repair['reference']}/appointments")
    later = await site.get(f"/repair/{repair['reference']}/appointments?page=2")
    assert heading(later) == "When can we come?"
    chosen = re.findall(r'name="windowId" type="radio" value="([^"]+)"', later.text)[-1]
    after = await site.submit(
        f"/repair/{repair['reference']}/appointments", {"windowId": chosen, "page": "2"}
    )
    assert heading(after) == f"Repair {repair['reference']}"
    assert "Your appointment is now" in text(after)
    stored = await gateway.client.get(f"{NORTHFIELD}/repairs/{repair['reference']}", headers=gateway.auth())
    start = datetime.fromisoformat(stored.json()["appointment"]["start"])
    assert start == datetime.fromisoformat(chosen.split("|")[0])


async def test_a_window_taken_while_choosing_a_new_time_says_so_and_offers_the_rest(gateway: Gateway) -> None:
    repair = await _booked(gateway)
    site = site_for(gateway)
    await _find(site, str(repair["reference"]), "NF1 1AA")
    offered = await site.get(f"/repair/{repair['reference']}/appointments")
    # The last window of the first page (not the repair's own), filled by two neighbours.
    wanted = window_choices(offered)[-1]
    for uprn in ("100012345002", "100012345003"):
        theirs = next(
            window
            for day in (await windows(gateway, uprn))["days"]
            for window in day["windows"]
            if window["start"] == wanted.split("|")[0] and window["label"] == wanted.split("|")[2]
        )
        assert (await create(gateway, repair_body(theirs["id"], uprn=uprn))).status_code == 201
    answer = await site.submit(
        f"/repair/{repair['reference']}/appointments", {"windowId": wanted, "page": "1"}
    )
    assert answer.status_code == 400
    assert "no longer available" in text(answer)
    assert window_choices(answer) and wanted not in window_choices(answer)
    stored = await gateway.client.get(f"{NORTHFIELD}/repairs/{repair['reference']}", headers=gateway.auth())
    assert stored.json()["appointment"] == repair["appointment"]


async def test_a_cancel_while_the_scheduler_is_down_says_nothing_changed(make_gateway: Any) -> None:
    gateway, switch = await flaky_gateway(make_gateway)
    repair = await _booked(gateway)
    site = site_for(gateway)
    await _find(site, str(repair["reference"]), "NF1 1AA")
    await site.get(f"/repair/{repair['reference']}/cancel")
    switch.mode = "down"
    after = await site.submit(f"/repair/{repair['reference']}/cancel", {})
    assert heading(after) == f"Repair {repair['reference']}"
    assert "We could not cancel the repair just now" in text(after)
    switch.mode = "ok"
    stored = await gateway.client.get(f"{NORTHFIELD}/repairs/{repair['reference']}", headers=gateway.auth())
    assert stored.json()["status"] == "booked"


async def test_a_repair_without_an_appointment_can_have_one_chosen(gateway: Gateway) -> None:
    recorded = await create(gateway, repair_body())  # no window: the council will arrange one
    reference = recorded.json()["reference"]
    site = site_for(gateway)
    page = await _find(site, reference, "NF1 1AA")
    assert "Reported" in text(page) and "None booked" in text(page)
    times = await site.get(f"/repair/{reference}/appointments")
    chosen = window_choices(times)[0]
    booked = await site.submit(f"/repair/{reference}/appointments", {"windowId": chosen, "page": "1"})
    assert "Booked" in text(booked)
    stored = await gateway.client.get(f"{NORTHFIELD}/repairs/{reference}", headers=gateway.auth())
    assert stored.json()["status"] == "booked"
