"""``repairs-gateway contract-test``: hold an implementation of the Repairs API to the spec."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from repairs_gateway.contract.defaults import DEFAULT_EXAMPLES, DEFAULT_SCENARIOS
from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.contract.report import Report, worst


def _progress(quiet: bool) -> Callable[[str], None] | None:
    if quiet:
        return None
    return lambda message: click.echo(f"... {message}", err=True)


def _finish(reports: list[Report], report_file: Path | None, allow_partial: bool) -> None:
    text = "\n\n".join(report.render(partial_accepted=allow_partial) for report in reports)
    click.echo(text)
    if report_file is not None:
        report_file.write_text(text + "\n", encoding="utf-8")
    sys.exit(worst(report.verdict(allow_partial) for report in reports).exit_status)


@click.command("contract-test")
@click.option("--base-url", help="The implementation to test, e.g. http://127.0.0.1:8000 (live mode).")
@click.option(
    "--api-key", envvar="REPAIRS_API_KEY", help="An API key issued for --council [env: REPAIRS_API_KEY]."
)
@click.option("--council", help="The council to test; the key must be issued for it.")
@click.option("--other-council", help="A second council the implementation serves, for isolation checks.")
@click.option(
    "--other-api-key",
    envvar="REPAIRS_OTHER_API_KEY",
    help="A key NOT issued for --council (403 expected there) [env: REPAIRS_OTHER_API_KEY].",
)
@click.option(
    "--staff-api-key",
    envvar="REPAIRS_STAFF_API_KEY",
    help="A staff key issued for --council, for the staff operations; without it they are called "
    "with --api-key [env: REPAIRS_STAFF_API_KEY].",
)
@click.option(
    "--postcode", "postcodes", multiple=True, help="A postcode with properties of --council; repeatable."
)
@click.option("--other-postcode", "other_postcodes", multiple=True, help="The same, for --other-council.")
@click.option(
    "--target",
    "targets",
    multiple=True,
    help="Test the gateway in-process on this registered backend; repeatable; 'all' for every one.",
)
@click.option(
    "--examples",
    default=DEFAULT_EXAMPLES,
    show_default=True,
    type=click.IntRange(0),
    envvar="REPAIRS_CONTRACT_EXAMPLES",
    help="Generated requests per operation.",
)
@click.option(
    "--scenarios",
    default=DEFAULT_SCENARIOS,
    show_default=True,
    type=click.IntRange(0),
    envvar="REPAIRS_CONTRACT_SCENARIOS",
    help="Random walks along the spec's links.",
)
@click.option(
    "--seed", type=int, default=None, help="Seed for generation (default: the same cases every run)."
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the report here.",
)
@click.option(
    "--allow-partial",
    is_flag=True,
    help="Exit 0 when nothing failed although some parts did not run; the report still says "
    "PARTIAL and lists them (without it such a run is INCOMPLETE, exit 3).",
)
@click.option("--quiet", is_flag=True, help="No progress lines on stderr.")
def contract_test(
    base_url: str | None,
    api_key: str | None,
    council: str | None,
    other_council: str | None,
    other_api_key: str | None,
    staff_api_key: str | None,
    postcodes: tuple[str, ...],
    other_postcodes: tuple[str, ...],
    targets: tuple[str, ...],
    examples: int,
    scenarios: int,
    seed: int | None,
    report_file: Path | None,
    allow_partial: bool,
    quiet: bool,
) -> None:
    """Hold an implementation of the Repairs API to the spec this package ships.

    Live mode (--base-url, --api-key, --council) tests any running implementation: a supplier's
    own, or `repairs-gateway demo`. In-process mode (--target) starts this gateway on a
    registered backend. The report groups failures by operation, each with a curl command that
    reproduces it, and lists the checks that did not run with the option that would run each.

    \b
    Exit status:
      0 PASSED (every part ran, nothing failed), or PARTIAL with --allow-partial
      1 FAILED (a check failed)
      2 bad options
      3 INCOMPLETE (nothing failed, but some checks did not run)
      4 STOPPED (a key refused or the wrong one, a council not served, no answer:
        nothing tested)
    """
    try:
        from repairs_gateway.contract.runner import RunOptions, run_contract
    except ImportError as exc:  # schemathesis and hypothesis come with the testing extra
        raise click.UsageError(f"{exc}: install repairs-gateway[testing] to run the contract suite") from None
    options = RunOptions(examples=examples, scenarios=scenarios, seed=seed)
    progress = _progress(quiet)
    if base_url and targets:
        raise click.UsageError("give either --base-url (live mode) or --target (in-process), not both")
    if base_url:
        if not api_key or not council:
            raise click.UsageError("live mode needs --api-key and --council")
        endpoint = Endpoint(
            base_url=base_url,
            api_key=api_key,
            council=council,
            other_council=other_council,
            other_api_key=other_api_key,
            postcodes=postcodes,
            other_postcodes=other_postcodes,
            staff_api_key=staff_api_key,
        )
        _finish([run_contract(endpoint, options, progress)], report_file, allow_partial)
    if not targets:
        raise click.UsageError("give --base-url (live mode) or --target (in-process)")
    from repairs_gateway.contract.targets import TargetError, discover_gateway, discover_targets

    try:
        serve_gateway = discover_gateway()
    except TargetError as exc:
        raise click.UsageError(str(exc)) from None

    known = discover_targets()
    names = list(known) if "all" in targets else list(targets)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise click.UsageError(
            f"no contract target {', '.join(unknown)}; registered: {', '.join(known) or 'none'}"
        )
    reports = []
    for name in names:
        with serve_gateway(known[name]) as endpoint:
            report = run_contract(endpoint, options, progress)
            report.target = f"the gateway on {name}: {report.target}"
            reports.append(report)
    _finish(reports, report_file, allow_partial)
