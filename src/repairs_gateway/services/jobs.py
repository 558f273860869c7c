"""Turning the three ways a caller names a repair into the job a scheduler books."""

from __future__ import annotations

from dataclasses import dataclass

from repairs_gateway.ports import Job, Priority
from repairs_gateway.runtime import CouncilRuntime
from repairs_gateway.services.problems import FieldError, Location, Problem, unacceptable

EXIT_TITLES = {
    "emergency": "This is an emergency",
    "unable_to_book": "This repair cannot be booked online",
    "not_responsible": "This repair is not the council's responsibility",
    "contact_us": "Please contact the council about this repair",
}


@dataclass(frozen=True, slots=True)
class RepairSpec:
    """A repair as named by the caller: exactly one of the three forms is set."""

    triage_path: str | None = None
    sor_code: str | None = None
    trade: str | None = None
    duration_minutes: int | None = None


def resolve_job(council: CouncilRuntime, spec: RepairSpec, location: Location, prefix: str = "") -> Job:
    """The job for ``spec``; 422 naming the field when it is unknown or cannot be booked."""
    catalogue = council.catalogue
    if spec.triage_path is not None:
        path = spec.triage_path.strip("/").lower()
        leaf = catalogue.leaves.get(path)
        if leaf is None:
            raise unacceptable(
                "unknown-triage-path",
                f"{prefix}triagePath",
                location,
                f"{spec.triage_path!r} is not a leaf of this council's triage",
            )
        if leaf.exit is not None:
            raise Problem(
                422,
                "triage-exit",
                EXIT_TITLES[leaf.exit.kind],
                leaf.exit.message,
                [FieldError(f"{prefix}triagePath", location, leaf.exit.message)],
            )
        assert leaf.job is not None
        return leaf.job
    if spec.sor_code is not None:
        job = catalogue.sor_codes.get(spec.sor_code.upper())
        if job is None:
            raise unacceptable(
                "unknown-sor-code",
                f"{prefix}sorCode",
                location,
                f"{spec.sor_code!r} is not an SoR code this council books online",
            )
        return job
    assert spec.trade is not None and spec.duration_minutes is not None
    if spec.trade not in catalogue.trades:
        raise unacceptable(
            "unknown-trade",
            f"{prefix}trade",
            location,
            f"{spec.trade!r} is not a trade this council books online",
        )
    return Job(trade=spec.trade, duration_minutes=spec.duration_minutes, priority=Priority.NORMAL)
