"""Properties from UH: the list at a postcode, each property's facts, in bounded
parallel and cached for a short while, and the addresses residents may report at.

UH's ``GetPropertyListByPostCode`` answers summaries only; whether a property is open to
online repairs (its level and type, ``NoMaintenanceAllowed``, ``Repairable``,
``OnlineRepairs``) and its UPRN (a user field) are in ``GetPropertyByRef``, one call per
property. Those calls go out ``max_parallel`` at a time and their answers are kept for
``facts_ttl_seconds``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any, TypeVar

from repairs_gateway.ports import (
    Address,
    BackendRejected,
    InvalidPostcode,
    normalise_postcode,
)

from .cache import MonotonicClock, TtlCache
from .client import UNREADABLE, UhClient, UnreadableAnswer
from .eligibility import PropertyFacts, judge
from .errors import is_property_not_found
from .settings import UhHousingSettings

log = logging.getLogger(__name__)

T = TypeVar("T")
LOOKUP_REFUSED = "The housing system would not list the properties at this postcode."
FACTS_REFUSED = "The housing system would not give a property's details."
_LINES = ("AddressLine1", "AddressLine2", "AddressLine3", "AddressLine4")


class PropertyDirectory:
    """UH's properties as the gateway's ``Address`` values."""

    def __init__(
        self, settings: UhHousingSettings, client: UhClient, clock: MonotonicClock
    ) -> None:
        self._settings = settings
        self._client = client
        self._facts = TtlCache[PropertyFacts | None](settings.facts_ttl_seconds, clock)
        self._limit = asyncio.Semaphore(settings.max_parallel)
        # What this process has answered: UH cannot be asked by UPRN.
        self._by_uprn: dict[str, Address] = {}

    async def addresses_at(self, postcode: str) -> list[Address]:
        """The eligible properties UH holds at ``postcode`` (normalised)."""
        summaries = await self._summaries(postcode)
        facts = await self._bounded([self.facts(ref) for ref in summaries])
        found: list[Address] = []
        for (ref, summary), fact in zip(summaries.items(), facts, strict=True):
            address = _address(ref, summary, fact, postcode)
            if address is not None:
                found.append(address)
        for address in found:
            self._by_uprn[address.uprn] = address
        return found

    async def address(self, uprn: str) -> Address | None:
        """An address this process has answered, if UH finds it eligible now."""
        known = self._by_uprn.get(uprn)
        if known is None or known.property_ref is None:
            return None
        fact = await self.facts(known.property_ref, fresh=True)
        if fact is None or not fact.eligible or fact.uprn != uprn:
            return None
        return known

    async def address_by_ref(self, property_ref: str) -> Address | None:
        """The property with this UH reference, if it is eligible now. Its lines come from
        the postcode's list, as ``addresses_at`` gives them (one more call)."""
        fact = await self.facts(property_ref, fresh=True)
        if fact is None or not fact.eligible or fact.postcode is None:
            return None
        try:
            postcode = normalise_postcode(fact.postcode)
        except InvalidPostcode:
            log.warning("UH property %s has an unreadable postcode %r", property_ref, fact.postcode)
            return None
        summary = (await self._summaries(postcode)).get(property_ref)
        if summary is None:
            # Not listed at its own postcode: lines from the property record itself.
            summary = {"ShortAddress": fact.short_address}
        address = _address(property_ref, summary, fact, postcode)
        if address is not None:
            self._by_uprn[address.uprn] = address
        return address

    def known_ref(self, uprn: str) -> str | None:
        """The UH reference of a UPRN this process has answered."""
        known = self._by_uprn.get(uprn)
        return known.property_ref if known is not None else None

    async def facts(self, property_ref: str, *, fresh: bool = False) -> PropertyFacts | None:
        """The property's facts (None when UH does not know it): cached, or asked of UH
        now when ``fresh`` (one property about to get a repair: eligibility checked now)."""
        if not fresh:
            return await self._facts.get(property_ref, lambda: self._fetch_facts(property_ref))
        facts = await self._fetch_facts(property_ref)
        self._facts.put(property_ref, facts)
        return facts

    async def _bounded(self, calls: Sequence[Awaitable[T]]) -> list[T]:
        async def one(call: Awaitable[T]) -> T:
            async with self._limit:
                return await call

        # A TaskGroup cancels the other calls at the first failure, so a lookup that has
        # failed does not go on costing UH calls.
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(one(call)) for call in calls]
        return [task.result() for task in tasks]

    async def _summaries(self, postcode: str) -> dict[str, Mapping[str, Any]]:
        reply = await self._client.call("GetPropertyListByPostCode", PostCode=postcode)
        if not reply.success:
            raise BackendRejected(LOOKUP_REFUSED, detail=reply.describe())
        holder = reply.body.get("PropertyList") or {}
        listed = holder.get("PropertySummary") if isinstance(holder, Mapping) else None
        found: dict[str, Mapping[str, Any]] = {}
        for summary in listed or []:
            ref = str(summary.get("PropertyReference") or "").strip()
            if not ref:
                raise UnreadableAnswer(UNREADABLE, detail="a PropertySummary without its reference")
            # UH may match postcodes loosely; keep only the one asked for.
            if _same_postcode(summary.get("PostCodeValue"), postcode):
                found.setdefault(ref, summary)
        return found

    async def _fetch_facts(self, property_ref: str) -> PropertyFacts | None:
        reply = await self._client.call("GetPropertyByRef", PropertyReference=property_ref)
        if not reply.success:
            if is_property_not_found(reply):
                return None
            raise BackendRejected(FACTS_REFUSED, detail=reply.describe())
        dto = reply.body.get("Property")
        if not isinstance(dto, Mapping):
            raise UnreadableAnswer(
                UNREADABLE, detail=f"GetPropertyByRef {property_ref}: no Property"
            )
        if str(dto.get("Reference") or "").strip() != property_ref:
            # An answer about another property (or none) must not pass for this one.
            raise UnreadableAnswer(
                UNREADABLE,
                detail=f"GetPropertyByRef {property_ref}: Reference {dto.get('Reference')!r}",
            )
        facts = judge(property_ref, dto, self._settings)
        if not facts.eligible:
            log.debug("UH property %s is not offered: %s", property_ref, facts.reason)
        return facts


def _same_postcode(raw: Any, postcode: str) -> bool:
    try:
        return normalise_postcode(str(raw or "")) == postcode
    except InvalidPostcode:
        return False


def _address(
    ref: str, summary: Mapping[str, Any], fact: PropertyFacts | None, postcode: str
) -> Address | None:
    if fact is None or not fact.eligible or fact.uprn is None or fact.kind is None:
        return None
    lines = tuple(text for key in _LINES if (text := str(summary.get(key) or "").strip())) or tuple(
        text for text in [str(summary.get("ShortAddress") or "").strip()] if text
    )
    if not lines:
        log.warning("UH property %s has no address lines; not offered", ref)
        return None
    return Address(uprn=fact.uprn, lines=lines, postcode=postcode, kind=fact.kind, property_ref=ref)
