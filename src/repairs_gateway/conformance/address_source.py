"""The behaviour every ``AddressSource`` must show.

Subclass ``AddressSourceConformance`` in a test module (its name starting with ``Test``)
and define a fixture ``address_source_harness`` answering an ``AddressSourceHarness``.

Postcode rule: the gateway normalises a postcode (``NF1 1AA``) before asking, so an
adaptor receives only that form. It must find the properties the backend holds at that
postcode however the backend spells it, and answer them with ``postcode`` normalised.
"""

from __future__ import annotations

import re
from typing import ClassVar

import pytest

from repairs_gateway.conformance.checks import (
    Operation,
    Operations,
    check_down,
    check_gateway_timeout,
    check_malformed,
    check_own_timeout,
)
from repairs_gateway.conformance.harness import AddressSourceHarness
from repairs_gateway.ports import Address, InvalidPostcode, PropertyLookup, normalise_postcode

_UPRN = re.compile(r"^[0-9]{1,12}$")
KINDS = ("dwelling", "communal")


def _normalised(postcode: str, what: str) -> str:
    try:
        normal = normalise_postcode(postcode)
    except InvalidPostcode as exc:
        pytest.fail(f"harness: {what} {postcode!r} is not a postcode: {exc}", pytrace=False)
    if normal != postcode:
        pytest.fail(f"harness: give {what} normalised, {normal!r} rather than {postcode!r}", pytrace=False)
    return normal


async def _found(harness: AddressSourceHarness) -> dict[str, list[Address]]:
    """What the source answers at each known postcode."""
    if not harness.known_postcodes:
        pytest.fail("harness: known_postcodes is empty", pytrace=False)
    found: dict[str, list[Address]] = {}
    for postcode in harness.known_postcodes:
        found[postcode] = list(await harness.source.addresses_at(_normalised(postcode, "known postcode")))
    return found


async def _some_address(harness: AddressSourceHarness) -> Address:
    for addresses in (await _found(harness)).values():
        if addresses:
            return addresses[0]
    pytest.fail("no address at any of the harness's known postcodes", pytrace=False)


def _operations(harness: AddressSourceHarness) -> Operations:
    """Both calls, about an address found while the backend is well."""

    async def prepare() -> list[Operation]:
        known = await _some_address(harness)
        source = harness.source
        operations: list[Operation] = [
            ("addresses_at", lambda: source.addresses_at(known.postcode)),
            ("address", lambda: source.address(known.uprn)),
        ]
        if isinstance(source, PropertyLookup) and known.property_ref:
            ref = known.property_ref
            operations.append(("address_by_ref", lambda: source.address_by_ref(ref)))
        return operations

    return prepare


class AddressSourceConformance:
    """The conformance tests of an ``AddressSource``; needs ``address_source_harness``."""

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [pytest.mark.conformance, pytest.mark.asyncio]

    async def test_known_postcode_is_found_however_the_backend_spells_it(
        self, address_source_harness: AddressSourceHarness
    ) -> None:
        """Asked in the normalised form, the source answers every property at each known
        postcode, and no other, however the backend stores the postcode."""
        found = await _found(address_source_harness)
        wrong: list[str] = []
        for postcode, expected in address_source_harness.known_postcodes.items():
            answered = {a.uprn for a in found[postcode]}
            if missing := sorted(set(expected) - answered):
                wrong.append(f"at {postcode!r} the UPRNs {missing} were not answered")
            if extra := sorted(answered - set(expected)):
                wrong.append(f"at {postcode!r} the UPRNs {extra} were answered, not expected")
        assert not wrong, "asked in the normalised form:\n  " + "\n  ".join(wrong)

    async def test_answers_carry_the_normalised_postcode(
        self, address_source_harness: AddressSourceHarness
    ) -> None:
        """Every address answered carries the postcode it was asked for, normalised."""
        found = await _found(address_source_harness)
        if not any(found.values()):
            pytest.fail("no address at any of the harness's known postcodes", pytrace=False)
        wrong = [
            f"asked {asked!r}, answered uprn {a.uprn} at {a.postcode!r}"
            for asked, addresses in found.items()
            for a in addresses
            if a.postcode != asked
        ]
        assert not wrong, "addresses must carry the normalised postcode asked for:\n  " + "\n  ".join(wrong)

    async def test_unknown_postcode_is_an_empty_list(
        self, address_source_harness: AddressSourceHarness
    ) -> None:
        """A postcode the backend does not know is no addresses, not an error."""
        postcode = _normalised(address_source_harness.unknown_postcode, "unknown_postcode")
        try:
            answer = await address_source_harness.source.addresses_at(postcode)
        except Exception as exc:
            pytest.fail(
                f"addresses_at({postcode!r}) raised {type(exc).__name__}: {exc}; "
                "an unknown postcode must answer an empty list",
                pytrace=False,
            )
        assert list(answer) == [], f"addresses_at({postcode!r}) answered {answer!r} for an unknown postcode"

    async def test_addresses_are_well_formed(self, address_source_harness: AddressSourceHarness) -> None:
        """UPRNs are 1 to 12 digits and unique, lines are non-empty text, kinds are known."""
        problems: list[str] = []
        seen: set[str] = set()
        for addresses in (await _found(address_source_harness)).values():
            for a in addresses:
                if not isinstance(a, Address):
                    problems.append(f"{a!r} is not a repairs_gateway.ports.Address")
                    continue
                if not (isinstance(a.uprn, str) and _UPRN.fullmatch(a.uprn)):
                    problems.append(f"uprn {a.uprn!r} is not 1 to 12 digits")
                if a.uprn in seen:
                    problems.append(f"uprn {a.uprn!r} is answered twice")
                seen.add(a.uprn)
                if not a.lines or not all(isinstance(line, str) and line.strip() for line in a.lines):
                    problems.append(f"uprn {a.uprn}: lines {a.lines!r} must be non-empty text")
                if a.kind not in KINDS:
                    problems.append(f"uprn {a.uprn}: kind {a.kind!r} is not one of {KINDS}")
                if a.property_ref is not None and not isinstance(a.property_ref, str):
                    problems.append(f"uprn {a.uprn}: property_ref {a.property_ref!r} is not text")
        assert not problems, "malformed addresses:\n  " + "\n  ".join(problems)

    async def test_address_by_uprn_is_the_same_property(
        self, address_source_harness: AddressSourceHarness
    ) -> None:
        """``address(uprn)`` answers each property ``addresses_at`` answered, unchanged."""
        different: list[str] = []
        for addresses in (await _found(address_source_harness)).values():
            for a in addresses:
                again = await address_source_harness.source.address(a.uprn)
                if again != a:
                    different.append(f"address({a.uprn!r}) answered {again!r}, addresses_at answered {a!r}")
        assert not different, "\n".join(different)

    async def test_a_property_lookup_finds_each_property_by_its_reference(
        self, address_source_harness: AddressSourceHarness
    ) -> None:
        """For a ``PropertyLookup``: every address answered carries its ``property_ref``, and
        ``address_by_ref`` answers that property unchanged; an unknown reference is None."""
        source = address_source_harness.source
        if not isinstance(source, PropertyLookup):
            pytest.skip("the source has no address_by_ref (PropertyLookup): nothing to hold it to")
        wrong: list[str] = []
        for addresses in (await _found(address_source_harness)).values():
            for a in addresses:
                if not a.property_ref:
                    wrong.append(f"uprn {a.uprn} carries no property_ref to be found by")
                    continue
                again = await source.address_by_ref(a.property_ref)
                if again != a:
                    wrong.append(f"address_by_ref({a.property_ref!r}) answered {again!r}, not {a!r}")
        unknown = await source.address_by_ref(address_source_harness.unknown_property_ref)
        if unknown is not None:
            wrong.append(f"an unknown reference answered {unknown!r}, not None")
        assert not wrong, "\n".join(wrong)

    async def test_unknown_uprn_is_none(self, address_source_harness: AddressSourceHarness) -> None:
        """A UPRN the backend does not know is None, not an error."""
        uprn = address_source_harness.unknown_uprn
        try:
            answer = await address_source_harness.source.address(uprn)
        except Exception as exc:
            pytest.fail(
                f"address({uprn!r}) raised {type(exc).__name__}: {exc}; it must answer None", pytrace=False
            )
        assert answer is None, f"address({uprn!r}) answered {answer!r} for an unknown UPRN"

    async def test_backend_down_is_unavailable(self, address_source_harness: AddressSourceHarness) -> None:
        """Called directly, every call raises ``BackendUnavailable`` while the backend is down."""
        await check_down(address_source_harness, _operations(address_source_harness))

    async def test_hanging_backend_is_unavailable_within_the_adapter_timeout(
        self, address_source_harness: AddressSourceHarness
    ) -> None:
        """Called directly, the adaptor gives up on a hanging backend within its own time limit."""
        await check_own_timeout(address_source_harness, _operations(address_source_harness))

    async def test_hanging_backend_is_unavailable_through_the_gateway(
        self, address_source_harness: AddressSourceHarness
    ) -> None:
        """Through the gateway's ``BackendCaller``, a hanging call ends within its time limit."""
        await check_gateway_timeout(address_source_harness, _operations(address_source_harness))

    async def test_malformed_answers_raise_typed_errors(
        self, address_source_harness: AddressSourceHarness
    ) -> None:
        """Called directly, a malformed answer raises ``BackendRejected`` or ``BackendUnavailable``."""
        await check_malformed(address_source_harness, _operations(address_source_harness))
