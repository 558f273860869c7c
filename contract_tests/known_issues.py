"""Gateway behaviour the suite finds at odds with the spec, not yet resolved.

Each entry names the signature of its failures, so the in-process suite can tell them from
new ones, and ``test_known_issues.py`` reproduces each one in a test marked
``xfail(strict=True)``: once the gateway (or the spec) is fixed, that test passes, strict
xfail turns the pass into a failure, and the entry must be deleted here with it.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from repairs_gateway.contract.report import Failure, Finding


def _rejected_for(finding: Finding, fields: set[str]) -> bool:
    """A valid request refused with a 400 naming only some of ``fields``, for being empty."""
    if finding.check != "Schema-valid request rejected" or finding.body is None:
        return False
    try:
        errors = json.loads(finding.body).get("errors", [])
    except (ValueError, AttributeError):
        return False
    named = {e.get("field") for e in errors if isinstance(e, dict)}
    return (
        bool(named)
        and named <= fields
        and all("at least 1 character" in str(e.get("message")) for e in errors)
    )


@dataclass(frozen=True, slots=True)
class KnownIssue:
    """A reported discrepancy and how to recognise its failures."""

    id: str
    reason: str
    matches: Callable[[Finding], bool]


# None open: the eight the suite first found were fixed in the gateway (or the spec) and are
# pinned by tests/test_spec_conformance_fixes.py. Add an entry here, with a strict-xfail
# reproduction in test_known_issues.py, only while a reported discrepancy awaits its fix.
KNOWN_ISSUES: list[KnownIssue] = []


def unexplained(failures: list[Failure]) -> list[Failure]:
    """The failures no known issue accounts for."""
    return [f for f in failures if not any(issue.matches(f.finding) for issue in KNOWN_ISSUES)]
