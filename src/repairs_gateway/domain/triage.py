"""A council's triage tree, flattened into leaves addressable by path (``kitchen/sink/blocked``).

The domain reads the tree through the small Protocols below, not through the councils
file's schema: ``config.schema.CouncilSpec`` satisfies ``CatalogueSource`` as it stands, and
so would anything else that holds a triage tree (the domain imports nothing above ``ports``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from repairs_gateway.ports import Job, Priority

ExitKind = Literal["emergency", "unable_to_book", "not_responsible", "contact_us"]
"""Why a triage path ends without a booking."""


class JobShape(Protocol):
    """A bookable job as a council configures it."""

    @property
    def sor_code(self) -> str | None: ...
    @property
    def trade(self) -> str: ...
    @property
    def priority(self) -> Priority: ...
    @property
    def duration_minutes(self) -> int: ...


class ExitShape(Protocol):
    """An early exit as a council configures it."""

    @property
    def kind(self) -> ExitKind: ...
    @property
    def message(self) -> str: ...


class OptionShape(Protocol):
    """One answer to a triage question: exactly one of ``next``, ``job`` and ``exit`` is set."""

    @property
    def id(self) -> str: ...
    @property
    def next(self) -> NodeShape | None: ...
    @property
    def job(self) -> JobShape | None: ...
    @property
    def exit(self) -> ExitShape | None: ...


class NodeShape(Protocol):
    """A triage question and its answers."""

    @property
    def options(self) -> Sequence[OptionShape]: ...


class RouteShape(Protocol):
    """A scheduler route: the trades it takes (``"*"`` for every other trade)."""

    @property
    def trades(self) -> Sequence[str]: ...


class CatalogueSource(Protocol):
    """What a catalogue is made of: the triage tree, the SoR codes booked by code, and the
    trades the council's schedulers take."""

    @property
    def triage(self) -> NodeShape: ...
    @property
    def sor_codes(self) -> Mapping[str, JobShape]: ...
    @property
    def schedulers(self) -> Sequence[RouteShape]: ...


@dataclass(frozen=True, slots=True)
class Exit:
    """Where a triage path ends without a booking, and what the resident is told instead."""

    kind: ExitKind
    message: str


@dataclass(frozen=True, slots=True)
class Leaf:
    """The end of a triage path: a job, or an exit."""

    path: str
    job: Job | None
    exit: Exit | None


def to_job(spec: JobShape) -> Job:
    """The adapter-facing job of a configured job."""
    return Job(
        trade=spec.trade,
        duration_minutes=spec.duration_minutes,
        priority=spec.priority,
        sor_code=spec.sor_code,
    )


def _walk(node: NodeShape, prefix: str) -> Iterator[Leaf]:
    for option in node.options:
        path = f"{prefix}/{option.id}" if prefix else option.id
        if option.next is not None:
            yield from _walk(option.next, path)
        else:
            ending = Exit(option.exit.kind, option.exit.message) if option.exit else None
            yield Leaf(path, to_job(option.job) if option.job else None, ending)


class Catalogue:
    """What a council can book: triage leaves, SoR codes and trades."""

    def __init__(self, source: CatalogueSource) -> None:
        self.leaves = {leaf.path: leaf for leaf in _walk(source.triage, "")}
        self.sor_codes: dict[str, Job] = {
            leaf.job.sor_code.upper(): leaf.job
            for leaf in self.leaves.values()
            if leaf.job and leaf.job.sor_code
        }
        self.sor_codes.update({code.upper(): to_job(job) for code, job in source.sor_codes.items()})
        self.trades = {job.trade for job in self.sor_codes.values()}
        self.trades |= {leaf.job.trade for leaf in self.leaves.values() if leaf.job}
        self.trades |= {t for route in source.schedulers for t in route.trades if t != "*"}
