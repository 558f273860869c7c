"""The simulated world's data: access tokens, jobs, the diary's capacity, and failures to
inject. Plain Python with no HTTP: ``app`` turns requests into calls on ``World``, and
``ApiError`` into Totalmobile's problem documents."""

from __future__ import annotations

import copy
import hashlib
import secrets
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from .config import SimulatorConfig

LONDON = ZoneInfo("Europe/London")
Clock = Callable[[], datetime]

Failure = Literal["http503", "http500", "dropped", "lost", "hang"]
"""``dropped``: carried out, the answer cut short; ``lost``: carried out, answered 504
(a proxy gave up); ``hang``: never answers; ``http503``/``http500``: not carried out."""
RANDOM_FAILURES: tuple[Failure, ...] = ("http503", "http500", "dropped")

OPERATIONS = ("token", "create_job", "list_jobs", "get_job", "delete_job", "offers", "accept")

STATES_ACCEPTING = frozenset({"Unallocated", "Allocated"})
"""States in which a job may accept (or change) an appointment."""

_JOB_KEYS = frozenset(
    {
        "identity",
        "description",
        "origin",
        "duration",
        "workType",
        "skills",
        "dueDate",
        "location",
        "contact",
        "attributes",
        "additionalProperties",
    }
)


def system_clock() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


class ApiError(Exception):
    """An error answer: the HTTP status and Totalmobile's ``errorCode``."""

    def __init__(
        self, status: int, code: str, detail: str, errors: dict[str, list[str]] | None = None
    ):
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.errors = errors


@dataclass
class SimJob:
    """A job in the world: what was posted, its state and its appointment."""

    body: dict[str, Any]
    status: str = "Unallocated"
    offer: str | None = None
    day: date | None = None
    band: str | None = None

    @property
    def reference(self) -> str:
        """The job's identity.reference."""
        return str(self.body["identity"]["reference"])

    @property
    def skill(self) -> str:
        """The skill the diary counts the job against: its first."""
        return str(self.body["skills"][0]["identity"]["reference"])

    def show(self) -> dict[str, Any]:
        """The job as the API answers it."""
        shown = copy.deepcopy(self.body)
        shown["status"] = self.status
        shown["appointment"] = (
            {
                "offerReference": self.offer,
                "date": self.day.isoformat(),
                "timeBand": {"name": self.band},
            }
            if self.offer and self.day and self.band
            else None
        )
        return shown


class World:
    """One simulated Totalmobile instance with one world."""

    def __init__(self, config: SimulatorConfig, clock: Clock = system_clock) -> None:
        self.config = config
        self.clock = clock
        self.tokens: dict[str, datetime] = {}
        self.jobs: dict[str, SimJob] = {}
        self.used: Counter[tuple[date, str, str]] = Counter()
        self.calls: Counter[str] = Counter()
        self.token_requests = 0
        self._failures: dict[str, deque[Failure]] = {}
        self._after: dict[str, list[Callable[[], None]]] = {}
        self._bands = {band.name.upper(): band for band in config.bands()}

    # ------------------------------------------------------------------ test controls

    def fail_next(self, operation: str, failure: Failure, times: int = 1) -> None:
        """The next ``times`` calls of ``operation`` fail this way."""
        if operation not in OPERATIONS:
            raise ValueError(f"unknown operation {operation!r}; one of {OPERATIONS}")
        self._failures.setdefault(operation, deque()).extend([failure] * times)

    def take_failure(self, operation: str) -> Failure | None:
        """The failure injected for this call, if any."""
        queue = self._failures.get(operation)
        return queue.popleft() if queue else None

    def after(self, operation: str, action: Callable[[], None]) -> None:
        """Run ``action`` once, right after the next ``operation`` is carried out."""
        self._after.setdefault(operation, []).append(action)

    def carried_out(self, operation: str) -> None:
        """Run what was waiting for ``operation``."""
        for action in self._after.pop(operation, []):
            action()

    def expire_tokens(self) -> None:
        """Every token issued so far expires now."""
        now = self.clock()
        for token in self.tokens:
            self.tokens[token] = min(self.tokens[token], now)

    def set_status(self, reference: str, status: str) -> None:
        """Move a job on, as an operative's device or a planner would."""
        self._job(reference).status = status

    def fill(self, day: date, band: str, skill: str) -> None:
        """Take every remaining place of a band on a day for a skill."""
        self.used[(day, band.upper(), skill)] = self.config.capacity_for(skill)

    # ------------------------------------------------------------------ tokens

    def issue_token(self, form: dict[str, str], basic: tuple[str, str] | None) -> dict[str, Any]:
        """Client credentials: an access token, or an OAuth error (``ApiError`` with the
        OAuth error as its code)."""
        self.token_requests += 1
        if form.get("grant_type") != "client_credentials":
            raise ApiError(400, "unsupported_grant_type", "only client_credentials is supported")
        client_id, secret = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        known = secrets.compare_digest(client_id.encode(), self.config.client_id.encode())
        right = secrets.compare_digest(secret.encode(), self.config.client_secret.encode())
        if not (known and right):
            raise ApiError(400, "invalid_client", "unknown client or wrong secret")
        scopes = form.get("scope", "").split()
        if scopes and any(s != self.config.scope for s in scopes):
            raise ApiError(400, "invalid_scope", f"scope {form.get('scope')!r} is not granted")
        token = secrets.token_urlsafe(32)
        lifetime = self.config.token_lifetime_seconds
        self.tokens[token] = self.clock() + timedelta(seconds=lifetime)
        return {
            "access_token": token,
            "expires_in": lifetime,
            "token_type": "Bearer",
            "scope": self.config.scope,
        }

    def check_token(self, token: str | None) -> str | None:
        """None when the token is good; else why not (for ``WWW-Authenticate``)."""
        if not token:
            return "no bearer token"
        expires = self.tokens.get(token)
        if expires is None:
            return "the token is not known"
        if self.clock() >= expires:
            return "the token expired"
        return None

    # ------------------------------------------------------------------ jobs

    def create(self, body: Any) -> dict[str, Any]:
        """Add a job (``Unallocated``); its reference must be new in the world."""
        _validate_job(body, self.config.skills)
        reference = body["identity"]["reference"]
        if reference in self.jobs:
            raise ApiError(409, "JobAlreadyExists", f"a job {reference!r} already exists")
        job = SimJob(copy.deepcopy(body))
        self.jobs[reference] = job
        return job.show()

    def get(self, reference: str) -> dict[str, Any]:
        """A job as the API shows it."""
        return self._job(reference).show()

    def list(self, page_size: int, page: int) -> dict[str, Any]:
        """A page of the world's jobs, in the order made."""
        everything = list(self.jobs.values())
        chunk = everything[(page - 1) * page_size : page * page_size]
        return {
            "items": [job.show() for job in chunk],
            "page": page,
            "pageSize": page_size,
            "totalCount": len(everything),
        }

    def delete(self, reference: str) -> None:
        """Remove a job and free its appointment's place."""
        job = self._job(reference)
        self._release(job)
        del self.jobs[reference]

    # ------------------------------------------------------------------ offers

    def offers(self, reference: str, first: date, last: date) -> dict[str, Any]:
        """The bands with room for the job's skill on the days asked, not yet begun."""
        job = self._job(reference)
        if last < first:
            raise ApiError(400, "ValidationFailed", "to is before from", {"to": ["before from"]})
        days = (last - first).days + 1
        if days > self.config.max_offer_days:
            raise ApiError(
                400,
                "RangeTooLong",
                f"{days} days asked; at most {self.config.max_offer_days}",
                {"to": [f"at most {self.config.max_offer_days} days after from"]},
            )
        now = self.clock()
        offered = []
        for n in range(days):
            day = first + timedelta(days=n)
            if day.weekday() not in self.config.working_days or day in self.config.holidays:
                continue
            for band in self._bands.values():
                if datetime.combine(day, band.start, LONDON) <= now:
                    continue
                if self.used[(day, band.name.upper(), job.skill)] >= self.config.capacity_for(
                    job.skill
                ):
                    continue
                offered.append(
                    {
                        "identity": {"reference": self._offer_ref(day, band.name, job)},
                        "date": day.isoformat(),
                        "timeBand": {"name": band.name},
                    }
                )
        return {"jobReference": reference, "offers": offered}

    def accept(self, reference: str, offer: str) -> dict[str, Any]:
        """Give the job the offer's appointment, freeing any it held."""
        job = self._job(reference)
        parsed = self._parse_offer(offer, job)
        if parsed is None:
            raise ApiError(404, "OfferNotFound", f"no offer {offer!r} for job {reference!r}")
        day, band = parsed
        if job.status not in STATES_ACCEPTING:
            raise ApiError(409, "JobNotReschedulable", f"job {reference!r} is {job.status}")
        if (job.day, job.band) == (day, band):
            return job.show()
        start = datetime.combine(day, self._bands[band].start, LONDON)
        full = self.used[(day, band, job.skill)] >= self.config.capacity_for(job.skill)
        closed = day.weekday() not in self.config.working_days or day in self.config.holidays
        if full or closed or start <= self.clock():
            raise ApiError(409, "OfferNoLongerAvailable", f"offer {offer!r} is no longer available")
        self._release(job)
        self.used[(day, band, job.skill)] += 1
        job.offer, job.day, job.band, job.status = offer, day, band, "Allocated"
        return job.show()

    # ------------------------------------------------------------------ helpers

    def _job(self, reference: str) -> SimJob:
        job = self.jobs.get(reference)
        if job is None:
            raise ApiError(
                404, "JobNotFound", f"no job {reference!r} in world {self.config.world_id}"
            )
        return job

    def _release(self, job: SimJob) -> None:
        if job.day is not None and job.band is not None:
            self.used[(job.day, job.band, job.skill)] -= 1
        job.offer = job.day = job.band = None

    def _offer_ref(self, day: date, band: str, job: SimJob) -> str:
        ref = f"OF-{day:%Y%m%d}-{band.upper()}-{job.skill}"
        if self.config.offers_bound_to_job:
            ref += "-" + hashlib.sha256(job.reference.encode()).hexdigest()[:8]
        return ref

    def _parse_offer(self, offer: str, job: SimJob) -> tuple[date, str] | None:
        parts = offer.split("-")
        if len(parts) < 4 or parts[0] != "OF":
            return None
        try:
            day = datetime.strptime(parts[1], "%Y%m%d").date()
        except ValueError:
            return None
        band = parts[2]
        if band not in self._bands or self._offer_ref(day, band, job) != offer:
            return None  # another skill's offer, or another job's where offers are bound
        return day, band


# ---------------------------------------------------------------------- validation


def _validate_job(body: Any, skills: frozenset[str]) -> None:
    """Totalmobile's checks on a new job, strict: every problem is named."""
    if not isinstance(body, dict):
        raise ApiError(400, "ValidationFailed", "the job must be a JSON object")
    errors: dict[str, list[str]] = {}

    def bad(field: str, why: str) -> None:
        errors.setdefault(field, []).append(why)

    for key in sorted(set(body) - _JOB_KEYS):
        bad(key, "is not a job field")
    identity = body.get("identity")
    reference = identity.get("reference") if isinstance(identity, dict) else None
    if not isinstance(reference, str) or not 1 <= len(reference) <= 64 or "/" in reference:
        bad("identity.reference", "must be text of 1 to 64 characters without '/'")
    for key in ("description", "origin", "workType"):
        if not isinstance(body.get(key), str) or not body[key].strip():
            bad(key, "must be non-empty text")
    if isinstance(body.get("description"), str) and len(body["description"]) > 4000:
        bad("description", "at most 4000 characters")
    duration = body.get("duration")
    if isinstance(duration, bool) or not isinstance(duration, int) or not 1 <= duration <= 1440:
        bad("duration", "must be whole minutes, 1 to 1440")
    listed = body.get("skills")
    if not isinstance(listed, list) or not listed:
        bad("skills", "at least one skill is needed")
    else:
        for n, skill in enumerate(listed):
            ref = skill.get("identity", {}).get("reference") if isinstance(skill, dict) else None
            if not isinstance(ref, str) or ref not in skills:
                bad(f"skills[{n}]", f"unknown skill {ref!r}")
    due = body.get("dueDate")
    end = due.get("end") if isinstance(due, dict) else None
    try:
        parsed = datetime.fromisoformat(end) if isinstance(end, str) else None
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        bad("dueDate.end", "must be a date and time with its offset")
    _validate_location(body.get("location"), bad)
    contact = body.get("contact")
    if not isinstance(contact, dict) or not isinstance(contact.get("name"), str):
        bad("contact.name", "must be text")
    if not isinstance(body.get("attributes", []), list):
        bad("attributes", "must be a list")
    extra = body.get("additionalProperties", [])
    if not isinstance(extra, list) or not all(
        isinstance(p, dict)
        and set(p) == {"name", "value"}
        and isinstance(p["name"], str)
        and isinstance(p["value"], str)
        for p in extra
    ):
        bad("additionalProperties", "must be a list of {name, value} text pairs")
    if errors:
        raise ApiError(400, "ValidationFailed", "the job is not valid", errors)


def _validate_location(location: Any, bad: Callable[[str, str], None]) -> None:
    if not isinstance(location, dict):
        bad("location", "is required")
        return
    if not isinstance(location.get("reference"), str) or not location["reference"]:
        bad("location.reference", "must be non-empty text")
    if not isinstance(location.get("address"), str):
        bad("location.address", "must be text")
    detail = location.get("addressDetail")
    if not isinstance(detail, dict):
        bad("location.addressDetail", "is required")
        return
    if not isinstance(detail.get("addressLine1"), str) or not detail["addressLine1"].strip():
        bad("location.addressDetail.addressLine1", "must be non-empty text")
    for n in (2, 3, 4):
        if not isinstance(detail.get(f"addressLine{n}", ""), str):
            bad(f"location.addressDetail.addressLine{n}", "must be text")
    if not isinstance(detail.get("postCode"), str) or not detail["postCode"].strip():
        bad("location.addressDetail.postCode", "must be non-empty text")
