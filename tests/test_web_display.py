"""What the resident site writes for the API's values: history times on UK clocks."""

from __future__ import annotations

from datetime import date

from repairs_gateway.web.display import clock_words, moment_text, short_day_text, slot_text, window_text
from repairs_gateway.web.site import keep_whole


def test_a_history_time_sent_in_utc_reads_on_the_uk_clock_in_summer_and_winter() -> None:
    # The API dates history in UTC; in British Summer Time the resident's clock is an hour on.
    assert moment_text("2027-07-01T21:35:00Z") == "Thursday 1 July 2027 at 10:35pm"
    assert moment_text("2026-12-01T21:35:00Z") == "Tuesday 1 December 2026 at 9:35pm"
    assert moment_text("2027-07-01T22:35:00+01:00") == "Thursday 1 July 2027 at 10:35pm"


def test_a_window_sent_in_utc_reads_on_the_uk_clock() -> None:
    # 07:00Z in July is 8am in London: read as sent, the morning would start at 7am.
    summer = {"start": "2027-07-01T07:00:00Z", "end": "2027-07-01T11:00:00Z", "label": "Morning"}
    assert window_text(summer) == "Thursday 1 July 2027, Morning (8am to midday)"
    winter = {"start": "2026-12-07T12:00:00+00:00", "end": "2026-12-07T16:00:00+00:00", "label": "Afternoon"}
    assert slot_text(winter) == "Afternoon (midday to 4pm)"


def test_a_day_in_the_list_of_times_names_its_year_only_when_it_is_not_this_years() -> None:
    assert short_day_text(date(2026, 12, 7), today=date(2026, 12, 4)) == "Monday 7 December"
    assert short_day_text(date(2027, 1, 4), today=date(2026, 12, 4)) == "Monday 4 January 2027"


def test_the_apis_24_hour_times_are_written_as_gov_uk_writes_times_and_nothing_else_changes() -> None:
    steps = "An operative will visit on Monday 7 December between 08:00 and 12:00. Keep NF-7KQ3M9X."
    assert clock_words(steps) == (
        "An operative will visit on Monday 7 December between 8am and midday. Keep NF-7KQ3M9X."
    )
    assert clock_words("from 13:30 to 00:00") == "from 1:30pm to midnight"
    # Phone numbers, ratios and timestamps are not times of day.
    assert (
        clock_words("Call 0800 111 999, or 2027-01-11T08:00:00")
        == "Call 0800 111 999, or 2027-01-11T08:00:00"
    )
    assert clock_words("at 10:05:30 or 1:23") == "at 10:05:30 or 1:23"


def test_a_reference_in_the_apis_words_is_kept_whole_and_the_rest_stays_escaped() -> None:
    kept = keep_whole("Keep NF-7KQ3M9X <b>safe</b> & NF-7KQ3M9X.", "NF-7KQ3M9X")
    assert str(kept) == (
        'Keep <span class="app-nowrap">NF-7KQ3M9X</span> &lt;b&gt;safe&lt;/b&gt; &amp; '
        '<span class="app-nowrap">NF-7KQ3M9X</span>.'
    )
    assert str(keep_whole("<i>no reference</i>", "")) == "&lt;i&gt;no reference&lt;/i&gt;"
