"""Turning the three ways a caller names a repair into the job a scheduler books."""

from __future__ import annotations

from dataclasses import dataclass

from repairs_gateway.domain.errors import TriageExit, UnknownSorCode, UnknownTrade, UnknownTriagePath
from repairs_gateway.ports import Job, Priority
from repairs_gateway.runtime import CouncilRuntime


@dataclass(frozen=True, slots=True)
class RepairSpec:
    """A repair as named by the caller: exactly one of the three forms is set."""

    triage_path: str | None = None
    sor_code: str | None = None
    trade: str | None = None
    duration_minutes: int | None = None


def resolve_job(council: CouncilRuntime, spec: RepairSpec, prefix: str = "") -> Job:
    """The job for ``spec``; a domain error naming the field (``prefix`` + its name) when it
    is unknown or cannot be booked online."""
    catalogue = council.catalogue
    if spec.triage_path is not None:
        path = spec.triage_path.strip("/").lower()
        leaf = catalogue.leaves.get(path)
        if leaf is None:
            raise UnknownTriagePath(
                f"{spec.triage_path!r} is not a leaf of this council's triage", f"{prefix}triagePath"
            )
        if leaf.exit is not None:
            raise TriageExit(leaf.exit.kind, leaf.exit.message, f"{prefix}triagePath")
        assert leaf.job is not None
        return leaf.job
    if spec.sor_code is not None:
        job = catalogue.sor_codes.get(spec.sor_code.upper())
        if job is None:
            raise UnknownSorCode(
                f"{spec.sor_code!r} is not an SoR code this council books online", f"{prefix}sorCode"
            )
        return job
    assert spec.trade is not None and spec.duration_minutes is not None
    if spec.trade not in catalogue.trades:
        raise UnknownTrade(f"{spec.trade!r} is not a trade this council books online", f"{prefix}trade")
    return Job(trade=spec.trade, duration_minutes=spec.duration_minutes, priority=Priority.NORMAL)
