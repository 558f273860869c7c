"""Property references the gateway remembers for address sources that cannot look up by UPRN.

UH's web services find a property by its own reference only. When such a source (a
``PropertyLookup``) answers a postcode, the gateway keeps each address's ``property_ref``;
when a repair later names the UPRN (in another process, after a restart, in the worker) the
source is asked by that reference, and decides eligibility afresh.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from repairs_gateway.persistence.models import KnownProperty, utcnow
from repairs_gateway.persistence.upsert import upsert
from repairs_gateway.ports import Address, AddressSource, PropertyLookup

# References already written by this process: a postcode looked up again costs no write.
_SEEN_LIMIT = 50_000


class KnownProperties:
    """The ``known_properties`` table: (council, UPRN) -> the backend's property reference."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions
        self._written: dict[tuple[str, str], str] = {}

    async def remember(self, council_id: str, addresses: Sequence[Address]) -> None:
        """Keep the property reference of each address not yet kept with that reference."""
        fresh = [
            a
            for a in addresses
            if a.property_ref and self._written.get((council_id, a.uprn)) != a.property_ref
        ]
        if not fresh:
            return
        async with self._sessions.begin() as session:
            for address in fresh:
                await upsert(
                    session,
                    KnownProperty,
                    {
                        "council_id": council_id,
                        "uprn": address.uprn,
                        "property_ref": address.property_ref,
                        "seen_at": utcnow(),
                    },
                    ("council_id", "uprn"),
                )
        if len(self._written) > _SEEN_LIMIT:
            self._written.clear()
        self._written.update({(council_id, a.uprn): str(a.property_ref) for a in fresh})

    async def reference_of(self, council_id: str, uprn: str) -> str | None:
        """The property reference kept for this UPRN, if any."""
        async with self._sessions() as session:
            return await session.scalar(
                select(KnownProperty.property_ref)
                .where(KnownProperty.council_id == council_id)
                .where(KnownProperty.uprn == uprn)
            )


class RememberingAddresses:
    """An ``AddressSource`` over one that finds properties by its own reference: remembers
    what it answers, and finds a UPRN it has not seen in this process by that reference."""

    def __init__(
        self, council_id: str, inner: AddressSource, lookup: PropertyLookup, known: KnownProperties
    ) -> None:
        self._council_id, self._inner, self._lookup, self._known = council_id, inner, lookup, known

    async def addresses_at(self, postcode: str) -> Sequence[Address]:
        """See ``AddressSource.addresses_at``; what is answered is remembered."""
        found = await self._inner.addresses_at(postcode)
        await self._known.remember(self._council_id, found)
        return found

    async def address(self, uprn: str) -> Address | None:
        """See ``AddressSource.address``; asked by the remembered reference when the source
        does not know the UPRN itself. An answer for another UPRN is no answer."""
        address = await self._inner.address(uprn)
        if address is not None:
            return address
        reference = await self._known.reference_of(self._council_id, uprn)
        if reference is None:
            return None
        found = await self._lookup.address_by_ref(reference)
        return found if found is not None and found.uprn == uprn else None
