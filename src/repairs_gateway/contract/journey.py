"""The resident's journey, walked through the spec's links, with the state checked at every
step: addresses -> appointments -> createRepair -> getRepair -> reschedule -> cancel; and a
window whose capacity is used up is no longer offered."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from schemathesis import Case, Response

from repairs_gateway.contract.discovery import JobLeaf, TargetData, no_other_council
from repairs_gateway.contract.links import LinkError, follow
from repairs_gateway.contract.session import ContractSession

JOURNEY = "journey"
CAPACITY = "capacity"
# Bookings into one window before concluding its capacity cannot be used up in a test.
MAX_BOOKINGS = 12


def body_of(response: Response | None) -> Any:
    """The JSON answer, or None."""
    if response is None:
        return None
    try:
        return response.json()
    except ValueError:
        return None


def contact() -> dict[str, str]:
    """A resident's contact details for test repairs."""
    return {"name": "Contract Test", "phone": "07700 900123", "preferredChannel": "sms"}


def windows_of(page: Any) -> list[dict[str, Any]]:
    """Every window of an appointment page, in order."""
    if not isinstance(page, dict):
        return []
    return [w for day in page.get("days", []) if isinstance(day, dict) for w in day.get("windows", [])]


def slot(window: dict[str, Any]) -> tuple[Any, Any, Any]:
    """What identifies a window to a person: its times and label."""
    return (window.get("start"), window.get("end"), window.get("label"))


class Journey:
    """One walk through the journey; each step records its checks in the session's report."""

    def __init__(self, session: ContractSession, data: TargetData) -> None:
        self.session = session
        self.data = data
        self.council = session.endpoint.council

    def check(self, held: bool, case: Case[Any], response: Response | None, check: str, message: str) -> bool:
        """Record one scripted check of the journey."""
        return self.session.expect(held, case, response, JOURNEY, check, message)

    def status_is(self, case: Case[Any], response: Response | None, status: int, what: str) -> bool:
        """Check the answer's status."""
        got = response.status_code if response is not None else None
        return self.check(
            got == status, case, response, f"{what}: expected {status}", f"{what}; answered {got}"
        )

    def send(self, case: Case[Any]) -> Response | None:
        """Send a journey request."""
        return self.session.send(case, JOURNEY)

    def walk(self) -> None:
        """The whole journey, stopping at the first step whose answer the next one needs."""
        if not self.data.postcodes or not self.data.jobs:
            self.session.report.skip(JOURNEY, *self.data.unbookable())
            return
        job = self.data.jobs[0]
        addresses_case = self.session.case("listAddresses", query={"postcode": self.data.postcodes[0]})
        addresses = self.send(addresses_case)
        if not self.status_is(addresses_case, addresses, 200, "listAddresses for a postcode with properties"):
            return
        assert addresses is not None
        try:
            linked = follow(
                "listAddresses", 200, "listAppointmentsForFirstAddress", addresses_case, addresses
            )
        except LinkError as exc:
            self.check(False, addresses_case, addresses, "link listAppointmentsForFirstAddress", str(exc))
            return
        page_case = self.session.case(
            "listAppointments", path=linked.path, query={**linked.query, "triagePath": job.path}
        )
        page = self.send(page_case)
        if not self.status_is(page_case, page, 200, "listAppointments for a property and a job"):
            return
        assert page is not None
        windows = windows_of(body_of(page))
        self.check_page_order(page_case, page)
        self.check_next_page(page_case, page)
        if len(windows) < 2:
            self.session.report.skip(
                JOURNEY,
                f"the first page offered {len(windows)} free window(s) for {job.path}: "
                "the journey needs two, to book one and move to the other",
            )
            return
        self.book_and_follow(page_case, page, job, windows)

    def check_page_order(self, case: Case[Any], response: Response) -> None:
        """Days in date order, each day's windows sorted by start."""
        page = body_of(response)
        days = [d.get("date") for d in page.get("days", [])] if isinstance(page, dict) else []
        self.check(
            days == sorted(days) and len(set(days)) == len(days),
            case,
            response,
            "days in date order",
            f"days are not in strict date order: {days}",
        )
        for day in page.get("days", []) if isinstance(page, dict) else []:
            starts = [w.get("start") for w in day.get("windows", [])]
            self.check(
                starts == sorted(starts),
                case,
                response,
                "windows sorted by start",
                f"windows of {day.get('date')} are not sorted by start: {starts}",
            )

    def check_next_page(self, case: Case[Any], response: Response) -> None:
        """``nextCursor`` leads to later days, for the same query."""
        page = body_of(response)
        cursor = page.get("nextCursor") if isinstance(page, dict) else None
        if not cursor or not page.get("days"):
            return
        query = {k: v for k, v in case.query.items() if k != "from"}
        next_case = self.session.case(
            "listAppointments", path=case.path_parameters, query={**query, "cursor": cursor}
        )
        following = self.send(next_case)
        if not self.status_is(next_case, following, 200, "listAppointments with nextCursor"):
            return
        later = body_of(following)
        last = page["days"][-1].get("date")
        dates = [d.get("date") for d in later.get("days", [])] if isinstance(later, dict) else []
        self.check(
            all(d > last for d in dates),
            next_case,
            following,
            "next page holds later days",
            f"the page after one ending on {last} holds {dates}",
        )
        self.check_foreign_cursor(next_case, cursor)

    def check_foreign_cursor(self, case: Case[Any], cursor: str) -> None:
        """A cursor passed with another query (property or repair) is answered 400 naming it."""
        other_uprns = [u for u in self.data.uprns if u != case.query.get("uprn")]
        other_jobs = [j for j in self.data.jobs if j.path != case.query.get("triagePath")]
        query = {"uprn": case.query.get("uprn"), "triagePath": case.query.get("triagePath"), "cursor": cursor}
        if other_uprns:
            query["uprn"] = other_uprns[0]
        elif other_jobs:
            query["triagePath"] = other_jobs[0].path
        else:
            return
        foreign_case = self.session.case("listAppointments", path=case.path_parameters, query=query)
        foreign = self.send(foreign_case)
        if self.status_is(foreign_case, foreign, 400, "cursor of another query"):
            fields = [
                e.get("field") for e in (body_of(foreign) or {}).get("errors", []) if isinstance(e, dict)
            ]
            self.check(
                "cursor" in fields,
                foreign_case,
                foreign,
                "cursor of another query names cursor",
                f"the 400 names {fields}, not cursor",
            )

    def book_and_follow(
        self, page_case: Case[Any], page: Response, job: JobLeaf, windows: list[dict[str, Any]]
    ) -> None:
        """createRepair through the spec's link, then getRepair, reschedule and cancel."""
        try:
            linked = follow("listAppointments", 200, "createRepairInFirstWindow", page_case, page)
        except LinkError as exc:
            self.check(False, page_case, page, "link createRepairInFirstWindow", str(exc))
            return
        # A new problem: earlier parts may have left an open repair of this job at this property,
        # and a repeated report of it is not booked (see createRepair).
        body = {**linked.body, "newProblem": True} if isinstance(linked.body, dict) else linked.body
        create_case = self.session.case(
            "createRepair", path=linked.path, body=body, headers={"Idempotency-Key": str(uuid.uuid4())}
        )
        created = self.send(create_case)
        if not self.status_is(create_case, created, 201, "createRepair into a free window"):
            return
        assert created is not None
        repair = body_of(created) or {}
        reference = repair.get("reference", "")
        first = windows[0]
        self.check(
            repair.get("status") == "booked",
            create_case,
            created,
            "booked repair",
            f"a repair booked into a free window has status {repair.get('status')!r}, not 'booked'",
        )
        self.check_appointment(create_case, created, first)
        self.check_history(create_case, created, ["reported", "booked"])
        self.check(
            repair.get("job", {}).get("trade") == job.trade
            and repair.get("job", {}).get("durationMinutes") == job.duration_minutes,
            create_case,
            created,
            "job of the triage leaf",
            f"the repair's job {repair.get('job')} is not the job of {job.path}",
        )
        location = created.headers.get("location", [""])[0]
        expected = f"/v1/councils/{self.council}/repairs/{reference}"
        self.check(
            location.endswith(expected),
            create_case,
            created,
            "Location of the new repair",
            f"Location is {location!r}, expected {expected!r}",
        )
        self.follow_repair(create_case, created, first, windows[1])

    def check_appointment(self, case: Case[Any], response: Response | None, window: dict[str, Any]) -> None:
        """The repair's appointment is the window it was booked into."""
        appointment = (body_of(response) or {}).get("appointment") or {}
        self.check(
            slot(appointment) == slot(window),
            case,
            response,
            "appointment of the chosen window",
            f"the appointment {appointment} is not the window {slot(window)}",
        )

    def check_history(self, case: Case[Any], response: Response | None, expected: list[str]) -> None:
        """The repair's ``history`` is a list, oldest first, whose types are ``expected`` in
        order (other events may come between them, such as a reminder)."""
        history = (body_of(response) or {}).get("history")
        if not self.check(
            isinstance(history, list),
            case,
            response,
            "history present",
            f"the repair has no history list: {history!r}",
        ):
            return
        assert isinstance(history, list)
        moments = [event.get("at") for event in history if isinstance(event, dict)]
        self.check(
            moments == sorted(moments, key=_moment),
            case,
            response,
            "history oldest first",
            f"the history is not in date order: {moments}",
        )
        types = [event.get("type") for event in history if isinstance(event, dict)]
        remaining = iter(types)
        self.check(
            all(kind in remaining for kind in expected),
            case,
            response,
            f"history holds {', '.join(expected)}",
            f"the history's types are {types}; expected {expected} in that order",
        )

    def follow_repair(
        self, create_case: Case[Any], created: Response, first: dict[str, Any], second: dict[str, Any]
    ) -> None:
        """getRepair, rescheduleRepair and cancelRepair of a booked repair."""
        reference = body_of(created).get("reference", "")
        links = {}
        for name in ("getCreatedRepair", "rescheduleCreatedRepair", "cancelCreatedRepair"):
            try:
                links[name] = follow("createRepair", 201, name, create_case, created)
            except LinkError as exc:
                self.check(False, create_case, created, f"link {name}", str(exc))
                return
        get_case = self.session.case("getRepair", path=links["getCreatedRepair"].path)
        got = self.send(get_case)
        if self.status_is(get_case, got, 200, "getRepair of a new repair"):
            self.check(
                body_of(got).get("status") == "booked",
                get_case,
                got,
                "status after booking",
                f"status is {body_of(got).get('status')!r}, not 'booked'",
            )
            self.check_appointment(get_case, got, first)
            self.check_history(get_case, got, ["reported", "booked"])
        lower_case = self.session.case("getRepair", path={"reference": reference.lower()})
        lower = self.send(lower_case)
        if self.status_is(lower_case, lower, 200, "getRepair with the reference in lower case"):
            self.check(
                body_of(lower).get("reference") == reference,
                lower_case,
                lower,
                "reference matched without case",
                f"answered {body_of(lower).get('reference')!r} for {reference.lower()!r}",
            )
        move_case = self.session.case(
            "rescheduleRepair", path=links["rescheduleCreatedRepair"].path, body={"windowId": second["id"]}
        )
        moved = self.send(move_case)
        if self.status_is(move_case, moved, 200, "rescheduleRepair into another free window"):
            self.check(
                body_of(moved).get("status") == "booked",
                move_case,
                moved,
                "status after reschedule",
                f"status is {body_of(moved).get('status')!r}, not 'booked'",
            )
            self.check_appointment(move_case, moved, second)
            self.check_history(move_case, moved, ["reported", "booked", "moved"])
        cancel_case = self.session.case("cancelRepair", path=links["cancelCreatedRepair"].path)
        cancelled = self.send(cancel_case)
        if self.status_is(cancel_case, cancelled, 200, "cancelRepair of a booked repair"):
            answer = body_of(cancelled)
            self.check(
                answer.get("status") == "cancelled" and answer.get("appointment") is None,
                cancel_case,
                cancelled,
                "cancelled repair",
                f"status {answer.get('status')!r}, appointment "
                f"{answer.get('appointment')!r}: expected 'cancelled' and null",
            )
        after = self.send(get_case)
        if self.status_is(get_case, after, 200, "getRepair of a cancelled repair"):
            self.check(
                body_of(after).get("status") == "cancelled",
                get_case,
                after,
                "cancelled repair reports cancelled",
                f"a cancelled repair reports status {body_of(after).get('status')!r}",
            )
            self.check_history(get_case, after, ["reported", "booked", "moved", "cancelled"])
        again = self.send(cancel_case)
        if self.status_is(cancel_case, again, 200, "cancelRepair repeated"):
            self.check(
                body_of(again).get("status") == "cancelled",
                cancel_case,
                again,
                "cancelling twice",
                "a repeated cancel does not answer the cancelled repair",
            )
        late_case = self.session.case(
            "rescheduleRepair", path={"reference": reference}, body={"windowId": first["id"]}
        )
        self.status_is(late_case, self.send(late_case), 409, "rescheduleRepair of a cancelled repair")
        self.check_other_council(reference)

    def check_other_council(self, reference: str) -> None:
        """A reference of this council is not found under another council."""
        other = self.session.endpoint.other_council
        if not other or other not in self.data.councils:
            self.session.report.skip(
                JOURNEY,
                *no_other_council(
                    self.council, other, self.data.councils, "a reference of one council under another"
                ),
            )
            return
        case = self.session.case("getRepair", path={"reference": reference}, council=other)
        self.status_is(case, self.send(case), 404, f"getRepair of a {self.council} reference under {other}")


def _moment(value: Any) -> Any:
    """An RFC 3339 timestamp as a comparable moment (offsets differ between answers)."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def use_up_capacity(session: ContractSession, data: TargetData) -> None:
    """Book one window until it is full: it must then no longer be offered; cancelling a
    booking must offer it again."""
    part = CAPACITY
    if not (data.uprns and data.jobs):
        session.report.skip(part, *data.unbookable())
        return
    job = data.jobs[-1]
    query = {"uprn": data.uprns[0], "triagePath": job.path}
    page_case = session.case("listAppointments", query=query)
    windows = windows_of(body_of(session.send(page_case, part)))
    if not windows:
        session.report.skip(part, f"no free window for {job.path} at {data.uprns[0]} on the first page")
        return
    window = windows[0]
    booked: list[str] = []
    full = None
    for number in range(MAX_BOOKINGS):
        body = {
            **query_body(query),
            "windowId": window["id"],
            "description": f"Capacity test booking {number + 1}.",
        }
        case = session.case("createRepair", body=body, headers={"Idempotency-Key": str(uuid.uuid4())})
        response = session.send(case, part)
        if response is not None and response.status_code == 201:
            booked.append(body_of(response).get("reference", ""))
            continue
        full = response
        session.expect(
            response is not None and response.status_code == 409,
            case,
            response,
            part,
            "booking a full window: expected 409",
            f"booking a window already booked {len(booked)} time(s) answered "
            f"{response.status_code if response is not None else None}, not 201 or 409",
        )
        break
    if full is None:
        session.report.skip(
            part, f"the window still took bookings after {MAX_BOOKINGS}: capacity not used up"
        )
        _cancel_all(session, booked, part)
        return
    date = str(window.get("start", ""))[:10]
    again_case = session.case("listAppointments", query={**query, "from": date})
    again = windows_of(body_of(session.send(again_case, part)))
    session.expect(
        slot(window) not in [slot(w) for w in again],
        again_case,
        None,
        part,
        "full window no longer offered",
        f"the window {slot(window)} is still offered after {len(booked)} booking(s) filled it",
    )
    if booked:
        _cancel_all(session, booked[:1], part)
        freed = windows_of(body_of(session.send(again_case, part)))
        session.expect(
            slot(window) in [slot(w) for w in freed],
            again_case,
            None,
            part,
            "cancelling releases the window",
            f"the window {slot(window)} is not offered again after a booking in it was cancelled",
        )
    _cancel_all(session, booked[1:], part)


def query_body(query: dict[str, str]) -> dict[str, Any]:
    """A createRepair body for the property and triage path of an appointments query, as a
    new problem (each booking is a repair of its own, not a repeated report)."""
    return {
        "uprn": query["uprn"],
        "repair": {"triagePath": query["triagePath"]},
        "contact": contact(),
        "newProblem": True,
    }


def _cancel_all(session: ContractSession, references: list[str], part: str) -> None:
    for reference in references:
        case = session.case("cancelRepair", path={"reference": reference})
        response = session.send(case, part)
        session.expect(
            response is not None and response.status_code == 200,
            case,
            response,
            part,
            "cancelRepair of a booked repair: expected 200",
            "cancelling a booked repair failed",
        )
