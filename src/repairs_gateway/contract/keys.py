"""The first requests of a run: is each key given accepted, may the key under test use
the council under test, is the other key one it refuses, and is the staff key a staff key?
A wrong key makes every later check fail or skip for a reason the report would otherwise
never name, so the run stops here and says so."""

from __future__ import annotations

import re
from dataclasses import dataclass

from schemathesis import Response

from repairs_gateway.contract.discovery import PART, json_answer, json_body
from repairs_gateway.contract.session import ContractSession

# An operating system's reason inside a requests error: "[Errno 111] Connection refused".
_SYSTEM_REASON = re.compile(r"\[Errno -?\d+\] ([^'\")]+)")


@dataclass(frozen=True, slots=True)
class KeyGiven:
    """One of the endpoint's keys, as the person running the suite gave it."""

    name: str
    option: str
    key: str
    # Whether the key must be able to use the council under test.
    for_council: bool


def keys_given(session: ContractSession) -> list[KeyGiven]:
    """The keys the run was given, the key under test first."""
    endpoint = session.endpoint
    keys = [KeyGiven("API key", "--api-key (or REPAIRS_API_KEY)", endpoint.api_key, True)]
    if endpoint.other_api_key:
        keys.append(
            KeyGiven(
                "other API key", "--other-api-key (or REPAIRS_OTHER_API_KEY)", endpoint.other_api_key, False
            )
        )
    if endpoint.staff_api_key:
        keys.append(
            KeyGiven(
                "staff API key", "--staff-api-key (or REPAIRS_STAFF_API_KEY)", endpoint.staff_api_key, True
            )
        )
    return keys


def key_problem(session: ContractSession) -> str | None:
    """Why the run cannot go on with the keys it was given, or None when it can.

    One authenticated request per key: a council's triage tree for a key that must use the
    council, the list of councils for one that must not; and for the staff key, a staff
    operation (see ``_not_a_staff_key``)."""
    endpoint = session.endpoint
    url, council = endpoint.base_url, endpoint.council
    for given in keys_given(session):
        if given.for_council:
            response = session.request("getTriage", PART, key=given.key)
        else:
            response = session.request("listCouncils", PART, key=given.key)
        if response is None:
            return f"no answer from {url} ({_no_answer(session)}): is the implementation running there?"
        status = response.status_code
        if status == 401:
            return f"the {given.name} was refused (401) by {url}: check {given.option}"
        if given.for_council and status in (403, 404):
            may_use = _councils_listed(session, given.key)
            listed = ", ".join(may_use) if may_use else "none"
            if status == 404:
                return (
                    f"{url} serves no council {council!r} (404 for its triage tree): check --council; "
                    f"the {given.name} may use: {listed}"
                )
            return (
                f"the {given.name} may not use council {council!r} (403 from {url}): check --council "
                f"and {given.option}; the key may use: {listed}"
            )
        if not given.for_council and status == 200:
            # The other key is there to be refused at the council under test: one that may use
            # it would fail every 403 check, blaming the implementation for the key given.
            problem = _other_key_may_use_council(session, given, response)
            if problem:
                return problem
    problem = _not_a_staff_key(session)
    if problem:
        return problem
    other = endpoint.other_council
    if other is not None:
        # Checks at the other council expect 403 or 404 for what crosses over: a council that
        # does not exist at all would answer 404 to everything and look like a fault.
        response = session.request("getTriage", PART, council=other)
        if response is not None and response.status_code == 404:
            councils = ", ".join(_councils_listed(session, endpoint.api_key)) or "none"
            return (
                f"{url} serves no council {other!r} (404 for its triage tree): check --other-council; "
                f"the API key may use: {councils}"
            )
    return None


def _other_key_may_use_council(session: ContractSession, given: KeyGiven, listing: Response) -> str | None:
    """Why the key given as the other key cannot serve as one: it may use the council under
    test (listed by ``listCouncils`` and answered there), or None. A key listed but refused,
    or answered but not listed, is the implementation's fault, for the checks to report."""
    endpoint = session.endpoint
    listed = _council_ids(listing)
    if endpoint.council not in listed:
        return None
    triage = session.request("getTriage", PART, key=given.key)
    if triage is None or triage.status_code != 200:
        return None
    return (
        f"the {given.name} may use council {endpoint.council!r} (listed, and its triage tree answered "
        f"200, by {endpoint.base_url}): {given.option} must be a key not issued for --council, for the "
        f"checks that it is refused there; the key may use: {', '.join(listed)}"
    )


def _not_a_staff_key(session: ContractSession) -> str | None:
    """Why the key given as the staff key cannot serve as one: the implementation answers it
    as the spec answers a resident key, or None.

    The public API tells a staff key from a resident key by one answer only: a staff
    operation (``listRepairs``) at the council under test, which a resident key gets 403 for,
    the problem naming ``Authorization`` (the spec's ``StaffForbidden``). The key's triage
    tree has already answered 200, so the key may use the council and the 403 is about its
    scope. Any other answer is left to the checks: a 403 that does not name Authorization
    refuses a key the implementation has not called a resident key, and the isolation check
    that the staff key lists the council's repairs reports it as the implementation's fault.
    The message says what was answered, since an implementation that wrongly refuses a real
    staff key in the spec's words cannot be told apart from a resident key."""
    endpoint = session.endpoint
    staff = endpoint.staff_api_key
    if not staff:
        return None
    option = "--staff-api-key (or REPAIRS_STAFF_API_KEY)"
    response = session.request("listRepairs", PART, key=staff, query={"limit": 1})
    if response is None:
        return (
            f"no answer from {endpoint.base_url} to listRepairs with the staff API key "
            f"({_no_answer(session)}): is the implementation running there?"
        )
    named = _authorization_error(response) if response.status_code == 403 else None
    if named is None:
        return None
    problem = json_body(response)
    kind = problem.get("type") if isinstance(problem, dict) else None
    detail = problem.get("detail") if isinstance(problem, dict) else None
    said = detail if isinstance(detail, str) and detail else named
    observed = f"a {kind} problem" if isinstance(kind, str) else "a problem"
    if said:
        observed += f" saying {_brief(said)!r}"
    same = "; it is the same key as --api-key" if staff == endpoint.api_key else ""
    # The report names the keys by their variables when it records the stop.
    return (
        f"the staff API key is answered as a resident key by {endpoint.base_url}: listRepairs of "
        f"{endpoint.council!r} with it answered 403, {observed} naming Authorization (the spec's "
        f"answer to a resident key at a staff operation), though its triage tree there answered 200: "
        f"{option} must be a key with the staff scope issued for --council{same}. If it is one, the "
        f"implementation wrongly refuses a staff key at the staff operations, its own fault (fix "
        f"that: nothing else was tested)"
    )


def _authorization_error(response: Response) -> str | None:
    """The message of the error naming ``Authorization`` in a problem document ("" when it
    has none), or None when no error names it."""
    problem = json_body(response)
    errors = problem.get("errors") if isinstance(problem, dict) else None
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, dict) and str(error.get("field", "")).lower() == "authorization":
            message = error.get("message")
            return message if isinstance(message, str) else ""
    return None


def _brief(text: str, limit: int = 200) -> str:
    """``text`` on one line, cut at ``limit`` characters."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[:limit] + " ..."


def _councils_listed(session: ContractSession, key: str) -> list[str]:
    """The councils ``key`` may use, as the implementation lists them."""
    return _council_ids(session.request("listCouncils", PART, key=key))


def _council_ids(listing: Response | None) -> list[str]:
    """The ids in an answer of ``listCouncils``."""
    answer = json_answer(listing)
    councils = answer.get("councils", []) if isinstance(answer, dict) else []
    return [str(c.get("id")) for c in councils if isinstance(c, dict) and c.get("id")]


def _no_answer(session: ContractSession) -> str:
    """What the request that got no answer ran into, in brief: the system's reason when it
    gave one (connection refused), else the kind of error."""
    for failure in reversed(list(session.report.failures.values())):
        if failure.finding.check == "No answer":
            message = failure.finding.message
            reason = _SYSTEM_REASON.search(message)
            return reason.group(1) if reason else message.split(":", 1)[0]
    return "no response"
