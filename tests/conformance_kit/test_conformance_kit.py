"""The conformance kit passes an adaptor that keeps every rule, and fails one that breaks
any single rule, in the test named for that rule and with a message that says why.

Each case runs the kit for real, in a pytest run of its own (``pytester``), against a
fake from ``conformance_fakes``.
"""

from __future__ import annotations

import pytest

from repairs_gateway.conformance import AddressSourceConformance, SchedulerConformance, WorksOrderConformance

pytest_plugins = ["pytester"]

INI = """
[pytest]
asyncio_default_fixture_loop_scope = function
"""
"""The kit's own marks make its tests run under pytest-asyncio's default strict mode."""


def kit_tests(kit: type) -> set[str]:
    """The names of a kit class's tests."""
    return {name for name in dir(kit) if name.startswith("test_")}


def run_kit(pytester: pytest.Pytester, kit: str, fixture: str, harness: str) -> dict[str, tuple[str, str]]:
    """Run ``kit`` with ``fixture`` answering ``harness``; each test's outcome and report."""
    pytester.makeini(INI)
    pytester.makepyfile(
        test_adapter=f"""
import dataclasses

import pytest
import conformance_fakes as fakes
from repairs_gateway.conformance import {kit}

class TestAdaptorConforms({kit}):
    @pytest.fixture
    def {fixture}(self):
        return {harness}
"""
    )
    recorder = pytester.inline_run("-p", "no:cacheprovider")
    outcomes: dict[str, tuple[str, str]] = {}
    for report in recorder.getreports("pytest_runtest_logreport"):
        name = report.nodeid.rsplit("::", 1)[-1]
        if report.when == "call" or report.outcome != "passed":
            outcome = "error" if report.when != "call" and report.failed else report.outcome
            outcomes.setdefault(name, (outcome, str(report.longrepr or "")))
    return outcomes


def assert_only_failure(
    outcomes: dict[str, tuple[str, str]], kit: type, failing: str | None, why: str
) -> None:
    """Every kit test ran; only ``failing`` failed, for the reason ``why`` names."""
    assert set(outcomes) == kit_tests(kit)
    not_passed = {name: outcome for name, (outcome, _) in outcomes.items() if outcome != "passed"}
    assert not_passed == ({failing: "failed"} if failing else {}), {
        name: outcomes[name][1][-600:] for name in not_passed
    }
    if failing:
        assert why in outcomes[failing][1]


SCHEDULER_CASES = [
    ("GoodScheduler", "FakeBackend", None, ""),
    ("UnsortedScheduler", "FakeBackend", "test_windows_are_sorted", "must be sorted by start then end"),
    ("BeyondTheDaysScheduler", "FakeBackend", "test_windows_are_inside_the_asked_days", "asked for"),
    ("PastScheduler", "FakeBackend", "test_windows_are_never_in_the_past", "windows already begun"),
    ("LongRefScheduler", "FakeBackend", "test_windows_are_well_formed", "at most 200 characters"),
    (
        "NoBackendRefsScheduler",
        "FakeBackend",
        "test_booking_answers_backend_references",
        "must answer the backend's references",
    ),
    (
        "OverbookingScheduler",
        "FakeBackend",
        "test_full_window_is_no_longer_free",
        "must raise SlotUnavailable",
    ),
    ("CancelKeepsThePlaceScheduler", "FakeBackend", "test_cancel_frees_the_window", "is not offered again"),
    ("RescheduleStaysScheduler", "FakeBackend", "test_reschedule_moves_the_booking", "the old window"),
    ("GoodScheduler", "BareErrorsBackend", "test_backend_down_is_unavailable", "raised ConnectionError"),
    (
        "GoodScheduler",
        "NoTimeLimitBackend",
        "test_hanging_backend_is_unavailable_within_the_adapter_timeout",
        "did not answer within",
    ),
    ("GoodScheduler", "KeyErrorBackend", "test_malformed_answers_raise_typed_errors", "raised KeyError"),
]


@pytest.mark.parametrize(
    ("fake", "backend", "failing", "why"), SCHEDULER_CASES, ids=[f"{c[0]}-{c[1]}" for c in SCHEDULER_CASES]
)
def test_scheduler_kit_fails_exactly_the_rule_broken(
    pytester: pytest.Pytester, fake: str, backend: str, failing: str | None, why: str
) -> None:
    """A scheduler that breaks one rule fails that rule's test and no other."""
    harness = f"fakes.scheduler_harness(fakes.{fake}, fakes.{backend})"
    outcomes = run_kit(pytester, "SchedulerConformance", "scheduler_harness", harness)
    assert_only_failure(outcomes, SchedulerConformance, failing, why)


ADDRESS_CASES = [
    ("GoodAddresses", "FakeBackend", None, ""),
    ("UnnormalisedAddresses", "FakeBackend", "test_answers_carry_the_normalised_postcode", "'nf12ab'"),
    (
        "ExactMatchAddresses",
        "FakeBackend",
        "test_known_postcode_is_found_however_the_backend_spells_it",
        "at 'NF1 2AB' the UPRNs ['100000000003', '100000000004'] were not answered",
    ),
    ("UnknownPostcodeRaises", "FakeBackend", "test_unknown_postcode_is_an_empty_list", "raised NotFound"),
    ("BlankLineAddresses", "FakeBackend", "test_addresses_are_well_formed", "must be non-empty text"),
    ("ShoutingByUprnAddresses", "FakeBackend", "test_address_by_uprn_is_the_same_property", "1 MILL LANE"),
    ("UnknownUprnRaises", "FakeBackend", "test_unknown_uprn_is_none", "raised NotFound"),
    (
        "ForgetfulLookupAddresses",
        "FakeBackend",
        "test_a_property_lookup_finds_each_property_by_its_reference",
        "address_by_ref('ML2') answered None",
    ),
    ("GoodAddresses", "BareErrorsBackend", "test_backend_down_is_unavailable", "raised ConnectionError"),
    (
        "GoodAddresses",
        "NoTimeLimitBackend",
        "test_hanging_backend_is_unavailable_within_the_adapter_timeout",
        "did not answer within",
    ),
    ("GoodAddresses", "KeyErrorBackend", "test_malformed_answers_raise_typed_errors", "raised KeyError"),
]


@pytest.mark.parametrize(
    ("fake", "backend", "failing", "why"), ADDRESS_CASES, ids=[f"{c[0]}-{c[1]}" for c in ADDRESS_CASES]
)
def test_address_source_kit_fails_exactly_the_rule_broken(
    pytester: pytest.Pytester, fake: str, backend: str, failing: str | None, why: str
) -> None:
    """An address source that breaks one rule fails that rule's test and no other."""
    harness = f"fakes.address_source_harness(fakes.{fake}, fakes.{backend})"
    outcomes = run_kit(pytester, "AddressSourceConformance", "address_source_harness", harness)
    assert_only_failure(outcomes, AddressSourceConformance, failing, why)


WORKS_ORDER_CASES = [
    ("GoodWorksOrders", "FakeBackend", None, ""),
    (
        "LongReferenceWorksOrders",
        "FakeBackend",
        "test_an_order_is_raised_and_its_reference_is_usable",
        "a works order reference is text of 1 to 64 characters",
    ),
    ("OneNumberWorksOrders", "FakeBackend", "test_each_repair_gets_its_own_order", "were both answered"),
    (
        "RefusalUnavailableWorksOrders",
        "FakeBackend",
        "test_a_refused_job_is_backend_rejected",
        "it must be BackendRejected",
    ),
    (
        "CancelTwiceRaisesWorksOrders",
        "FakeBackend",
        "test_a_cancelled_order_is_closed_and_cancelling_twice_is_no_error",
        "twice raised NotFound",
    ),
    ("UnknownHazardWorksOrders", "FakeBackend", "test_hazards_are_well_formed", "kind='fire'"),
    ("GoodWorksOrders", "BareErrorsBackend", "test_backend_down_is_unavailable", "raised ConnectionError"),
    (
        "GoodWorksOrders",
        "NoTimeLimitBackend",
        "test_hanging_backend_is_unavailable_within_the_adapter_timeout",
        "did not answer within",
    ),
    ("GoodWorksOrders", "KeyErrorBackend", "test_malformed_answers_raise_typed_errors", "raised KeyError"),
]


@pytest.mark.parametrize(
    ("fake", "backend", "failing", "why"),
    WORKS_ORDER_CASES,
    ids=[f"{c[0]}-{c[1]}" for c in WORKS_ORDER_CASES],
)
def test_works_order_kit_fails_exactly_the_rule_broken(
    pytester: pytest.Pytester, fake: str, backend: str, failing: str | None, why: str
) -> None:
    """A works-order sink that breaks one rule fails that rule's test and no other."""
    harness = f"fakes.works_order_harness(fakes.{fake}, fakes.{backend})"
    outcomes = run_kit(pytester, "WorksOrderConformance", "works_order_harness", harness)
    assert_only_failure(outcomes, WorksOrderConformance, failing, why)


def test_a_rule_declared_not_applicable_is_skipped_with_the_reason(pytester: pytest.Pytester) -> None:
    """A harness without a way to hang the backend, saying why, skips the hang tests with that reason."""
    harness = (
        "dataclasses.replace(fakes.address_source_harness(fakes.GoodAddresses), hang=None, "
        "not_applicable={'hang': 'the backend is a file read in process'})"
    )
    outcomes = run_kit(pytester, "AddressSourceConformance", "address_source_harness", harness)
    skipped = {name: text for name, (outcome, text) in outcomes.items() if outcome == "skipped"}
    assert set(skipped) == {
        "test_hanging_backend_is_unavailable_within_the_adapter_timeout",
        "test_hanging_backend_is_unavailable_through_the_gateway",
    }
    assert all("the backend is a file read in process" in text for text in skipped.values())


def test_a_missing_fault_control_fails_rather_than_skips(pytester: pytest.Pytester) -> None:
    """A harness that leaves out a way to take the backend down, without a reason, fails."""
    harness = "dataclasses.replace(fakes.address_source_harness(fakes.GoodAddresses), down={})"
    outcomes = run_kit(pytester, "AddressSourceConformance", "address_source_harness", harness)
    outcome, text = outcomes["test_backend_down_is_unavailable"]
    assert outcome == "failed"
    assert "declare not_applicable['down']" in text


def test_a_subclass_without_a_harness_is_told_which_fixture_to_define(pytester: pytest.Pytester) -> None:
    """The plugin's stand-in fixture names the fixture and the harness to write."""
    pytester.makeini(INI)
    pytester.makepyfile(
        test_adapter="""
from repairs_gateway.conformance import SchedulerConformance

class TestAdaptorConforms(SchedulerConformance):
    pass
"""
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "sorted")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*define a fixture named scheduler_harness*SchedulerHarness*"])


def test_kit_tests_carry_the_conformance_marker(pytester: pytest.Pytester) -> None:
    """``-m conformance`` selects the kit's tests and nothing else."""
    pytester.makeini(INI)
    pytester.makepyfile(
        test_adapter="""
import pytest
import conformance_fakes as fakes
from repairs_gateway.conformance import AddressSourceConformance

def test_other():
    pass

class TestAdaptorConforms(AddressSourceConformance):
    @pytest.fixture
    def address_source_harness(self):
        return fakes.address_source_harness(fakes.GoodAddresses)
"""
    )
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "-m", "conformance", "--strict-markers", "--co", "-q"
    )
    assert f"{len(kit_tests(AddressSourceConformance))}/{len(kit_tests(AddressSourceConformance)) + 1}" in (
        result.stdout.str()
    )


def test_filling_stops_when_the_last_booking_takes_the_last_place(pytester: pytest.Pytester) -> None:
    """A harness whose ``max_fill_bookings`` equals the window's capacity (one here) passes."""
    harness = "dataclasses.replace(fakes.scheduler_harness(fakes.GoodScheduler), max_fill_bookings=1)"
    outcomes = run_kit(pytester, "SchedulerConformance", "scheduler_harness", harness)
    assert_only_failure(outcomes, SchedulerConformance, None, "")
