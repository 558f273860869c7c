"""The report a person reads: failures grouped by operation, counted once, keys hidden."""

from __future__ import annotations

from repairs_gateway.contract.report import Finding, Report, Verdict, worst

KEY = "rgk_secret-key-value"


def _report() -> Report:
    return Report(
        target="http://127.0.0.1:1 (council northfield)",
        operations=["listAddresses", "getRepair"],
        secrets={KEY: "REPAIRS_API_KEY"},
    )


def _finding(operation: str, value: str, curl: str) -> Finding:
    return Finding(
        operation,
        "generated requests",
        "Response violates schema",
        f'"{value}" is not a "uri-reference"\n\nSchema at /components/schemas/Problem/properties/instance:',
        400,
        curl,
    )


def test_the_same_failure_with_other_values_is_counted_once_with_its_shortest_reproduction() -> None:
    report = _report()
    report.add(
        _finding("getRepair", "/v1/a-long-path", f"curl -H 'Authorization: Bearer {KEY}' http://x/long/path")
    )
    report.add(_finding("getRepair", "/v1/b", f"curl -H 'Authorization: Bearer {KEY}' http://x/b"))
    [failure] = report.failures_of("getRepair")
    assert failure.occurrences == 2
    assert failure.finding.curl == 'curl -H "Authorization: Bearer $REPAIRS_API_KEY" http://x/b'


def test_failures_are_listed_under_their_operation_and_keys_never_shown() -> None:
    report = _report()
    report.count_case("listAddresses")
    report.add(
        Finding(
            "listAddresses",
            "journey",
            "listAddresses for a postcode: expected 200",
            f"answered 500 for key {KEY}",
            500,
            f"curl -H 'Authorization: Bearer {KEY}' http://x/a",
        )
    )
    text = report.render()
    assert "== listAddresses: 1 distinct failure(s)" in text
    assert "1/2 operations covered, 1 requests, 1 distinct failure(s)" in text
    assert KEY not in text and "$REPAIRS_API_KEY" in text
    assert text.rstrip().endswith("FAILED: 1 distinct failure(s), 1 requests")


def test_a_clean_run_passes() -> None:
    report = _report()
    report.count_case("getRepair")
    report.pass_check("journey")
    assert report.ok and report.render().rstrip().endswith("PASSED: 0 distinct failure(s), 1 requests")


def _planned(*parts: str) -> Report:
    """A report of a run that meant to run ``parts``, each of which held one check."""
    report = _report()
    report.parts = list(parts)
    report.count_case("getRepair", parts[0])
    for part in parts:
        report.pass_check(part)
    return report


def test_a_run_where_a_check_did_not_run_is_incomplete_and_names_the_option() -> None:
    report = _planned("journey", "window ids")
    report.skip("window ids", "a window id used at another council: no --other-council", "--other-council ID")
    text = report.render()
    assert report.verdict() is Verdict.INCOMPLETE
    assert report.verdict().exit_status not in (0, Verdict.FAILED.exit_status)
    assert "PASSED" not in text
    assert "INCOMPLETE: 0 distinct failure(s), 1 requests; 1 check(s) did not run" in text
    assert "window ids: a window id used at another council" in text
    assert "To run every part, pass --other-council ID." in text


def test_a_part_that_checked_nothing_is_reported_as_not_run() -> None:
    report = _planned("journey")
    report.parts.append("generated requests")
    assert report.verdict() is Verdict.INCOMPLETE
    assert "  - generated requests: it checked nothing" in report.render()


def test_an_accepted_partial_run_exits_0_but_is_never_called_passed() -> None:
    report = _planned("journey", "tenant isolation")
    report.skip("tenant isolation", "no --other-api-key was given", "--other-api-key KEY")
    text = report.render(partial_accepted=True)
    assert report.verdict(partial_accepted=True) is Verdict.PARTIAL
    assert report.verdict(partial_accepted=True).exit_status == 0
    assert "PASSED" not in text
    assert "PARTIAL: 0 distinct failure(s), 1 requests; 1 check(s) did not run" in text
    assert "tenant isolation: no --other-api-key was given (to run it: --other-api-key KEY)" in text


def test_a_failure_is_reported_as_failed_even_when_parts_did_not_run() -> None:
    report = _planned("journey", "capacity")
    report.skip("capacity", "no free window")
    report.add(Finding("getRepair", "journey", "getRepair: expected 200", "answered 500", 500))
    assert report.verdict(partial_accepted=True) is Verdict.FAILED
    text = report.render(partial_accepted=True)
    assert "FAILED: 1 distinct failure(s), 1 requests; 1 check(s) did not run" in text
    assert "PARTIAL" not in text and "PASSED" not in text


def test_several_runs_take_the_most_severe_verdict() -> None:
    assert worst([Verdict.PASSED, Verdict.PARTIAL]) is Verdict.PARTIAL
    assert worst([Verdict.INCOMPLETE, Verdict.FAILED, Verdict.PASSED]) is Verdict.FAILED
    assert worst([Verdict.FAILED, Verdict.STOPPED]) is Verdict.STOPPED
