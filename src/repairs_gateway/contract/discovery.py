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

# The options that give the suite what it could not discover, as a report names them.
POSTCODE_OPTION = "--postcode POSTCODE"
# The communal-area checks need a postcode where discovery finds an address of kind communal.
COMMUNAL_POSTCODE_OPTION = (
    "--postcode POSTCODE where the council has a communal area (an address of kind communal: "
    "the shared parts of a building or estate; --postcode repeats)"
)
OTHER_COUNCIL_OPTION = "--other-council ID"
OTHER_POSTCODE_OPTION = "--other-postcode POSTCODE"
OTHER_KEY_OPTION = "--other-api-key KEY"


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

    def unbookable(self) -> tuple[str, str | None]:
        """Why no repair can be reported (no property, or no job to report), and the option
        that would help, for a part that needs one."""
        if not self.uprns:
            return "no property was found (see discovery)", POSTCODE_OPTION
        return "the triage tree has no bookable job (see discovery)", None


def postcodes_looked_at(postcodes: tuple[str, ...]) -> str:
    """Where discovery looked for properties, for a reason that found none of a kind: the
    postcodes given, or the spec's example postcode when none was."""
    if postcodes:
        return f"the postcodes given ({', '.join(postcodes)})"
    return f"the spec's example postcode {', '.join(EXAMPLE_POSTCODES)} (no --postcode was given)"


def no_other_council(council: str, other: str | None, councils: list[str], check: str) -> tuple[str, str]:
    """Why ``check`` needs a second council the key may use and has none, and what to pass:
    either --other-council was not given, or it names a council the key may not use."""
    others = [c for c in councils if c != council]
    if others:
        may_use = f"besides {council} this key may use: {', '.join(others)}"
    else:
        may_use = f"this key may use only {council}: give one that may use a second council too"
    if other is None:
        return f"{check}: no --other-council was given ({may_use})", OTHER_COUNCIL_OPTION
    reason = f"{check}: --other-council {other} is not a council this key may use ({may_use})"
    return reason, OTHER_COUNCIL_OPTION


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


def json_answer(response: Any) -> Any:
    """The JSON body of a 200 answer, or None."""
    if response is None or response.status_code != 200:
        return None
    return json_body(response)


def json_body(response: Any) -> Any:
    """The JSON body of an answer whatever its status, or None."""
    try:
        return response.json()
    except ValueError:
        return None


def discover(session: ContractSession) -> TargetData:
    """Ask the implementation for the values later parts need; what it cannot answer is
    recorded as skipped, and the parts that need it report why they did not run."""
    endpoint = session.endpoint
    data = TargetData()
    listed = json_answer(session.request("listCouncils", PART))
    if isinstance(listed, dict):
        data.councils = [str(c.get("id")) for c in listed.get("councils", []) if isinstance(c, dict)]
    triage = session.request("getTriage", PART)
    tree = json_answer(triage)
    if isinstance(tree, dict):
        _leaves(tree, data)
    for postcode in endpoint.postcodes or EXAMPLE_POSTCODES:
        found = json_answer(session.request("listAddresses", PART, query={"postcode": postcode}))
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
        session.report.skip(PART, _no_properties(endpoint.council, endpoint.postcodes), POSTCODE_OPTION)
    if not data.jobs:
        answered = triage.status_code if triage is not None else None
        if isinstance(tree, dict):
            reason = f"the triage tree of {endpoint.council} has no job leaf: nothing to book"
        else:
            reason = f"getTriage answered {answered}, not 200 with a triage tree: nothing to book"
        session.report.skip(PART, reason)
    if data.uprns and data.jobs:
        page = json_answer(
            session.request(
                "listAppointments", PART, query={"uprn": data.uprns[0], "triagePath": data.jobs[0].path}
            )
        )
        if isinstance(page, dict):
            for day in page.get("days", [])[:2]:
                data.window_ids.extend(w["id"] for w in day.get("windows", []) if isinstance(w, dict))
            data.cursor = page.get("nextCursor")
        if not data.window_ids:
            session.report.skip(
                PART, f"no free window for {data.jobs[0].path} at {data.uprns[0]} on the first page"
            )
    _seed_repairs(session, data)
    return data


def _no_properties(council: str, postcodes: tuple[str, ...]) -> str:
    if postcodes:
        return f"none of the postcodes given ({', '.join(postcodes)}) has eligible properties of {council}"
    tried = ", ".join(EXAMPLE_POSTCODES)
    return (
        f"no --postcode was given, and the spec's example postcode {tried} has no eligible "
        f"properties of {council}"
    )


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
