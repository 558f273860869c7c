"""What the resident site writes for the API's values: history times on UK clocks."""

from __future__ import annotations

from repairs_gateway.web.display import moment_text


def test_a_history_time_sent_in_utc_reads_on_the_uk_clock_in_summer_and_winter() -> None:
    # The API dates history in UTC; in British Summer Time the resident's clock is an hour on.
    assert moment_text("2027-07-01T21:35:00Z") == "Thursday 1 July 2027 at 10:35pm"
    assert moment_text("2026-12-01T21:35:00Z") == "Tuesday 1 December 2026 at 9:35pm"
    assert moment_text("2027-07-01T22:35:00+01:00") == "Thursday 1 July 2027 at 10:35pm"
