"""Free appointment windows, a page of bookable days at a time."""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from repairs_gateway.domain.errors import BackendDown, InvalidInput, UnknownTrade
from repairs_gateway.domain.tokens import InvalidToken, TokenSigner, WindowClaim, job_fingerprint
from repairs_gateway.domain.windows import label_for
from repairs_gateway.ports import Address, BackendRejected, BackendUnavailable, Job, SlotQuery
from repairs_gateway.runtime import CouncilRuntime
from repairs_gateway.services.addresses import eligible_address
from repairs_gateway.services.jobs import RepairSpec, resolve_job

MAX_AHEAD_DAYS = 365


@dataclass(frozen=True, slots=True)
class OfferedWindow:
    """A window as the API shows it."""

    id: str
    label: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Page:
    """Days with free windows, and where the next page starts."""

    days: list[tuple[date, list[OfferedWindow]]]
    next_cursor: str | None


def _search_digest(council: CouncilRuntime, uprn: str, job: Job) -> str:
    """What a cursor is bound to: the next page of the same search, nothing else. A digest,
    so the cursor stays short whatever the council's id."""
    raw = f"{council.spec.id}|{uprn}|{job_fingerprint(job)}"
    return hashlib.sha256(raw.encode()).hexdigest()[:24]


def first_day(
    council: CouncilRuntime,
    signer: TokenSigner,
    from_: date | None,
    cursor: str | None,
    uprn: str,
    job: Job,
) -> date:
    """Where a page starts: the cursor's day, ``from``, or today; ``InvalidInput`` naming
    the field otherwise."""
    today = datetime.now(council.zone).date()
    if cursor is not None:
        try:
            claims = signer.open(cursor)
            # Only the ISO date this gateway writes: fromisoformat also reads "20261203".
            if not isinstance(claims["from"], str) or len(claims["from"]) != 10:
                raise ValueError("not a date")
            start = date.fromisoformat(claims["from"])
        except (InvalidToken, KeyError, TypeError, ValueError):
            raise InvalidInput("is not a cursor this gateway issued", "cursor") from None
        if claims.get("search") != _search_digest(council, uprn, job):
            raise InvalidInput("was issued for another search (council, property or repair)", "cursor")
        return max(start, today)
    if from_ is None:
        return today
    if from_ < today:
        raise InvalidInput(f"{from_.isoformat()} is in the past", "from")
    if from_ > today + timedelta(days=MAX_AHEAD_DAYS):
        raise InvalidInput(f"is more than {MAX_AHEAD_DAYS} days ahead", "from")
    return from_


async def page_of_windows(
    council: CouncilRuntime,
    signer: TokenSigner,
    ttl_seconds: int,
    address: Address,
    job: Job,
    start: date,
) -> Page:
    """Up to ``days_per_page`` days with free windows from ``start`` on.

    The scheduler is asked for twice a page of days at once, so that an adaptor can fetch
    them in parallel and most pages need one round trip.
    """
    name = council.scheduler_for(job.trade)
    if name is None:
        raise UnknownTrade(f"no scheduler takes {job.trade!r} jobs", "trade")
    scheduler = council.schedulers[name]
    spec = council.spec
    zone = council.zone
    now = datetime.now(zone)
    last_allowed = now.date() + timedelta(days=spec.horizon_days)
    expires = int(time.time()) + ttl_seconds
    fingerprint = job_fingerprint(job)
    chunk = 2 * spec.days_per_page

    days: list[tuple[date, list[OfferedWindow]]] = []
    next_start: date | None = None
    cursor_day = start
    while cursor_day <= last_allowed and next_start is None:
        last = min(cursor_day + timedelta(days=chunk - 1), last_allowed)
        try:
            slots = await scheduler.slots(SlotQuery(spec.id, address, job, cursor_day, last))
        except (BackendUnavailable, BackendRejected):
            raise BackendDown() from None
        by_day: dict[date, list[OfferedWindow]] = defaultdict(list)
        for slot in slots:
            local_start, local_end = slot.start.astimezone(zone), slot.end.astimezone(zone)
            day = local_start.date()
            label = label_for(local_start, local_end, spec.windows)
            # Adaptors may answer more than asked; the gateway enforces the promise.
            if label is None or local_start <= now or not cursor_day <= day <= last:
                continue
            claim = WindowClaim(
                council=spec.id,
                uprn=address.uprn,
                job=fingerprint,
                scheduler=name,
                start=local_start.isoformat(),
                end=local_end.isoformat(),
                label=label,
                ref=slot.ref,
                expires=expires,
            )
            by_day[day].append(OfferedWindow(signer.window_id(claim), label, local_start, local_end))
        for day in sorted(by_day):
            if len(days) == spec.days_per_page:
                next_start = day
                break
            windows = sorted(by_day[day], key=lambda w: (w.start, w.end))
            days.append((day, windows))
        if len(days) == spec.days_per_page and next_start is None:
            next_start = last + timedelta(days=1)
        cursor_day = last + timedelta(days=1)
    cursor = None
    if next_start is not None and next_start <= last_allowed:
        cursor = signer.sign(
            {"from": next_start.isoformat(), "search": _search_digest(council, address.uprn, job)}
        )
    return Page(days, cursor)


async def list_windows(
    council: CouncilRuntime,
    signer: TokenSigner,
    ttl_seconds: int,
    uprn: str,
    repair: RepairSpec,
    from_: date | None,
    cursor: str | None,
) -> Page:
    """The listAppointments use case: the job, where the page starts, the property, then a
    page of windows."""
    job = resolve_job(council, repair)
    start = first_day(council, signer, from_, cursor, uprn, job)
    address = await eligible_address(council, uprn)
    return await page_of_windows(council, signer, ttl_seconds, address, job, start)
