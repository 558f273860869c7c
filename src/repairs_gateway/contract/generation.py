"""Steering generated requests towards real data.

Purely generated values almost never name a council the key may use, a postcode with
properties, a known UPRN or a live window id, so nearly every request would stop at a 401,
403, 404 or 422. Each generated case is therefore mixed with values discovered from the
implementation, at random, leaving alone whatever schemathesis mutated to make the case
invalid (so invalid input still reaches the validation it is meant to test).
"""

from __future__ import annotations

import random
import uuid
from datetime import date, timedelta
from typing import Any

from schemathesis import Case

from repairs_gateway.contract.checks import operation_id
from repairs_gateway.contract.discovery import JobLeaf, TargetData
from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.contract.schema import staff_operations

REPAIR_FORM_PARAMETERS = ("triagePath", "sorCode", "trade", "durationMinutes")


def mutated(case: Case[Any]) -> set[tuple[str, str]]:
    """(location, parameter) pairs schemathesis made invalid; parameter ``*`` is the whole
    location (a missing required header, a body of random bytes)."""
    meta = case.meta
    if meta is None or not meta.generation.mode.is_negative:
        return set()
    found: set[tuple[str, str]] = set()
    for mutation in getattr(meta.phase.data, "mutations", ()):
        location = mutation.parameter_location.value if mutation.parameter_location else "body"
        found.add((location, str(mutation.path[0]) if mutation.path else "*"))
    return found


def _is_valid(case: Case[Any]) -> bool:
    meta = case.meta
    return meta is not None and meta.generation.mode.is_positive


def _untouched(changed: set[tuple[str, str]], location: str, name: str) -> bool:
    return (location, name) not in changed and (location, "*") not in changed


def _postcode_spelling(postcode: str, rnd: random.Random) -> str:
    # The spec says case and spacing do not matter.
    compact = postcode.replace(" ", "")
    return rnd.choice([postcode, postcode.lower(), compact, compact.lower(), f" {postcode.lower()} "])


def _repair_form(job: JobLeaf, data: TargetData, rnd: random.Random) -> dict[str, Any]:
    choice = rnd.random()
    if choice < 0.55:
        return {"triagePath": job.path}
    if choice < 0.7 and data.exits:
        return {"triagePath": rnd.choice(data.exits)}
    if choice < 0.85 and job.sor_code:
        return {"sorCode": job.sor_code}
    return {"trade": job.trade, "durationMinutes": max(15, min(480, job.duration_minutes))}


def _appointments(
    case: Case[Any], data: TargetData, changed: set[tuple[str, str]], rnd: random.Random
) -> None:
    query = case.query
    valid = _is_valid(case)
    if data.uprns and _untouched(changed, "query", "uprn") and rnd.random() < 0.75:
        query["uprn"] = rnd.choice(data.uprns)
    forms_untouched = all(_untouched(changed, "query", p) for p in REPAIR_FORM_PARAMETERS)
    if forms_untouched and (valid or rnd.random() < 0.75):
        if data.jobs:
            for name in REPAIR_FORM_PARAMETERS:
                query.pop(name, None)
            query.update(_repair_form(rnd.choice(data.jobs), data, rnd))
        else:
            one_repair_form(query)
    if _untouched(changed, "query", "from"):
        choice = rnd.random()
        if choice < 0.6:
            query.pop("from", None)
        elif choice < 0.8 or valid:
            # The spec allows today to 365 days ahead, which no schema can say.
            query["from"] = (date.today() + timedelta(days=rnd.randint(1, 40))).isoformat()
    if _untouched(changed, "query", "cursor"):
        choice = rnd.random()
        if choice < 0.7:
            query.pop("cursor", None)
        elif choice < 0.85 and data.cursor:
            query["cursor"] = data.cursor
        if valid and query.get("cursor") is not None:
            if data.cursor and query["cursor"] == data.cursor and data.uprns and data.jobs:
                # The discovered cursor was issued for the first property and job.
                query["uprn"] = data.uprns[0]
                for name in REPAIR_FORM_PARAMETERS:
                    query.pop(name, None)
                query["triagePath"] = data.jobs[0].path
            else:
                # A generated cursor was issued for no query, which the spec refuses.
                query.pop("cursor", None)


def one_repair_form(query: dict[str, Any]) -> None:
    """Leave ``query`` naming the repair in exactly one form, as the spec requires of every
    valid request and OpenAPI cannot state: the first form it gives (completing a trade with
    a duration, or a duration with a trade), or a triage path when it gives none."""
    if "triagePath" in query:
        keep: tuple[str, ...] = ("triagePath",)
    elif "sorCode" in query:
        keep = ("sorCode",)
    elif "trade" in query or "durationMinutes" in query:
        query.setdefault("trade", "plumbing")
        query.setdefault("durationMinutes", 60)
        keep = ("trade", "durationMinutes")
    else:
        query["triagePath"] = "kitchen/sink/blocked"
        keep = ("triagePath",)
    for name in REPAIR_FORM_PARAMETERS:
        if name not in keep:
            query.pop(name, None)


def _create_body(body: dict[str, Any], data: TargetData, rnd: random.Random) -> None:
    if data.can_book and rnd.random() < 0.4:
        # A coherent booking: the property and job the pooled windows were offered for.
        body["uprn"] = data.uprns[0]
        body["repair"] = {"triagePath": data.jobs[0].path}
        body["windowId"] = rnd.choice(data.window_ids)
        return
    if data.uprns and rnd.random() < 0.7:
        body["uprn"] = rnd.choice(data.uprns)
    if data.jobs and rnd.random() < 0.7:
        body["repair"] = _repair_form(rnd.choice(data.jobs), data, rnd)
    choice = rnd.random()
    if choice < 0.5:
        body.pop("windowId", None)
    elif choice < 0.75 and data.window_ids:
        body["windowId"] = rnd.choice(data.window_ids)


def seed(case: Case[Any], data: TargetData, endpoint: Endpoint, rnd: random.Random) -> None:
    """Mix discovered values into ``case`` in place."""
    changed = mutated(case)
    operation = operation_id(case)
    # Mostly a valid key (the staff key for a staff operation, when there is one), so
    # requests get past authentication; now and then none.
    key = endpoint.api_key
    if endpoint.staff_api_key and operation in staff_operations():
        key = endpoint.staff_api_key
    repair_auth = _untouched(changed, "header", "Authorization") or rnd.random() < 0.8
    if repair_auth and rnd.random() < 0.95:
        case.headers["Authorization"] = f"Bearer {key}"
    if (
        "councilId" in case.path_parameters
        and _untouched(changed, "path", "councilId")
        and rnd.random() < 0.9
    ):
        case.path_parameters["councilId"] = endpoint.council
    reference_untouched = "reference" in case.path_parameters and _untouched(changed, "path", "reference")
    if reference_untouched and data.references and rnd.random() < 0.5:
        reference = rnd.choice(data.references)
        case.path_parameters["reference"] = reference.lower() if rnd.random() < 0.3 else reference
    postcode_untouched = _untouched(changed, "query", "postcode")
    if operation == "listAddresses" and data.postcodes and postcode_untouched and rnd.random() < 0.5:
        case.query["postcode"] = _postcode_spelling(rnd.choice(data.postcodes), rnd)
    elif operation == "listAppointments":
        _appointments(case, data, changed, rnd)
    elif operation == "listRepairs" and _is_valid(case):
        # A generated cursor was issued for no listing, which the spec refuses (400).
        case.query.pop("cursor", None)
    body = case.body if isinstance(case.body, dict) and not any(loc == "body" for loc, _ in changed) else None
    if operation == "createRepair":
        if body is not None:
            _create_body(body, data, rnd)
        key_untouched = "Idempotency-Key" in case.headers and _untouched(changed, "header", "Idempotency-Key")
        # Generated keys repeat a lot ("0", "00"); mostly use fresh ones.
        if key_untouched and rnd.random() < 0.7:
            case.headers["Idempotency-Key"] = str(uuid.UUID(int=rnd.getrandbits(128)))
    elif operation == "rescheduleRepair" and body is not None and data.window_ids and rnd.random() < 0.5:
        body["windowId"] = rnd.choice(data.window_ids)
