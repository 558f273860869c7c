"""What a contract run found, and how a person reads it: cases per operation, and each
distinct failure under its operation with a request that reproduces it."""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass, field

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
    """A check that could not run against this implementation, and why."""

    part: str
    reason: str


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

    def count_case(self, operation: str) -> None:
        """Count one request sent to ``operation``."""
        self.cases[operation] = self.cases.get(operation, 0) + 1

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

    def skip(self, part: str, reason: str) -> None:
        """Record that a check of ``part`` could not run."""
        self.skipped.append(Skipped(part, reason))

    def _redacted(self, finding: Finding) -> Finding:
        """API keys never appear in a report: reproductions name an environment variable."""
        curl, message, body = finding.curl, finding.message, finding.body
        for secret, variable in self.secrets.items():
            if not secret:
                continue
            if curl:
                curl = curl.replace(
                    f"'Authorization: Bearer {secret}'", f'"Authorization: Bearer ${variable}"'
                )
                curl = curl.replace(secret, f"${variable}")
            message = message.replace(secret, f"${variable}")
            body = body.replace(secret, f"${variable}") if body else body
        return Finding(finding.operation, finding.part, finding.check, message, finding.status, curl, body)

    # ------------------------------------------------------------------ reading

    @property
    def ok(self) -> bool:
        """True when no check failed."""
        return not self.failures

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

    def render(self, operations: Iterable[str] | None = None, parts: Iterable[str] | None = None) -> str:
        """The report as text for a person; optionally only some operations or parts."""
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
        if self.skipped:
            lines += ["", "Not run:"]
            lines += [f"  - {s.part}: {s.reason}" for s in self.skipped]
        if shown:
            lines += ["", f"FAILURES ({len(shown)} distinct)"]
            lines += self._failure_sections(shown)
            if self.secrets:
                names = ", ".join(f"${v}" for v in sorted(set(self.secrets.values())))
                lines += ["", f"The reproductions read the API keys from {names}: export them first."]
        verdict = "PASSED" if not shown else "FAILED"
        lines += ["", f"{verdict}: {len(shown)} distinct failure(s), {self.total_cases} requests"]
        return "\n".join(lines)

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
        parts = sorted(set(self.passed) | {f.finding.part for f in self.failures.values()})
        if not parts:
            return []
        lines = ["", "Parts of the suite:"]
        for part in parts:
            failed = sum(1 for f in self.failures.values() if f.finding.part == part)
            held = self.passed.get(part, 0)
            checks = f"{held} scripted check(s) held, " if held else ""
            lines.append(f"  {part}: {checks}{failed} distinct failure(s)")
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
