"""The gateway's promises that schemas cannot express: idempotent retries, window ids that
cannot be forged or carried elsewhere, and isolation between councils and API keys."""

from __future__ import annotations

import uuid
from typing import Any

from schemathesis import Case, Response

from repairs_gateway.contract.discovery import (
    COMMUNAL_POSTCODE_OPTION,
    OTHER_KEY_OPTION,
    OTHER_POSTCODE_OPTION,
    POSTCODE_OPTION,
    TargetData,
    json_answer,
    no_other_council,
    postcodes_looked_at,
)
from repairs_gateway.contract.journey import body_of, contact, windows_of
from repairs_gateway.contract.schema import operation_ids
from repairs_gateway.contract.session import ContractSession

IDEMPOTENCY = "idempotency"
DUPLICATES = "repeated reports"
WINDOW_IDS = "window ids"
ISOLATION = "tenant isolation"

# A request for every operation, for the authentication and isolation checks.
REFERENCE_EXAMPLE = "NF-7KQ3M9X"


def _status(response: Response | None) -> int | None:
    return response.status_code if response is not None else None


def _problem_type(response: Response | None) -> Any:
    body = body_of(response)
    return body.get("type") if isinstance(body, dict) else None


def _expect_status(
    session: ContractSession, part: str, case: Case[Any], allowed: tuple[int, ...], what: str
) -> Response | None:
    response = session.send(case, part)
    got = _status(response)
    session.expect(
        got in allowed,
        case,
        response,
        part,
        f"{what}: expected {' or '.join(map(str, allowed))}",
        f"{what}; answered {got}",
    )
    return response


def _repair_body(data: TargetData, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "uprn": data.uprns[0],
        "repair": {"triagePath": data.jobs[0].path},
        "description": "Contract test: idempotent retry.",
        "contact": contact(),
        # Not a repeat of the suite's other repairs at this property (see createRepair).
        "newProblem": True,
    }
    body.update(changes)
    return body


# ---------------------------------------------------------------------------- idempotency


def idempotent_retries(session: ContractSession, data: TargetData) -> None:
    """Same key and body: the same repair, once. Same key, other body: 422. A request that
    created nothing does not use up its key."""
    part = IDEMPOTENCY
    if not (data.uprns and data.jobs):
        session.report.skip(part, *data.unbookable())
        return
    key = str(uuid.uuid4())
    body = _repair_body(data, description=f"Contract test: retried report {key[:8]}.")
    first_case = session.case("createRepair", body=body, headers={"Idempotency-Key": key})
    first = _expect_status(session, part, first_case, (201,), "createRepair with a new Idempotency-Key")
    if _status(first) != 201:
        return
    assert first is not None
    reference = body_of(first).get("reference")
    # The same body with its members in another order: compared as JSON, it is the same body.
    reordered = dict(reversed(list(body.items())))
    retry_case = session.case("createRepair", body=reordered, headers={"Idempotency-Key": key})
    retry = _expect_status(
        session, part, retry_case, (201,), "createRepair retried with the same key and body"
    )
    if retry is not None and retry.status_code == 201:
        session.expect(
            body_of(retry).get("reference") == reference,
            retry_case,
            retry,
            part,
            "a retry answers the same repair",
            f"the retry answered reference {body_of(retry).get('reference')!r}, "
            f"the first request {reference!r}",
        )
        session.expect(
            retry.headers.get("location") == first.headers.get("location"),
            retry_case,
            retry,
            part,
            "a retry answers the same Location",
            f"Location {retry.headers.get('location')} differs from {first.headers.get('location')}",
        )
    other_case = session.case(
        "createRepair", body={**body, "description": "A different repair."}, headers={"Idempotency-Key": key}
    )
    other = _expect_status(session, part, other_case, (422,), "the same Idempotency-Key with another body")
    session.expect(
        _problem_type(other) == "/problems/idempotency-key-reused",
        other_case,
        other,
        part,
        "problem type of a reused key",
        f"type is {_problem_type(other)!r}, not /problems/idempotency-key-reused",
    )
    fresh = str(uuid.uuid4())
    refused_case = session.case(
        "createRepair",
        body=_repair_body(data, repair={"triagePath": "no/such/leaf"}),
        headers={"Idempotency-Key": fresh},
    )
    _expect_status(session, part, refused_case, (422,), "createRepair with an unknown triage path")
    accepted_case = session.case(
        "createRepair", body=body | {"description": "Reported again."}, headers={"Idempotency-Key": fresh}
    )
    _expect_status(
        session, part, accepted_case, (201,), "a key whose first request created nothing, used again"
    )


# ---------------------------------------------------------------------------- repeated reports


def _report(
    session: ContractSession, part: str, body: dict[str, Any], key: str | None = None
) -> tuple[Case[Any], Response | None]:
    case = session.case("createRepair", body=body, headers={"Idempotency-Key": key or str(uuid.uuid4())})
    return case, session.send(case, part)


def repeated_reports(session: ContractSession, data: TargetData) -> None:
    """A report that repeats an open repair of the same job: at a home, 409
    ``duplicate-repair`` naming it (or, where the council has not turned that on, a new
    repair), and a new repair with ``newProblem``; at a communal area, 200 with the open
    repair, which the reporter joined (a retry replays the join)."""
    part = DUPLICATES
    if not data.jobs or not (data.dwellings or data.communal):
        if not data.jobs or not data.uprns:
            session.report.skip(part, *data.unbookable())
        else:
            session.report.skip(
                part,
                "no address of kind dwelling or communal at "
                + postcodes_looked_at(session.endpoint.postcodes),
                POSTCODE_OPTION,
            )
        return
    made: list[str] = []
    base = {
        "repair": {"triagePath": data.jobs[0].path},
        "description": "Contract test: a problem reported twice.",
        "contact": contact(),
    }
    if data.dwellings:
        _repeated_at_home(session, {**base, "uprn": data.dwellings[0]}, made)
    else:
        session.report.skip(
            part,
            "a report at a home: no address of kind dwelling at "
            + postcodes_looked_at(session.endpoint.postcodes),
            POSTCODE_OPTION,
        )
    if data.communal:
        _repeated_at_communal_area(session, {**base, "uprn": data.communal[0]}, made)
    else:
        session.report.skip(
            part,
            "a report at a communal area: no address of kind communal at "
            + postcodes_looked_at(session.endpoint.postcodes),
            COMMUNAL_POSTCODE_OPTION,
        )
    for reference in made:
        session.send(session.case("cancelRepair", path={"reference": reference}), part)


def _repeated_at_home(session: ContractSession, body: dict[str, Any], made: list[str]) -> None:
    part = DUPLICATES
    first_case, first = _report(session, part, {**body, "newProblem": True})
    if not session.expect(
        _status(first) == 201, first_case, first, part, "a new problem at a home: expected 201", "not created"
    ):
        return
    reference = body_of(first).get("reference")
    made.append(reference)
    again_case, again = _report(session, part, body)
    if _status(again) == 201:
        # Allowed: the council records a home's repeated report as new (it has not turned the
        # refusal on). It is then a repair of its own.
        made.append(body_of(again).get("reference"))
        session.expect(
            body_of(again).get("reference") != reference,
            again_case,
            again,
            part,
            "a repeated report recorded as new is another repair",
            f"answered the open repair {reference!r} with 201",
        )
        return
    if session.expect(
        _status(again) == 409 and _problem_type(again) == "/problems/duplicate-repair",
        again_case,
        again,
        part,
        "a repeated report at a home: expected 409 duplicate-repair (or 201, recorded as new)",
        f"answered {_status(again)} {_problem_type(again)!r}",
    ):
        named = body_of(again).get("existingReference")
        session.expect(
            named == reference,
            again_case,
            again,
            part,
            "duplicate-repair names the open repair",
            f"existingReference is {named!r}, the open repair is {reference!r}",
        )
    new_case, new = _report(session, part, {**body, "newProblem": True})
    if session.expect(
        _status(new) == 201,
        new_case,
        new,
        part,
        "newProblem at a home with an open repair of the job: expected 201",
        f"answered {_status(new)}",
    ):
        made.append(body_of(new).get("reference"))
        session.expect(
            body_of(new).get("reference") != reference,
            new_case,
            new,
            part,
            "newProblem makes another repair",
            f"answered the open repair {reference!r} again",
        )


def _repeated_at_communal_area(session: ContractSession, body: dict[str, Any], made: list[str]) -> None:
    part = DUPLICATES
    first_case, first = _report(session, part, {**body, "newProblem": True})
    if not session.expect(
        _status(first) == 201,
        first_case,
        first,
        part,
        "a new problem at a communal area: expected 201",
        "not created",
    ):
        return
    reference = body_of(first).get("reference")
    made.append(reference)
    neighbour = {**body, "contact": {**contact(), "name": "Contract Neighbour", "phone": "07700 900456"}}
    key = str(uuid.uuid4())
    joined_case, joined = _report(session, part, neighbour, key)
    if _status(joined) == 201:
        # A council may set its time for joining communal reports to none.
        made.append(body_of(joined).get("reference"))
        session.report.skip(
            part,
            "joining a communal report: the council recorded a second report as new (it joins none)",
        )
        return
    if not session.expect(
        _status(joined) == 200,
        joined_case,
        joined,
        part,
        "a repeated report at a communal area: expected 200 (joined)",
        f"answered {_status(joined)}",
    ):
        return
    answer = body_of(joined)
    session.expect(
        answer.get("reference") == reference,
        joined_case,
        joined,
        part,
        "the report joined the open repair",
        f"answered {answer.get('reference')!r}, the open repair is {reference!r}",
    )
    types = [e.get("type") for e in answer.get("history") or [] if isinstance(e, dict)]
    session.expect(
        types[-1:] == ["joined"],
        joined_case,
        joined,
        part,
        "the joined repair's history ends with joined",
        f"the history's types are {types}",
    )
    replay_case, replay = _report(session, part, neighbour, key)
    session.expect(
        _status(replay) == 200 and body_of(replay).get("reference") == reference,
        replay_case,
        replay,
        part,
        "a retried joining report replays the join",
        f"answered {_status(replay)} {body_of(replay).get('reference') if replay else None!r}",
    )


# ---------------------------------------------------------------------------- window ids


def _tampered(token: str, position: int) -> str:
    char = token[position]
    replacement = "B" if char != "B" else "C"
    return token[:position] + replacement + token[position + 1 :]


def _other_council_values(session: ContractSession) -> tuple[str | None, str | None]:
    """A property and a bookable job path of the other council, when it can be asked."""
    endpoint = session.endpoint
    other = endpoint.other_council
    if other is None:
        return None, None
    uprn = None
    for postcode in endpoint.other_postcodes:
        found = body_of(
            session.request("listAddresses", WINDOW_IDS, query={"postcode": postcode}, council=other)
        )
        addresses = found.get("addresses", []) if isinstance(found, dict) else []
        if addresses:
            uprn = addresses[0].get("uprn")
            break
    tree = body_of(session.request("getTriage", WINDOW_IDS, council=other))
    path = None
    stack = [tree] if isinstance(tree, dict) else []
    while stack and path is None:
        node = stack.pop()
        for option in node.get("options", []):
            outcome = option.get("outcome") or {}
            if outcome.get("type") == "job":
                path = outcome.get("path")
                break
            if isinstance(option.get("next"), dict):
                stack.append(option["next"])
    return uprn, path


def unforgeable_window_ids(session: ContractSession, data: TargetData) -> None:
    """A tampered window id, one offered for another property or job, and one offered by
    another council are all refused."""
    part = WINDOW_IDS
    if not (data.uprns and data.jobs):
        session.report.skip(part, *data.unbookable())
        return
    query = {"uprn": data.uprns[0], "triagePath": data.jobs[0].path}
    windows = windows_of(body_of(session.request("listAppointments", part, query=query)))
    if not windows:
        session.report.skip(
            part, f"no free window for {data.jobs[0].path} at {data.uprns[0]} to take an id from"
        )
        return
    token = str(windows[0]["id"])
    base = _repair_body(data, windowId=token)
    for label, position in (("first", 0), ("middle", len(token) // 2), ("last", len(token) - 1)):
        case = session.case("createRepair", body={**base, "windowId": _tampered(token, position)})
        _expect_status(session, part, case, (422,), f"a window id with its {label} character changed")
    case = session.case("createRepair", body={**base, "windowId": "not-a-window-id"})
    _expect_status(session, part, case, (422,), "a made-up window id")
    if len(data.uprns) > 1:
        case = session.case("createRepair", body={**base, "uprn": data.uprns[1]})
        _expect_status(session, part, case, (422,), "a window id offered for another property")
    else:
        session.report.skip(
            part,
            "a window id offered for another property: only one property was found at the postcodes given",
            POSTCODE_OPTION,
        )
    other_jobs = [
        j
        for j in data.jobs
        if (j.trade, j.duration_minutes) != (data.jobs[0].trade, data.jobs[0].duration_minutes)
    ]
    if other_jobs:
        case = session.case("createRepair", body={**base, "repair": {"triagePath": other_jobs[0].path}})
        _expect_status(session, part, case, (422,), "a window id offered for another job")
    other = session.endpoint.other_council
    if other is None:
        session.report.skip(
            part,
            *no_other_council(
                session.endpoint.council, other, data.councils, "a window id used at another council"
            ),
        )
        return
    uprn, path = _other_council_values(session)
    body = {**base, "uprn": uprn or data.uprns[0], "repair": {"triagePath": path or data.jobs[0].path}}
    case = session.case("createRepair", body=body, council=other)
    _expect_status(
        session, part, case, (422, 403), f"a window id of {session.endpoint.council} used at {other}"
    )
    if not uprn:
        session.report.skip(
            part,
            f"rescheduling a {other} repair into a window of {session.endpoint.council}: no property of "
            f"{other} was found at the --other-postcode given"
            if session.endpoint.other_postcodes
            else f"rescheduling a {other} repair into a window of {session.endpoint.council}: "
            "no --other-postcode was given",
            OTHER_POSTCODE_OPTION,
        )
    elif not path:
        session.report.skip(
            part,
            f"rescheduling a {other} repair into a window of {session.endpoint.council}: the triage tree "
            f"of {other} has no job leaf",
        )
    if uprn and path:
        received_case = session.case(
            "createRepair", council=other, body={k: v for k, v in body.items() if k != "windowId"}
        )
        received = session.send(received_case, part)
        reference = body_of(received).get("reference") if _status(received) == 201 else None
        if reference:
            move = session.case(
                "rescheduleRepair", council=other, path={"reference": reference}, body={"windowId": token}
            )
            _expect_status(
                session,
                part,
                move,
                (422,),
                f"rescheduling a {other} repair into a window of {session.endpoint.council}",
            )


# ---------------------------------------------------------------------------- isolation


def _case_for(
    session: ContractSession, data: TargetData, operation: str, reference: str, **values: Any
) -> Case[Any]:
    """A well-formed request to ``operation``, from discovered values where there are some."""
    uprn = data.uprns[0] if data.uprns else "100012345001"
    path_ = data.jobs[0].path if data.jobs else "kitchen/sink/blocked"
    by_reference = ("getRepair", "cancelRepair", "rescheduleRepair", "retryRepair")
    path = {"reference": reference} if operation in by_reference else {}
    query = (
        {"postcode": data.postcodes[0] if data.postcodes else "NF1 1AA"}
        if operation == "listAddresses"
        else {}
    )
    if operation == "listAppointments":
        query = {"uprn": uprn, "triagePath": path_}
    body: Any = None
    if operation == "createRepair":
        body = {
            "uprn": uprn,
            "repair": {"triagePath": path_},
            "description": "Isolation check.",
            "contact": contact(),
        }
    elif operation == "rescheduleRepair":
        body = {"windowId": "not-a-window-id"}
    extra = {"body": body} if body is not None else {}
    return session.case(operation, path=path, query=query, **extra, **values)


def _new_reference(session: ContractSession, data: TargetData) -> str | None:
    """A repair of this run's own, recorded without a window, so no other part changes it."""
    if not (data.uprns and data.jobs):
        return None
    case = session.case("createRepair", body=_repair_body(data, description="Contract test: isolation."))
    created = session.send(case, ISOLATION)
    reference = body_of(created).get("reference") if _status(created) == 201 else None
    return reference if isinstance(reference, str) else None


def _staff_crossing_expected(
    session: ContractSession, staff_key: str, other: str
) -> tuple[tuple[int, ...], str]:
    """The answers a staff operation on a reference of the council under test may get under
    ``other``, and why: 404 when the staff key may use ``other`` (it reaches the lookup,
    which must not find the reference there), 403 when it may not (refused before any
    lookup). Either way nothing about the repair is revealed; which one applies is what the
    implementation's own listCouncils says of the staff key."""
    case = session.case("listCouncils", key=staff_key)
    response = session.send(case, ISOLATION)
    listed = json_answer(response)
    councils = listed.get("councils") if isinstance(listed, dict) else None
    if not isinstance(councils, list):
        # Nothing to tell the two apart by: still neither reveals the repair.
        return (403, 404), f"listCouncils with the staff key answered {_status(response)}, not a list"
    ids = [str(c.get("id")) for c in councils if isinstance(c, dict)]
    listed_ids = ", ".join(ids) or "none"
    if other in ids:
        return (404,), f"the staff key may use {other} (listCouncils with it lists {listed_ids})"
    return (403,), f"the staff key is not issued for {other} (listCouncils with it lists only {listed_ids})"


def _staff_crossing(
    session: ContractSession, data: TargetData, reference: str, staff_key: str, other: str
) -> None:
    """retryRepair with the staff key, of a reference of the council under test, under ``other``."""
    allowed, why = _staff_crossing_expected(session, staff_key, other)
    crossed = _case_for(session, data, "retryRepair", reference, council=other)
    _expect_status(
        session,
        ISOLATION,
        crossed,
        allowed,
        f"retryRepair of a {session.endpoint.council} reference under {other}, where {why}",
    )


def authentication_and_isolation(session: ContractSession, data: TargetData) -> None:
    """No key or an unknown key: 401 everywhere. A key not issued for a council: 403 there.
    The staff key, when given: 200 for the council's repairs.
    A reference of one council: 404 under another, and nothing changes (for retryRepair,
    403 instead when the staff key is not issued for the other council)."""
    part = ISOLATION
    endpoint = session.endpoint
    reference = _new_reference(session, data) or REFERENCE_EXAMPLE
    for operation in operation_ids():
        no_key = _case_for(session, data, operation, reference)
        no_key.headers.pop("Authorization", None)
        _expect_status(session, part, no_key, (401,), f"{operation} without an API key")
        wrong = _case_for(session, data, operation, reference, headers={"Authorization": "Bearer not-a-key"})
        _expect_status(session, part, wrong, (401,), f"{operation} with an unknown API key")
        if endpoint.other_api_key and operation != "listCouncils":
            foreign = _case_for(session, data, operation, reference, key=endpoint.other_api_key)
            _expect_status(
                session, part, foreign, (403,), f"{operation} with a key not issued for {endpoint.council}"
            )
        if operation in session.staff_operations and endpoint.staff_api_key not in (None, endpoint.api_key):
            resident = _case_for(session, data, operation, reference, key=endpoint.api_key)
            _expect_status(session, part, resident, (403,), f"{operation} with a key that is not a staff key")
    if endpoint.staff_api_key:
        # The key check stops a run whose staff key is answered as a resident key; any other
        # refusal of it is the implementation's, and fails here.
        listing = session.case("listRepairs", query={"limit": 1}, key=endpoint.staff_api_key)
        _expect_status(session, part, listing, (200,), "listRepairs with the staff key")
    if endpoint.other_api_key:
        case = session.case("listCouncils", key=endpoint.other_api_key)
        listed = body_of(session.send(case, part))
        ids = [c.get("id") for c in listed.get("councils", [])] if isinstance(listed, dict) else []
        session.expect(
            endpoint.council not in ids,
            case,
            None,
            part,
            "listCouncils lists only the key's councils",
            f"a key not issued for {endpoint.council} lists it: {ids}",
        )
    else:
        session.report.skip(
            part,
            f"403 for a key not issued for {endpoint.council}: no --other-api-key was given",
            OTHER_KEY_OPTION,
        )
    unknown = session.case("getTriage", council="no-such-council-anywhere")
    _expect_status(session, part, unknown, (404,), "an unknown council")
    other = endpoint.other_council
    if reference == REFERENCE_EXAMPLE:
        session.report.skip(part, "a reference under another council: no repair could be created")
    elif not other or other not in data.councils:
        session.report.skip(
            part,
            *no_other_council(endpoint.council, other, data.councils, "a reference under another council"),
        )
    else:
        for operation in ("getRepair", "cancelRepair", "rescheduleRepair"):
            crossed = _case_for(session, data, operation, reference, council=other)
            _expect_status(
                session, part, crossed, (404,), f"{operation} of a {endpoint.council} reference under {other}"
            )
        if endpoint.staff_api_key:
            _staff_crossing(session, data, reference, endpoint.staff_api_key, other)
        check = session.case("getRepair", path={"reference": reference})
        still = body_of(session.send(check, part))
        status = still.get("status") if isinstance(still, dict) else None
        session.expect(
            status not in (None, "cancelled"),
            check,
            None,
            part,
            "a crossed cancel changes nothing",
            f"after cancelRepair under {other}, the repair reports {status!r}",
        )
