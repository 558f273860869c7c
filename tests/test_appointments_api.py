"""listAppointments: pages of bookable days, the three ways to name a repair, and bad input."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gateway_support import Gateway
from journey import NORTHFIELD, SINK, UPRN, field_names, windows

LONDON = ZoneInfo("Europe/London")


async def test_a_page_holds_five_bookable_days_sorted_and_in_the_future(gateway: Gateway) -> None:
    page = await windows(gateway)
    days = [date.fromisoformat(d["date"]) for d in page["days"]]
    assert len(days) == 5
    assert days == sorted(days)
    assert days[0] > datetime.now(LONDON).date()  # a lead time of one day
    assert all(day.weekday() < 5 for day in days)  # the demo calendar works Monday to Friday
    for day in page["days"]:
        starts = [w["start"] for w in day["windows"]]
        assert starts == sorted(starts)
        assert [w["label"] for w in day["windows"]] == ["Morning", "Afternoon"]
        for window in day["windows"]:
            start = datetime.fromisoformat(window["start"])
            assert start.astimezone(LONDON).date().isoformat() == day["date"]
            assert start > datetime.now(LONDON)
    assert page["nextCursor"]


async def test_the_next_page_follows_on_without_overlap(gateway: Gateway) -> None:
    first = await windows(gateway)
    second = await windows(gateway, cursor=first["nextCursor"], triagePath=SINK)
    last_of_first = date.fromisoformat(first["days"][-1]["date"])
    assert len(second["days"]) == 5
    assert all(date.fromisoformat(d["date"]) > last_of_first for d in second["days"])


async def test_a_job_longer_than_half_a_day_is_offered_all_day_windows_only(gateway: Gateway) -> None:
    page = await windows(gateway, trade="carpentry", durationMinutes="300")
    labels = {w["label"] for d in page["days"] for w in d["windows"]}
    assert labels == {"All day"}
    assert {date.fromisoformat(d["date"]).weekday() for d in page["days"]} <= {0, 2, 4}


async def test_the_repair_can_be_named_by_sor_code_or_by_trade_and_duration(gateway: Gateway) -> None:
    by_path = await windows(gateway)
    by_sor = await windows(gateway, sorCode="20060020")
    by_trade = await windows(gateway, trade="plumbing", durationMinutes="60")
    dates = [d["date"] for d in by_path["days"]]
    assert [d["date"] for d in by_sor["days"]] == dates
    assert [d["date"] for d in by_trade["days"]] == dates


async def test_from_starts_the_page_on_that_day(gateway: Gateway) -> None:
    start = datetime.now(LONDON).date() + timedelta(days=14)
    page = await windows(gateway, triagePath=SINK, **{"from": start.isoformat()})
    assert date.fromisoformat(page["days"][0]["date"]) >= start


@pytest.mark.parametrize(
    ("query", "field", "status"),
    [
        ({"uprn": "12ab"}, "uprn", 400),
        ({"uprn": "1234567890123"}, "uprn", 400),
        ({"uprn": ""}, "uprn", 400),
        ({"uprn": "999999999999"}, "uprn", 422),
        ({"triagePath": "kitchen/sink/flooded"}, "triagePath", 422),
        ({"triagePath": "kitchen/gas"}, "triagePath", 422),
        ({"sorCode": "99999999"}, "sorCode", 422),
        ({"sorCode": "20060020;DROP"}, "sorCode", 400),
        ({"trade": "plumbing"}, "durationMinutes", 400),
        ({"trade": "plumbing", "durationMinutes": "5"}, "durationMinutes", 400),
        ({"trade": "plumbing", "durationMinutes": "sixty"}, "durationMinutes", 400),
        ({"trade": "astrology", "durationMinutes": "60"}, "trade", 422),
        ({"from": "2020-01-01"}, "from", 400),
        ({"from": "2999-01-01"}, "from", 400),
        ({"from": "tomorrow"}, "from", 400),
        ({"cursor": "not-a-cursor"}, "cursor", 400),
    ],
)
async def test_bad_input_is_a_problem_naming_the_field(
    gateway: Gateway, query: dict[str, str], field: str, status: int
) -> None:
    params = {"uprn": UPRN, "triagePath": SINK}
    if any(k in query for k in ("sorCode", "trade", "durationMinutes")) or query.get("triagePath"):
        params.pop("triagePath")
    params.update(query)
    response = await gateway.client.get(f"{NORTHFIELD}/appointments", params=params, headers=gateway.auth())
    assert response.status_code == status, response.text
    assert field in field_names(response)


async def test_two_ways_of_naming_the_repair_name_both_fields(gateway: Gateway) -> None:
    response = await gateway.client.get(
        f"{NORTHFIELD}/appointments",
        params={"uprn": UPRN, "triagePath": SINK, "sorCode": "20060020"},
        headers=gateway.auth(),
    )
    assert response.status_code == 400
    assert field_names(response) == {"triagePath", "sorCode"}


async def test_an_emergency_exit_says_what_to_do_instead(gateway: Gateway) -> None:
    response = await gateway.client.get(
        f"{NORTHFIELD}/appointments",
        params={"uprn": UPRN, "triagePath": "kitchen/gas"},
        headers=gateway.auth(),
    )
    assert response.status_code == 422
    assert "0800 111 999" in response.json()["detail"]


async def test_a_cursor_of_one_council_is_refused_by_another(gateway: Gateway) -> None:
    page = await windows(gateway)
    response = await gateway.client.get(
        "/v1/councils/southmoor/appointments",
        params={"uprn": "200034560001", "triagePath": "heating/radiator", "cursor": page["nextCursor"]},
        headers=gateway.auth(),
    )
    assert response.status_code == 400
    assert field_names(response) == {"cursor"}


async def test_triage_lists_jobs_and_exits_by_path(gateway: Gateway) -> None:
    response = await gateway.client.get(f"{NORTHFIELD}/triage", headers=gateway.auth())
    assert response.status_code == 200
    tree = response.json()
    kitchen = tree["options"][0]
    sink = kitchen["next"]["options"][0]
    blocked = sink["next"]["options"][0]
    assert blocked["outcome"] == {
        "type": "job",
        "path": "kitchen/sink/blocked",
        "job": {"sorCode": "20060020", "trade": "plumbing", "priority": 4, "durationMinutes": 60},
    }
    gas = kitchen["next"]["options"][2]
    assert gas["outcome"]["type"] == "exit"
    assert gas["outcome"]["exit"] == "emergency"
