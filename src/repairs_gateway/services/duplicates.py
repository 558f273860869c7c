"""The same problem reported twice: finding the open repair a report repeats, and adding the
reporter of a communal repair to it.

What counts as the same: an open repair (received, booking, booked, in progress or needing a
person) at the same property, of the same job: the same SoR code when the job has one,
otherwise the same trade and triage path. The rules of what then happens (join at a communal
area within the council's time, refuse at a home) are ``RepairService.create``'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.domain.errors import IdempotencyKeyReused
from repairs_gateway.domain.history import EventKind
from repairs_gateway.domain.repair import RepairStatus
from repairs_gateway.persistence.models import Repair, RepairContact
from repairs_gateway.persistence.repair_store import record_events
from repairs_gateway.ports import Contact, Job

S = RepairStatus
OPEN = (S.RECEIVED, S.BOOKING, S.BOOKED, S.IN_PROGRESS, S.NEEDS_ATTENTION)
"""The statuses of a repair that a new report of the same job repeats."""


@dataclass(frozen=True, slots=True)
class Joined:
    """A report that joined an open repair: the repair as it is now, and the channel the
    reporter asked to be told by."""

    row: Repair
    channel: str


@dataclass(frozen=True, slots=True)
class Reporter:
    """Who made a report, and the request that made it (for replays)."""

    contact: Contact
    preferred_channel: str
    client_id: int
    idempotency_key: str | None
    request_hash: str


def _digits(phone: str | None) -> str:
    return "".join(ch for ch in phone or "" if ch.isdigit())


def same_person(
    phone: str | None, email: str | None, other_phone: str | None, other_email: str | None
) -> bool:
    """Whether two sets of contact details reach the same person (a phone number in any
    spelling, an email address in any case)."""
    if _digits(phone) and _digits(phone) == _digits(other_phone):
        return True
    return bool(email) and bool(other_email) and str(email).casefold() == str(other_email).casefold()


class Duplicates:
    """The open repairs a report may repeat, and the residents who joined them."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def open_repair(
        self, council_id: str, uprn: str, job: Job, triage_path: str | None, since: datetime | None
    ) -> Repair | None:
        """The newest open repair of ``job`` at the property, reported after ``since`` when
        given; one indexed query (``ix_repairs_council_uprn``)."""
        query = (
            select(Repair)
            .where(Repair.council_id == council_id)
            .where(Repair.uprn == uprn)
            .where(Repair.status.in_([status.value for status in OPEN]))
        )
        if job.sor_code:
            query = query.where(Repair.sor_code == job.sor_code)
        else:
            query = query.where(Repair.sor_code.is_(None)).where(Repair.trade == job.trade)
            query = query.where(
                Repair.triage_path.is_(None) if triage_path is None else Repair.triage_path == triage_path
            )
        if since is not None:
            query = query.where(Repair.created_at >= since)
        async with self._sessions() as session:
            found: Repair | None = await session.scalar(
                query.order_by(Repair.created_at.desc(), Repair.id.desc()).limit(1)
            )
        return found

    async def replayed(self, council_id: str, client_id: int, key: str, digest: str) -> Joined | None:
        """The repair an earlier report with this Idempotency-Key joined, if any;
        ``IdempotencyKeyReused`` when that report had another body."""
        async with self._sessions() as session:
            found = (
                await session.execute(
                    select(RepairContact, Repair)
                    .join(Repair, Repair.id == RepairContact.repair_id)
                    .where(Repair.council_id == council_id)
                    .where(RepairContact.client_id == client_id)
                    .where(RepairContact.idempotency_key == key)
                    .order_by(RepairContact.id)
                    .limit(1)
                )
            ).first()
        if found is None:
            return None
        contact, repair = found
        if contact.request_hash != digest:
            raise IdempotencyKeyReused("was used before with a different request body", "Idempotency-Key")
        return Joined(repair, contact.preferred_channel)

    async def join(self, council_id: str, repair_id: int, reporter: Reporter) -> Joined | None:
        """Add the reporter to the open repair, with a ``joined`` event (and its notify job)
        in the same transaction; None when the repair has closed meanwhile. A reporter who is
        already told of the repair (its first reporter, or one who joined) is not added twice."""
        contact = reporter.contact
        try:
            async with self._sessions.begin() as session:
                repair = await session.get(Repair, repair_id, populate_existing=True)
                if repair is None or repair.status not in {status.value for status in OPEN}:
                    return None
                known = [(repair.contact_phone, repair.contact_email)]
                known += [
                    (c.phone, c.email)
                    for c in await session.scalars(
                        select(RepairContact).where(RepairContact.repair_id == repair_id)
                    )
                ]
                if not any(same_person(contact.phone, contact.email, p, e) for p, e in known):
                    session.add(
                        RepairContact(
                            repair_id=repair_id,
                            name=contact.name,
                            phone=contact.phone,
                            email=contact.email,
                            preferred_channel=reporter.preferred_channel,
                            client_id=reporter.client_id,
                            idempotency_key=reporter.idempotency_key,
                            request_hash=reporter.request_hash,
                        )
                    )
                    await session.flush()
                    await record_events(session, repair, [(EventKind.JOINED, {})])
        except IntegrityError:
            # The same report (its Idempotency-Key) joined meanwhile, from a concurrent request.
            if reporter.idempotency_key is None:
                raise
            return await self.replayed(
                council_id, reporter.client_id, reporter.idempotency_key, reporter.request_hash
            )
        return Joined(repair, reporter.preferred_channel)
