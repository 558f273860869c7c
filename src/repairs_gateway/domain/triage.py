"""A council's triage tree, flattened into leaves addressable by path (``kitchen/sink/blocked``)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from repairs_gateway.config.schema import CouncilSpec, ExitSpec, JobSpec, TriageNodeSpec
from repairs_gateway.ports import Job


@dataclass(frozen=True, slots=True)
class Leaf:
    """The end of a triage path: a job, or an exit."""

    path: str
    job: Job | None
    exit: ExitSpec | None


def to_job(spec: JobSpec) -> Job:
    """The adaptor-facing job of a configured job."""
    return Job(
        trade=spec.trade,
        duration_minutes=spec.duration_minutes,
        priority=spec.priority,
        sor_code=spec.sor_code,
    )


def _walk(node: TriageNodeSpec, prefix: str) -> Iterator[Leaf]:
    for option in node.options:
        path = f"{prefix}/{option.id}" if prefix else option.id
        if option.next is not None:
            yield from _walk(option.next, path)
        else:
            yield Leaf(path, to_job(option.job) if option.job else None, option.exit)


class Catalogue:
    """What a council can book: triage leaves, SoR codes and trades."""

    def __init__(self, spec: CouncilSpec) -> None:
        self.leaves = {leaf.path: leaf for leaf in _walk(spec.triage, "")}
        self.sor_codes: dict[str, Job] = {
            leaf.job.sor_code.upper(): leaf.job
            for leaf in self.leaves.values()
            if leaf.job and leaf.job.sor_code
        }
        self.sor_codes.update({code.upper(): to_job(job) for code, job in spec.sor_codes.items()})
        self.trades = {job.trade for job in self.sor_codes.values()}
        self.trades |= {leaf.job.trade for leaf in self.leaves.values() if leaf.job}
        self.trades |= {t for route in spec.schedulers for t in route.trades if t != "*"}
