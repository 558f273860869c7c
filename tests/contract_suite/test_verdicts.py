"""What a person running `contract-test` is told when not every part could run: a refused
key first and alone, the options that would run the rest, and a verdict (and exit status)
that never says PASSED for a partial run."""

from __future__ import annotations

import socket

import httpx
import pytest
from click.testing import CliRunner

from repairs_gateway.cli import main
from repairs_gateway.contract.discovery import COMMUNAL_POSTCODE_OPTION, EXAMPLE_POSTCODES, discover
from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.contract.promises import DUPLICATES, repeated_reports
from repairs_gateway.contract.report import Skipped
from repairs_gateway.contract.runner import RunOptions, run_contract
from repairs_gateway.contract.session import ContractSession

from .proxy_support import run_contract_test

# One worker under pytest-xdist, so that the module's gateway is started once.
pytestmark = pytest.mark.xdist_group("contract-verdicts")

# The exit statuses `contract-test --help` documents: 1 is FAILED's.
FAILED, INCOMPLETE, STOPPED = 1, 3, 4


def _postcodes(gateway: Endpoint) -> list[str]:
    return [option for postcode in gateway.postcodes for option in ("--postcode", postcode)]


def test_a_run_without_a_second_council_is_incomplete_and_says_what_to_pass(gateway: Endpoint) -> None:
    result = run_contract_test(gateway, *_postcodes(gateway))
    assert result.exit_code == INCOMPLETE, result.output
    assert result.exit_code not in (0, FAILED)
    assert "PASSED" not in result.output
    assert "\nINCOMPLETE: 0 distinct failure(s)" in result.output
    assert (
        f"a reference under another council: no --other-council was given (besides {gateway.council} "
        f"this key may use: {gateway.other_council}) (to run it: --other-council ID)"
    ) in result.output
    assert "To run every part, pass --other-council ID, --other-api-key KEY." in result.output


def test_an_accepted_partial_run_exits_0_and_still_lists_what_did_not_run(gateway: Endpoint) -> None:
    result = run_contract_test(gateway, *_postcodes(gateway), "--allow-partial")
    assert result.exit_code == 0, result.output
    assert "PASSED" not in result.output
    assert "\nPARTIAL: 0 distinct failure(s)" in result.output
    assert "no --other-api-key was given (to run it: --other-api-key KEY)" in result.output


def test_a_refused_key_is_reported_first_and_alone(gateway: Endpoint) -> None:
    result = run_contract_test(gateway, key="rgk_not-a-key-of-this-gateway")
    assert result.exit_code == STOPPED, result.output
    assert f"STOPPED: the API key was refused (401) by {gateway.base_url}" in result.output
    assert "--postcode" not in result.output and "triage" not in result.output
    report = run_contract(
        Endpoint(gateway.base_url, "rgk_not-a-key-of-this-gateway", gateway.council), RunOptions(1, 1)
    )
    assert report.total_cases == 1, "the key is checked with one request, before anything else"


def test_a_refused_other_key_is_named(gateway: Endpoint) -> None:
    result = run_contract_test(gateway, "--other-api-key", "rgk_not-a-key-either")
    assert result.exit_code == STOPPED, result.output
    assert "the other API key was refused (401)" in result.output
    assert "check --other-api-key (or REPAIRS_OTHER_API_KEY)" in result.output


def test_a_key_for_other_councils_only_is_told_which_it_may_use(gateway: Endpoint) -> None:
    assert gateway.other_api_key is not None
    result = run_contract_test(gateway, key=gateway.other_api_key)
    assert result.exit_code == STOPPED, result.output
    assert (
        f"the API key may not use council {gateway.council!r} (403 from {gateway.base_url})" in result.output
    )
    assert f"the key may use: {gateway.other_council}" in result.output


def test_an_other_key_that_may_use_the_council_stops_the_run_naming_the_option(gateway: Endpoint) -> None:
    # The demo's OTHER_KEY given at the very council it is for: every 403 check would fail,
    # blaming the implementation for the key given.
    result = run_contract_test(gateway, "--other-api-key", gateway.api_key)
    assert result.exit_code == STOPPED, result.output
    assert (
        f"STOPPED: the other API key may use council {gateway.council!r} (listed, and its triage tree "
        f"answered 200, by {gateway.base_url}): --other-api-key (or REPAIRS_OTHER_API_KEY) must be a key "
        f"not issued for --council"
    ) in result.output
    assert "FAILED" not in result.output


def test_a_second_council_that_does_not_exist_is_named_with_those_the_key_may_use(
    gateway: Endpoint,
) -> None:
    result = run_contract_test(gateway, "--other-council", "no-such-council")
    assert result.exit_code == STOPPED, result.output
    assert (
        f"STOPPED: {gateway.base_url} serves no council 'no-such-council' (404 for its triage tree): "
        f"check --other-council; the API key may use: {gateway.council}, {gateway.other_council}"
    ) in result.output


def test_the_help_documents_the_exit_statuses() -> None:
    text = " ".join(CliRunner().invoke(main, ["contract-test", "--help"]).output.split())
    assert f"{FAILED} FAILED" in text and f"{INCOMPLETE} INCOMPLETE" in text and f"{STOPPED} STOPPED" in text


def test_an_address_where_nothing_answers_stops_the_run_at_once() -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{unused.getsockname()[1]}"  # bound, never listening: refused
        result = CliRunner().invoke(
            main,
            ["contract-test", "--base-url", url, "--council", "northfield", "--quiet"],
            env={"REPAIRS_API_KEY": "rgk_any-key"},
        )
    assert result.exit_code == STOPPED, result.output
    assert f"STOPPED: no answer from {url} (Connection refused)" in result.output


def test_a_council_without_postcodes_is_told_to_pass_one_for_every_part_that_needs_it(
    gateway: Endpoint,
) -> None:
    assert gateway.other_council is not None
    # The spec's example postcode is one of the first council's: the second has no property there.
    endpoint = Endpoint(gateway.base_url, gateway.api_key, gateway.other_council)
    report = run_contract(endpoint, RunOptions(examples=0, scenarios=0))
    not_run = {s.part: (s.reason, s.option) for s in report.not_run()}
    assert not_run["discovery"] == (
        f"no --postcode was given, and the spec's example postcode {EXAMPLE_POSTCODES[0]} has no "
        f"eligible properties of {gateway.other_council}",
        "--postcode POSTCODE",
    )
    for part in ("journey", "capacity", "idempotency", "repeated reports", "window ids"):
        assert not_run[part] == ("no property was found (see discovery)", "--postcode POSTCODE"), part
    assert report.options_to_run_the_rest()[0] == "--postcode POSTCODE"


def _kinds_at(gateway: Endpoint, postcode: str) -> set[str]:
    """The kinds of the addresses the gateway lists at ``postcode``."""
    answer = httpx.get(
        f"{gateway.base_url}/v1/councils/{gateway.council}/addresses",
        params={"postcode": postcode},
        headers={"Authorization": f"Bearer {gateway.api_key}"},
    )
    return {str(address.get("kind")) for address in answer.json()["addresses"]}


def test_a_postcode_without_a_communal_area_is_told_to_pass_one_with_a_communal_area(
    gateway: Endpoint,
) -> None:
    homes_only = [p for p in gateway.postcodes if _kinds_at(gateway, p) == {"dwelling"}]
    assert homes_only, "the built-in data has a postcode of homes only"
    endpoint = Endpoint(gateway.base_url, gateway.api_key, gateway.council, postcodes=(homes_only[0],))
    report = run_contract(endpoint, RunOptions(examples=0, scenarios=0))
    assert (
        Skipped(
            DUPLICATES,
            "a report at a communal area: no address of kind communal at the postcodes given "
            f"({homes_only[0]})",
            COMMUNAL_POSTCODE_OPTION,
        )
        in report.not_run()
    )
    text = " ".join(report.render().split())
    assert (
        "(to run it: --postcode POSTCODE where the council has a communal area (an address of kind " in text
    )
    assert "To run every part, pass " in text
    assert text.split("To run every part, pass ")[1].count(COMMUNAL_POSTCODE_OPTION) == 1


def test_without_postcodes_the_communal_hint_names_the_example_postcode_tried(gateway: Endpoint) -> None:
    session = ContractSession(Endpoint(gateway.base_url, gateway.api_key, gateway.council))
    try:
        data = discover(session)
        data.communal.clear()  # as at a council with no communal area at the example postcode
        repeated_reports(session, data)
    finally:
        session.close()
    assert session.report.skipped[-1] == Skipped(
        DUPLICATES,
        f"a report at a communal area: no address of kind communal at the spec's example postcode "
        f"{EXAMPLE_POSTCODES[0]} (no --postcode was given)",
        COMMUNAL_POSTCODE_OPTION,
    )
    assert "communal area" in COMMUNAL_POSTCODE_OPTION and "shared parts" in COMMUNAL_POSTCODE_OPTION
