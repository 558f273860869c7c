"""What a contract run found, and how a person reads it: cases per operation, and each
distinct failure under its operation with a request that reproduces it."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

# How many characters of a failure's message and of a response body the text report shows.
MESSAGE_LIMIT = 1200
BODY_LIMIT = 600
CURL_LIMIT = 1500
_QUOTED = re.compile(r"\"[^\"]*\"|'[^']*'|\d+")


def signature(message: str) -> str:
    """What tells one failure from another of the same check: the part of the spec that was
    broken when the message names it, else the message's first line without its values."""
    for line in message.splitlines():
        if line.startswith("Schema at "):
            return line.strip()
    first = message.strip().splitlines()[0] if message.strip() else ""
    return _QUOTED.sub("…", first)


@dataclass(frozen=True, slots=True)
class Finding:
    """One failed check: where (operation and part of the suite), what, and how to reproduce it."""

    operation: str
    part: str
    check: str
    message: str
    status: int | None = None
    curl: str | None = None
    body: str | None = None

    @property
    def key(self) -> tuple[str, str, str, int | None, str]:
        """Findings with the same key are the same failure seen again."""
        return (self.operation, self.part, self.check, self.status, signature(self.message))


@dataclass(slots=True)
class Failure:
    """A distinct failure, with the first request that showed it and how often it recurred."""

    finding: Finding
    occurrences: int = 1


@dataclass(frozen=True, slots=True)
class Skipped:
    """A check that could not run against this implementation, why, and the option that
    would let it run (None when no option can: the implementation's data must change)."""

    part: str
    reason: str
    option: str | None = None


class Verdict(Enum):
    """How a run ended, least to most severe (the order in which several runs sum up)."""

    PASSED = "PASSED"
    # A partial run the caller accepted (--allow-partial): exit 0, but never called passed.
    PARTIAL = "PARTIAL"
    INCOMPLETE = "INCOMPLETE"
    FAILED = "FAILED"
    STOPPED = "STOPPED"

    @property
    def exit_status(self) -> int:
        """The exit status ``contract-test`` gives for this verdict."""
        return EXIT_STATUS[self]


# 2 is click's, for bad options.
EXIT_STATUS = {
    Verdict.PASSED: 0,
    Verdict.PARTIAL: 0,
    Verdict.FAILED: 1,
    Verdict.INCOMPLETE: 3,
    Verdict.STOPPED: 4,
}


def worst(verdicts: Iterable[Verdict]) -> Verdict:
    """The verdict of several runs together: the most severe of theirs."""
    order = list(Verdict)
    return max(verdicts, key=order.index, default=Verdict.PASSED)


@dataclass(slots=True)
class Report:
    """The outcome of a contract run."""

    target: str
    operations: list[str]
    cases: dict[str, int] = field(default_factory=dict)
    failures: dict[tuple[str, str, str, int | None, str], Failure] = field(default_factory=dict)
    passed: dict[str, int] = field(default_factory=dict)
    skipped: list[Skipped] = field(default_factory=list)
    secrets: dict[str, str] = field(default_factory=dict)
    # The parts this run meant to run, in order; each must have checked something.
    parts: list[str] = field(default_factory=list)
    # Requests sent by each part of the suite.
    part_cases: dict[str, int] = field(default_factory=dict)
    # Why the run stopped before testing anything (a key refused, no answer), if it did.
    stopped: str | None = None

    def count_case(self, operation: str, part: str | None = None) -> None:
        """Count one request sent to ``operation`` (by ``part`` of the suite, when given)."""
        self.cases[operation] = self.cases.get(operation, 0) + 1
        if part is not None:
            self.part_cases[part] = self.part_cases.get(part, 0) + 1

    def add(self, finding: Finding) -> None:
        """Record a failed check; a repeat of a known failure only raises its count."""
        finding = self._redacted(finding)
        known = self.failures.get(finding.key)
        if known is None:
            self.failures[finding.key] = Failure(finding)
            return
        known.occurrences += 1
        # The shortest reproduction is the easiest to read.
        if finding.curl and (known.finding.curl is None or len(finding.curl) < len(known.finding.curl)):
            known.finding = finding

    def pass_check(self, part: str) -> None:
        """Count a scripted check of ``part`` that held."""
        self.passed[part] = self.passed.get(part, 0) + 1

    def skip(self, part: str, reason: str, option: str | None = None) -> None:
        """Record that a check of ``part`` could not run, and the option that would run it."""
        self.skipped.append(Skipped(part, reason, option))

    def stop(self, reason: str) -> None:
        """Record that the run cannot go on at all (nothing after this is tested)."""
        self.stopped = self.hide_secrets(reason)

    def hide_secrets(self, text: str) -> str:
        """``text`` with each API key of the run named by its environment variable."""
        for secret, variable in self.secrets.items():
            if secret:
                text = text.replace(secret, f"${variable}")
        return text

    def _redacted(self, finding: Finding) -> Finding:
        """API keys never appear in a report: reproductions name an environment variable."""
        curl = finding.curl
        if curl:
            for secret, variable in self.secrets.items():
                if secret:
                    curl = curl.replace(
                        f"'Authorization: Bearer {secret}'", f'"Authorization: Bearer ${variable}"'
                    )
            curl = self.hide_secrets(curl)
        message = self.hide_secrets(finding.message)
        body = self.hide_secrets(finding.body) if finding.body else finding.body
        return Finding(finding.operation, finding.part, finding.check, message, finding.status, curl, body)

    # ------------------------------------------------------------------ reading

    @property
    def ok(self) -> bool:
        """True when no check failed (see ``verdict`` for whether every part ran)."""
        return not self.failures

    def not_run(self) -> list[Skipped]:
        """Every check that did not run: those skipped, and each planned part that checked
        nothing at all."""
        missing = [
            Skipped(part, "it checked nothing")
            for part in self.parts
            if not (self.passed.get(part) or self.part_cases.get(part))
            and not any(s.part == part for s in self.skipped)
            and not any(f.finding.part == part for f in self.failures.values())
        ]
        return [*self.skipped, *missing]

    def options_to_run_the_rest(self) -> list[str]:
        """The options that would let the checks that did not run run, each once."""
        return list(dict.fromkeys(s.option for s in self.not_run() if s.option))

    def verdict(self, partial_accepted: bool = False, failures: list[Failure] | None = None) -> Verdict:
        """PASSED only when nothing failed and every part ran; a partial run is INCOMPLETE,
        or PARTIAL when the caller accepts one."""
        if self.stopped is not None:
            return Verdict.STOPPED
        if failures if failures is not None else self.failures:
            return Verdict.FAILED
        if self.not_run():
            return Verdict.PARTIAL if partial_accepted else Verdict.INCOMPLETE
        return Verdict.PASSED

    def failures_of(self, operation: str | None = None, part: str | None = None) -> list[Failure]:
        """The distinct failures, optionally of one operation and one part of the suite."""
        return [
            f
            for f in self.failures.values()
            if (operation is None or f.finding.operation == operation)
            and (part is None or f.finding.part == part)
        ]

    @property
    def total_cases(self) -> int:
        """Requests sent in all."""
        return sum(self.cases.values())

    def render(
        self,
        operations: Iterable[str] | None = None,
        parts: Iterable[str] | None = None,
        partial_accepted: bool = False,
    ) -> str:
        """The report as text for a person; optionally only some operations or parts.
        ``partial_accepted``: the caller accepts a run where some parts did not run."""
        if self.stopped is not None:
            return "\n".join([f"Repairs API contract test of {self.target}", "", f"STOPPED: {self.stopped}"])
        wanted_ops = set(operations) if operations is not None else None
        wanted_parts = set(parts) if parts is not None else None
        shown = [
            f
            for f in self.failures.values()
            if (wanted_ops is None or f.finding.operation in wanted_ops)
            and (wanted_parts is None or f.finding.part in wanted_parts)
        ]
        lines = [f"Repairs API contract test of {self.target}", ""]
        lines += self._coverage_table(shown)
        lines += self._parts_summary()
        not_run = self.not_run()
        if not_run:
            lines += ["", "Not run:"]
            lines += [
                f"  - {s.part}: {s.reason}" + (f" (to run it: {s.option})" if s.option else "")
                for s in not_run
            ]
        if shown:
            lines += ["", f"FAILURES ({len(shown)} distinct)"]
            lines += self._failure_sections(shown)
            if self.secrets:
                names = ", ".join(f"${v}" for v in sorted(set(self.secrets.values())))
                lines += ["", f"The reproductions read the API keys from {names}: export them first."]
        verdict = self.verdict(partial_accepted, shown)
        summary = f"{len(shown)} distinct failure(s), {self.total_cases} requests"
        if not_run:
            summary += f"; {len(not_run)} check(s) did not run"
        lines += ["", f"{verdict.name}: {summary}"]
        lines += self._to_run_the_rest(verdict)
        return "\n".join(lines)

    def _to_run_the_rest(self, verdict: Verdict) -> list[str]:
        if verdict is Verdict.PASSED or not self.not_run():
            return []
        options = self.options_to_run_the_rest()
        lines = ["To run every part, pass " + ", ".join(options) + "."] if options else []
        if verdict is Verdict.INCOMPLETE:
            lines.append("Not every part ran, so this run is not a pass (--allow-partial accepts it).")
        elif verdict is Verdict.PARTIAL:
            lines.append("Accepted as partial (--allow-partial): the checks under Not run did not run.")
        return lines

    def _coverage_table(self, shown: list[Failure]) -> list[str]:
        width = max([len("operation"), *(len(op) for op in self.operations), *(len(op) for op in self.cases)])
        lines = [f"{'operation':<{width}}  {'requests':>8}  {'failures':>8}"]
        extra = [op for op in self.cases if op not in self.operations]
        for op in [*self.operations, *extra]:
            failures = sum(1 for f in shown if f.finding.operation == op)
            lines.append(f"{op:<{width}}  {self.cases.get(op, 0):>8}  {failures:>8}")
        covered = sum(1 for op in self.operations if self.cases.get(op, 0) > 0)
        lines.append(
            f"{covered}/{len(self.operations)} operations covered, {self.total_cases} requests, "
            f"{len(shown)} distinct failure(s)"
        )
        return lines

    def _parts_summary(self) -> list[str]:
        seen = set(self.passed) | set(self.part_cases) | {f.finding.part for f in self.failures.values()}
        parts = [*self.parts, *sorted(seen - set(self.parts))]
        if not parts:
            return []
        lines = ["", "Parts of the suite:"]
        for part in parts:
            failed = sum(1 for f in self.failures.values() if f.finding.part == part)
            held = self.passed.get(part, 0)
            sent = self.part_cases.get(part, 0)
            skipped = sum(1 for s in self.not_run() if s.part == part)
            checks = f"{held} scripted check(s) held, " if held else ""
            state = f", {skipped} check(s) NOT RUN" if skipped else ""
            lines.append(f"  {part}: {sent} requests, {checks}{failed} distinct failure(s){state}")
        return lines

    @staticmethod
    def _failure_sections(shown: list[Failure]) -> list[str]:
        lines: list[str] = []
        by_operation: dict[str, list[Failure]] = {}
        for failure in shown:
            by_operation.setdefault(failure.finding.operation, []).append(failure)
        for operation, failures in by_operation.items():
            lines += ["", f"== {operation}: {len(failures)} distinct failure(s)"]
            for number, failure in enumerate(failures, 1):
                f = failure.finding
                status = f" -> HTTP {f.status}" if f.status is not None else ""
                where = signature(f.message)
                if where.startswith("Schema at "):
                    status += " at " + where.removeprefix("Schema at /components/schemas/").rstrip(":")
                seen = f", seen {failure.occurrences} times" if failure.occurrences > 1 else ""
                lines.append(f"{number}. [{f.part}] {f.check}{status}{seen}")
                message = f.message if len(f.message) <= MESSAGE_LIMIT else f.message[:MESSAGE_LIMIT] + " ..."
                lines += [textwrap.indent(message.strip(), "     ")]
                if f.body:
                    body = f.body if len(f.body) <= BODY_LIMIT else f.body[:BODY_LIMIT] + " ..."
                    lines += ["     Response body:", textwrap.indent(body, "       ")]
                if f.curl:
                    curl = f.curl if len(f.curl) <= CURL_LIMIT else f.curl[:CURL_LIMIT] + " ... (cut)"
                    lines += ["     Reproduce with:", textwrap.indent(curl, "       ")]
        return lines
