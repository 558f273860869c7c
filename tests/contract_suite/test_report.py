"""The report a person reads: failures grouped by operation, counted once, keys hidden."""

from __future__ import annotations

from repairs_gateway.contract.report import Finding, Report

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
