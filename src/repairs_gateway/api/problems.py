"""Failures the API answers as RFC 9457 problem documents, and the table that turns the
use cases' domain errors into them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from repairs_gateway.domain import errors

Location = Literal["path", "query", "header", "body"]

# Relative references, as the spec publishes them; resolved against the gateway's own URL.
PROBLEM_BASE = "/problems/"

TITLES: dict[str, str] = {
    "invalid-request": "Invalid request",
    "unauthorized": "Missing or invalid API key",
    "council-not-found": "Council not found",
    "repair-not-found": "Repair not found",
    "window-unavailable": "Window no longer available",
    "request-in-progress": "Request in progress",
    "repair-state-conflict": "Repair cannot be changed",
    "duplicate-repair": "Conflict",
    "payload-too-large": "Request body too large",
    "unsupported-media-type": "Unsupported media type",
    "property-not-eligible": "Property not eligible",
    "unknown-triage-path": "Unknown triage path",
    "triage-exit": "Cannot be booked online",
    "unknown-sor-code": "Unknown SoR code",
    "unknown-trade": "Unknown trade",
    "invalid-window": "Window not valid",
    "idempotency-key-reused": "Idempotency-Key reused",
    "backend-unavailable": "Service temporarily unavailable",
}
"""Each problem type's title, as the spec's examples give it. A type has one title whatever
the occurrence (RFC 9457: the detail says what happened this time), so a title given when a
problem of one of these types is made is replaced by this one. ``forbidden`` is left to its
callers: the spec titles a key not issued for the council and a resident key on a staff
operation differently."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """One field that was wrong, and why."""

    field: str
    location: Location
    message: str


@dataclass
class Problem(Exception):
    """A request the gateway refuses or cannot serve; rendered as application/problem+json."""

    status: int
    kind: str
    title: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    extensions: dict[str, Any] = field(default_factory=dict)
    """Further members the spec defines for this type (``existingReference``)."""

    def __post_init__(self) -> None:
        self.title = TITLES.get(self.kind, self.title)
        super().__init__(self.detail)

    @property
    def type_uri(self) -> str:
        """The problem type's URI."""
        return PROBLEM_BASE + self.kind


def invalid(field_name: str, location: Location, message: str) -> Problem:
    """A request that breaks the schema in one field: 400."""
    return Problem(
        400,
        "invalid-request",
        "Invalid request",
        f"{field_name}: {message}",
        [FieldError(field_name, location, message)],
    )


def unacceptable(kind: str, field_name: str, location: Location, message: str) -> Problem:
    """A well-formed request naming something this council cannot accept: 422."""
    return Problem(
        422,
        kind,
        "Request cannot be processed",
        f"{field_name}: {message}",
        [FieldError(field_name, location, message)],
    )


def unavailable(detail: str = "A council system is not answering; try again shortly.") -> Problem:
    """A backend is down: 503 with Retry-After."""
    return Problem(
        503, "backend-unavailable", TITLES["backend-unavailable"], detail, headers={"Retry-After": "30"}
    )


def not_found(kind: str, what: str, field_name: str, location: Location = "path") -> Problem:
    """An unknown council or repair."""
    return Problem(
        404,
        kind,
        "Not found",
        f"{what} was not found",
        [FieldError(field_name, location, f"{what} was not found")],
    )


def conflict(detail: str, kind: str) -> Problem:
    """A state that forbids the request now (window taken, change in progress)."""
    return Problem(409, kind, "Conflict", detail)


# --------------------------------------------------------------------------- domain errors

_TITLES = {
    400: "Invalid request",
    404: "Not found",
    409: "Conflict",
    422: "Request cannot be processed",
    503: "Service temporarily unavailable",
}
"""Titles by status, for a type ``TITLES`` does not name."""

ERROR_TABLE: dict[type[errors.DomainError], tuple[int, str]] = {
    errors.InvalidInput: (400, "invalid-request"),
    errors.UnknownTriagePath: (422, "unknown-triage-path"),
    errors.UnknownSorCode: (422, "unknown-sor-code"),
    errors.UnknownTrade: (422, "unknown-trade"),
    errors.TriageExit: (422, "triage-exit"),
    errors.PropertyNotEligible: (422, "property-not-eligible"),
    errors.InvalidWindow: (422, "invalid-window"),
    errors.IdempotencyKeyReused: (422, "idempotency-key-reused"),
    errors.RepairNotFound: (404, "repair-not-found"),
    errors.WindowTaken: (409, "window-unavailable"),
    errors.RepairStateConflict: (409, "repair-state-conflict"),
    errors.DuplicateRepair: (409, "duplicate-repair"),
    errors.ChangeInProgress: (409, "request-in-progress"),
    errors.BackendDown: (503, "backend-unavailable"),
}
"""Each domain error's HTTP status and problem type: the one place they are decided."""

_HEADERS = {"idempotency-key": "Idempotency-Key"}


def locate(field_name: str, path: Mapping[str, Any], query: Mapping[str, Any]) -> Location:
    """Where the request carried ``field_name``: its path, query, a header or the body."""
    top = field_name.split(".", 1)[0]
    if top in path:
        return "path"
    if top in query:
        return "query"
    if top.lower() in _HEADERS:
        return "header"
    return "body"


def from_domain(error: errors.DomainError, path: Mapping[str, Any], query: Mapping[str, Any]) -> Problem:
    """The problem document of a domain error, per ``ERROR_TABLE``."""
    status, kind = next(
        (entry for cls, entry in ERROR_TABLE.items() if isinstance(error, cls)), (500, "internal-error")
    )
    # A triage exit's own words (which exit, whom to call) are its detail; the title is the
    # type's, as the spec gives it.
    title = TITLES.get(kind, _TITLES.get(status, "Request failed"))
    headers: dict[str, str] = {}
    if isinstance(error, errors.ChangeInProgress | errors.BackendDown):
        headers["Retry-After"] = str(error.retry_after)
    field_errors: list[FieldError] = []
    detail = error.message
    if error.field is not None:
        name = _HEADERS.get(error.field.lower(), error.field)
        field_errors.append(FieldError(name, locate(error.field, path, query), error.message))
        if not isinstance(error, errors.TriageExit):
            detail = f"{name}: {error.message}"
    extensions: dict[str, Any] = {}
    if isinstance(error, errors.DuplicateRepair):
        extensions["existingReference"] = error.reference
    return Problem(status, kind, title, detail, field_errors, headers, extensions)
