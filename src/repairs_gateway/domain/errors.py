"""Why a use case refuses or cannot serve a request, in the domain's words.

Services raise these; the HTTP layer maps each class to a status code, a problem type and
a title in one table (``repairs_gateway.api.problems.ERROR_TABLE``). ``field`` names the
request field at fault as the caller sent it (``windowId``, ``repair.triagePath``); where
it came from (path, query, header, body) is for the HTTP layer to say.
"""

from __future__ import annotations


class DomainError(Exception):
    """Base of the use cases' refusals. ``message`` is safe to show to the caller."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


# --- the request names something wrong (400 and 422)


class InvalidInput(DomainError):
    """A value breaks the request's rules (a past date, a cursor not ours)."""


class UnknownTriagePath(DomainError):
    """Not a leaf of the council's triage."""


class UnknownSorCode(DomainError):
    """Not an SoR code the council books online."""


class UnknownTrade(DomainError):
    """Not a trade the council books online, or no scheduler takes it."""


class TriageExit(DomainError):
    """The triage leaf is an early exit (emergency, not bookable online, ...)."""

    def __init__(self, exit_kind: str, message: str, field: str | None = None) -> None:
        super().__init__(message, field)
        self.exit_kind = exit_kind


class PropertyNotEligible(DomainError):
    """The UPRN is not an eligible property of this council."""


class InvalidWindow(DomainError):
    """A window id that is forged, expired, or offered for something else."""


class IdempotencyKeyReused(DomainError):
    """The Idempotency-Key was used before with another request body."""


# --- the state of things forbids it (404 and 409)


class RepairNotFound(DomainError):
    """No repair with this reference at this council."""


class WindowTaken(DomainError):
    """The window is no longer free."""


class RepairStateConflict(DomainError):
    """The repair's status forbids the change (cancelling a completed repair)."""


class DuplicateRepair(DomainError):
    """The report repeats an open repair of the same job at the same home; ``reference`` is
    that repair's. The caller may say it is a new problem and report it again."""

    def __init__(self, message: str, reference: str) -> None:
        super().__init__(message)
        self.reference = reference


class ChangeInProgress(DomainError):
    """Another change to this repair is under way, or a crashed one is being settled;
    ``retry_after`` seconds is a fair wait before asking again."""

    def __init__(self, message: str, retry_after: int = 5) -> None:
        super().__init__(message)
        self.retry_after = retry_after


# --- a backend cannot answer (503)


class BackendDown(DomainError):
    """A council system is not answering; nothing the caller sent is lost."""

    def __init__(
        self, message: str = "A council system is not answering; try again shortly.", retry_after: int = 30
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
