"""Routing: every job a council offers reaches a scheduler, and every trade its adaptors'
settings name is a trade the council has.

Without these checks a council file could offer a job no scheduler takes (the resident is
refused only when asking for appointments) or give capacity to a misspelt trade (which no
job ever uses). Problems are answered as pydantic-style locations (``("triage",
"options", 0, ...)``) for ``locations.locate`` to write with the names the file gives.

An adaptor marks a settings field whose keys are trade names with
``Field(json_schema_extra=TRADE_KEYED)`` (``ports.trades``); ``"*"`` as a key means every other trade.
A scheduler's settings that can tell a job it could never offer a window for (``TakesJobs``)
are asked about each job routed to it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from difflib import get_close_matches
from typing import Protocol, runtime_checkable

from pydantic import BaseModel

from repairs_gateway.config.schema import CouncilSpec, JobSpec, TriageNodeSpec
from repairs_gateway.domain.triage import Catalogue
from repairs_gateway.ports.trades import ANY_TRADE, TRADE_KEYED, for_trade

Loc = tuple[int | str, ...]
Problem = tuple[Loc, str]


def routes_of(spec: CouncilSpec) -> dict[str, str]:
    """Which scheduler (by name) each routed trade goes to; ``"*"`` for every other trade."""
    return {trade: route.name for route in spec.schedulers for trade in route.trades}


def scheduler_for(routes: Mapping[str, str], trade: str) -> str | None:
    """The scheduler a trade's jobs go to, as the gateway routes them, or None."""
    return for_trade(routes, trade)


def _jobs(node: TriageNodeSpec, loc: Loc) -> Iterator[tuple[Loc, JobSpec]]:
    for index, option in enumerate(node.options):
        here = (*loc, "options", index)
        if option.next is not None:
            yield from _jobs(option.next, (*here, "next"))
        elif option.job is not None:
            yield (*here, "job"), option.job


def _all_jobs(spec: CouncilSpec) -> list[tuple[Loc, JobSpec]]:
    """Every job a resident can ask for: the triage leaves, then the SoR codes."""
    jobs = list(_jobs(spec.triage, ("triage",)))
    return jobs + [(("sor_codes", code), job) for code, job in spec.sor_codes.items()]


def _routes_told(spec: CouncilSpec) -> str:
    return "; ".join(f"{route.name} takes {', '.join(route.trades)}" for route in spec.schedulers)


def twice_routed(spec: CouncilSpec) -> list[Problem]:
    """Each trade a scheduler lists that an earlier scheduler lists already."""
    first: dict[str, str] = {}
    problems: list[Problem] = []
    for index, route in enumerate(spec.schedulers):
        for trade in route.trades:
            if trade in first:
                problems.append(
                    (
                        ("schedulers", index, "trades"),
                        f"{trade!r} is routed to scheduler {first[trade]!r} already (a trade goes to one)",
                    )
                )
            first.setdefault(trade, route.name)
    return problems


def unroutable_jobs(spec: CouncilSpec) -> list[Problem]:
    """Each triage leaf and directly bookable SoR code whose trade no scheduler takes."""
    routes = routes_of(spec)
    return [
        (
            (*loc, "trade"),
            f"no scheduler takes {job.trade!r} jobs ({_routes_told(spec)}): "
            f'add {job.trade!r} to a scheduler\'s trades, or route "*"',
        )
        for loc, job in _all_jobs(spec)
        if scheduler_for(routes, job.trade) is None
    ]


@runtime_checkable
class TakesJobs(Protocol):
    """Settings of a scheduler that can tell, from the file alone, a job it could never
    offer a window for (the built-in calendar's, by its capacities and window lengths)."""

    def cannot_take(self, trade: str, duration_minutes: int) -> str | None:
        """Why no window could ever be offered for such a job, or None."""
        ...


def untakeable_jobs(spec: CouncilSpec, settings: Mapping[str, BaseModel]) -> list[Problem]:
    """Each job routed to a scheduler (``settings`` by scheduler name) whose settings say it
    could never offer a window for it."""
    routes = routes_of(spec)
    problems: list[Problem] = []
    for loc, job in _all_jobs(spec):
        name = scheduler_for(routes, job.trade)
        chosen = settings.get(name) if name is not None else None
        if isinstance(chosen, TakesJobs):
            reason = chosen.cannot_take(job.trade, job.duration_minutes)
            if reason:
                problems.append((loc, f"scheduler {name!r} could never offer a window for it: {reason}"))
    return problems


def trade_keys(settings: BaseModel, loc: Loc = ()) -> Iterator[tuple[Loc, str]]:
    """Every trade named as a key of a trade-keyed field in ``settings`` (nested models,
    lists and mappings of them included), with its location; ``"*"`` is left out."""
    for name, info in type(settings).model_fields.items():
        value = getattr(settings, name)
        here = (*loc, name)
        if info.json_schema_extra == TRADE_KEYED and isinstance(value, Mapping):
            yield from (((*here, key), key) for key in value if key != ANY_TRADE)
        elif isinstance(value, BaseModel):
            yield from trade_keys(value, here)
        elif isinstance(value, Sequence) and not isinstance(value, str):
            for index, item in enumerate(value):
                if isinstance(item, BaseModel):
                    yield from trade_keys(item, (*here, index))
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(item, BaseModel):
                    yield from trade_keys(item, (*here, key))


def unknown_trades(spec: CouncilSpec, settings: BaseModel, scheduler: str | None = None) -> list[Problem]:
    """Each trade named in an adaptor's settings that the council has no job or route for;
    for a scheduler's settings, also each trade whose jobs go to another scheduler."""
    known = Catalogue(spec).trades
    routes = routes_of(spec)
    problems: list[Problem] = []
    for loc, trade in trade_keys(settings):
        if trade not in known:
            hint = get_close_matches(trade, sorted(known), n=1)
            guess = f"; did you mean {hint[0]!r}?" if hint else ""
            problems.append(
                (
                    loc,
                    f"{trade!r} is not a trade of any job or scheduler of this council "
                    f"(its trades: {', '.join(sorted(known)) or 'none'}){guess}",
                )
            )
            continue
        goes_to = scheduler_for(routes, trade)
        # A trade no scheduler takes is reported once, where its jobs are (unroutable_jobs).
        if scheduler is not None and goes_to is not None and goes_to != scheduler:
            problems.append((loc, f"{trade!r} jobs go to scheduler {goes_to!r}, so this is never used"))
    return problems
