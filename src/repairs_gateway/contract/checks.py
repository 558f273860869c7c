"""Checks of every response that the spec states in prose rather than in schemas."""

from __future__ import annotations

import json
from typing import Any

from schemathesis import Case, CheckContext, CheckFunction, Response
from schemathesis.core.failures import Failure

PROBLEM_JSON = "application/problem+json"
LOCATIONS = {"path", "query", "header", "body"}

# The `type` of a problem for each status, from the table in the spec's Problem schema.
PROBLEM_TYPES: dict[int, frozenset[str]] = {
    400: frozenset({"/problems/invalid-request"}),
    401: frozenset({"/problems/unauthorized"}),
    403: frozenset({"/problems/forbidden"}),
    404: frozenset({"/problems/council-not-found", "/problems/repair-not-found"}),
    409: frozenset(
        {
            "/problems/window-unavailable",
            "/problems/request-in-progress",
            "/problems/repair-state-conflict",
            "/problems/duplicate-repair",
        }
    ),
    413: frozenset({"/problems/payload-too-large"}),
    415: frozenset({"/problems/unsupported-media-type"}),
    422: frozenset(
        {
            "/problems/property-not-eligible",
            "/problems/unknown-triage-path",
            "/problems/triage-exit",
            "/problems/unknown-sor-code",
            "/problems/unknown-trade",
            "/problems/invalid-window",
            "/problems/idempotency-key-reused",
        }
    ),
    503: frozenset({"/problems/backend-unavailable"}),
}

ANY_FIELD: frozenset[str] = frozenset({"*"})

# Schema-valid input that the spec nonetheless lets an operation refuse: rules a schema
# cannot express (a postcode that is not one, a reference whose check character is wrong,
# a repair named in two forms, a date out of range, an unknown property or job, a window id
# issued for something else). Per operation: the status, and the fields a 400 may name.
DOCUMENTED_REJECTIONS: dict[str, dict[int, frozenset[str]]] = {
    "listAddresses": {400: frozenset({"postcode"})},
    "listAppointments": {
        400: frozenset({"triagePath", "sorCode", "trade", "durationMinutes", "from", "cursor"}),
        422: ANY_FIELD,
    },
    "createRepair": {413: ANY_FIELD, 422: ANY_FIELD},
    "getRepair": {400: frozenset({"reference"})},
    "cancelRepair": {400: frozenset({"reference"})},
    "rescheduleRepair": {400: frozenset({"reference"}), 413: ANY_FIELD, 422: ANY_FIELD},
    "listRepairs": {400: frozenset({"cursor"})},
    "retryRepair": {400: frozenset({"reference"})},
}


class ProblemDocumentViolation(Failure):
    """An error answer that is not the problem document the spec promises."""

    code = "RG901"
    kind_title = "Error answer is not a problem document"


class UndocumentedRejection(Failure):
    """Schema-valid input refused in a way the spec does not document."""

    code = "RG902"
    kind_title = "Schema-valid request rejected"


def operation_id(case: Case[Any]) -> str:
    """The operationId of the case's operation."""
    return str(case.operation.definition.raw.get("operationId", case.operation.label))


def problem_fields(response: Response) -> list[str]:
    """The ``field`` of every entry in a problem's ``errors``."""
    try:
        body = response.json()
    except (ValueError, json.JSONDecodeError):
        return []
    errors = body.get("errors") if isinstance(body, dict) else None
    if not isinstance(errors, list):
        return []
    return [str(e.get("field")) for e in errors if isinstance(e, dict)]


def _problem_faults(response: Response) -> list[str]:
    status = response.status_code
    faults: list[str] = []
    content_types = response.headers.get("content-type") or [""]
    media = content_types[0].split(";")[0].strip().lower()
    if media != PROBLEM_JSON:
        faults.append(f"Content-Type is {media or 'missing'!r}, not {PROBLEM_JSON!r}")
    try:
        body: Any = response.json()
    except (ValueError, json.JSONDecodeError):
        return [*faults, "the body is not JSON"]
    if not isinstance(body, dict):
        return [*faults, "the body is not a JSON object"]
    for member in ("type", "title", "detail"):
        if not isinstance(body.get(member), str):
            faults.append(f"`{member}` is missing or not a string")
    if body.get("status") != status:
        faults.append(f"`status` is {body.get('status')!r}, not the HTTP status {status}")
    known = PROBLEM_TYPES.get(status)
    if known is not None and isinstance(body.get("type"), str) and body["type"] not in known:
        faults.append(f"`type` {body['type']!r} is not one the spec lists for {status}: {sorted(known)}")
    errors = body.get("errors")
    if status == 400 and (not isinstance(errors, list) or not errors):
        faults.append("a 400 must list each faulty field in `errors`")
    if isinstance(errors, list):
        for entry in errors:
            if not isinstance(entry, dict) or not all(
                isinstance(entry.get(k), str) for k in ("field", "message")
            ):
                faults.append(f"`errors` entry {entry!r} lacks a string `field` and `message`")
            elif entry.get("location") not in LOCATIONS:
                faults.append(f"`errors` entry {entry!r} has a `location` other than {sorted(LOCATIONS)}")
    return faults


def problem_document(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Every 4xx and 5xx is an RFC 9457 problem document, shaped as the spec says."""
    if response.status_code < 400:
        return None
    faults = _problem_faults(response)
    if faults:
        raise ProblemDocumentViolation(
            operation=case.operation.label,
            message="\n".join(f"- {fault}" for fault in faults),
        )
    return None


def documented_rejections(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Schema-valid input is accepted, or refused only where the spec documents a rule the
    schema cannot express (and a 400 names only the fields those rules are about)."""
    meta = case.meta
    status = response.status_code
    if meta is None or not meta.generation.mode.is_positive or status not in (400, 413, 415, 422):
        return None
    allowed = DOCUMENTED_REJECTIONS.get(operation_id(case), {})
    fields = allowed.get(status)
    if fields is None:
        raise UndocumentedRejection(
            operation=case.operation.label,
            message=f"The request is valid by the spec, and the spec documents no {status} for it "
            "that this request could deserve.",
        )
    named = problem_fields(response)
    if status == 400 and fields != ANY_FIELD:
        stray = [name for name in named if name not in fields]
        if stray or not named:
            raise UndocumentedRejection(
                operation=case.operation.label,
                message=f"The request is valid by the spec; a 400 for it may name only {sorted(fields)}, "
                f"but it named {named or 'nothing'}.",
            )
    return None


CUSTOM_CHECKS: list[CheckFunction] = [problem_document, documented_rejections]
