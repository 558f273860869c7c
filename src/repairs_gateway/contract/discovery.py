"""Real values from the implementation under test (properties, triage leaves, windows), so
that generated requests reach the paths behind the lookups and not only their 4xx."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from repairs_gateway.contract.session import ContractSession

PART = "discovery"
# Postcodes the spec's examples use; tried when the caller names none.
EXAMPLE_POSTCODES = ("NF1 1AA",)


@dataclass(frozen=True, slots=True)
class JobLeaf:
    """A bookable triage leaf and the job it resolves to."""

    path: str
    sor_code: str | None
    trade: str
    duration_minutes: int


@dataclass(slots=True)
class TargetData:
    """What the suite learnt about the council under test."""

    councils: list[str] = field(default_factory=list)
    postcodes: list[str] = field(default_factory=list)
    uprns: list[str] = field(default_factory=list)
    # The properties by kind, for the checks of a repeated report (homes and communal areas).
    dwellings: list[str] = field(default_factory=list)
    communal: list[str] = field(default_factory=list)
    jobs: list[JobLeaf] = field(default_factory=list)
    exits: list[str] = field(default_factory=list)
    window_ids: list[str] = field(default_factory=list)
    cursor: str | None = None
    references: list[str] = field(default_factory=list)

    @property
    def can_book(self) -> bool:
        """Whether a property, a job and free windows were found."""
        return bool(self.uprns and self.jobs and self.window_ids)


def _leaves(node: dict[str, Any], data: TargetData) -> None:
    for option in node.get("options", []) if isinstance(node, dict) else []:
        if not isinstance(option, dict):
            continue
        if isinstance(option.get("next"), dict):
            _leaves(option["next"], data)
        outcome = option.get("outcome")
        if not isinstance(outcome, dict) or not isinstance(outcome.get("path"), str):
            continue
        job = outcome.get("job")
        if outcome.get("type") == "job" and isinstance(job, dict):
            try:
                data.jobs.append(
                    JobLeaf(
                        outcome["path"], job.get("sorCode"), str(job["trade"]), int(job["durationMinutes"])
                    )
                )
            except (KeyError, TypeError, ValueError):
                continue
        elif outcome.get("type") == "exit":
            data.exits.append(outcome["path"])


def _json(response: Any) -> Any:
    if response is None or response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def discover(session: ContractSession) -> TargetData:
    """Ask the implementation for the values later parts need; what it cannot answer is
    recorded as skipped, and the parts that need it report why they did not run."""
    endpoint = session.endpoint
    data = TargetData()
    listed = _json(session.request("listCouncils", PART))
    if isinstance(listed, dict):
        data.councils = [str(c.get("id")) for c in listed.get("councils", []) if isinstance(c, dict)]
    tree = _json(session.request("getTriage", PART))
    if isinstance(tree, dict):
        _leaves(tree, data)
    for postcode in endpoint.postcodes or EXAMPLE_POSTCODES:
        found = _json(session.request("listAddresses", PART, query={"postcode": postcode}))
        addresses = found.get("addresses", []) if isinstance(found, dict) else []
        uprns = [a["uprn"] for a in addresses if isinstance(a, dict) and isinstance(a.get("uprn"), str)]
        if uprns:
            data.postcodes.append(postcode)
            data.uprns.extend(u for u in uprns if u not in data.uprns)
        for address in addresses:
            if not isinstance(address, dict) or not isinstance(address.get("uprn"), str):
                continue
            kinds = {"dwelling": data.dwellings, "communal": data.communal}
            listed = kinds.get(str(address.get("kind")))
            if listed is not None and address["uprn"] not in listed:
                listed.append(address["uprn"])
    if not data.uprns:
        session.report.skip(PART, "no postcode with eligible properties was found: pass --postcode")
    if not data.jobs:
        session.report.skip(PART, "the triage tree has no bookable job leaf")
    if data.uprns and data.jobs:
        page = _json(
            session.request(
                "listAppointments", PART, query={"uprn": data.uprns[0], "triagePath": data.jobs[0].path}
            )
        )
        if isinstance(page, dict):
            for day in page.get("days", [])[:2]:
                data.window_ids.extend(w["id"] for w in day.get("windows", []) if isinstance(w, dict))
            data.cursor = page.get("nextCursor")
        if not data.window_ids:
            session.report.skip(PART, f"no free window for {data.jobs[0].path} at {data.uprns[0]}")
    _seed_repairs(session, data)
    return data


def _seed_repairs(session: ContractSession, data: TargetData) -> None:
    """Two repairs to look up, cancel and move: one recorded without a window, one booked
    (each a new problem, so neither is taken for a repeat of the other)."""
    if not (data.uprns and data.jobs):
        return
    base = {
        "uprn": data.uprns[0],
        "repair": {"triagePath": data.jobs[0].path},
        "description": "Contract test: the kitchen sink is blocked.",
        "contact": {"name": "Contract Test", "phone": "07700 900123", "preferredChannel": "sms"},
        "newProblem": True,
    }
    bodies = [base]
    if data.window_ids:
        bodies.append({**base, "windowId": data.window_ids[-1]})
    for body in bodies:
        created = _json_created(
            session.request("createRepair", PART, body=body, headers={"Idempotency-Key": str(uuid.uuid4())})
        )
        if created is not None:
            data.references.append(created)


def _json_created(response: Any) -> str | None:
    if response is None or response.status_code != 201:
        return None
    try:
        reference = response.json().get("reference")
    except (ValueError, AttributeError):
        return None
    return reference if isinstance(reference, str) else None
