"""Failures the API answers as RFC 9457 problem documents."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Location = Literal["path", "query", "header", "body"]

# Relative references, as the spec publishes them; resolved against the gateway's own URL.
PROBLEM_BASE = "/problems/"


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

    def __post_init__(self) -> None:
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
    return Problem(503, "backend-unavailable", "Service unavailable", detail, headers={"Retry-After": "30"})


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
