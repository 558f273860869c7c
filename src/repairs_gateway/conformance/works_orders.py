"""The behaviour every ``WorksOrderSink`` must show, and its optional capabilities
(``WorksOrderCanceller``, ``HazardSource``) where the sink has them.

Subclass ``WorksOrderConformance`` in a test module (its name starting with ``Test``) and
define a fixture ``works_order_harness`` answering a ``WorksOrderHarness``.
"""

from __future__ import annotations

import secrets
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
from repairs_gateway.conformance.harness import WorksOrderHarness
from repairs_gateway.ports import (
    AdapterError,
    Address,
    BackendRejected,
    Hazard,
    HazardSource,
    Job,
    WorksOrderCanceller,
    WorksOrderRequest,
)

# The gateway stores a works order reference in 64 characters (``MAX_WORKS_ORDER_REF``).
MAX_REFERENCE = 64
HAZARD_KINDS = ("alert", "asbestos")


def order_request(
    harness: WorksOrderHarness, job: Job | None = None, address: Address | None = None
) -> WorksOrderRequest:
    """A works order for a fresh repair reference."""
    return WorksOrderRequest(
        council_id=harness.council_id,
        reference=f"{harness.reference_prefix}-{secrets.token_hex(4).upper()}",
        address=address or harness.address,
        job=job or harness.job,
        description=harness.description,
        contact=harness.contact,
    )


def _canceller(harness: WorksOrderHarness) -> WorksOrderCanceller:
    if not isinstance(harness.sink, WorksOrderCanceller):
        pytest.skip("the sink has no cancel_order (WorksOrderCanceller): nothing to hold it to")
    return harness.sink


def _hazards(harness: WorksOrderHarness) -> HazardSource:
    if not isinstance(harness.sink, HazardSource):
        pytest.skip("the sink has no hazards_at (HazardSource): nothing to hold it to")
    return harness.sink


def _operations(harness: WorksOrderHarness) -> Operations:
    """Raising an order, and where the sink can, cancelling one raised while the backend
    was well and reading hazards."""

    async def prepare() -> list[Operation]:
        sink = harness.sink
        operations: list[Operation] = [("raise_order", lambda: sink.raise_order(order_request(harness)))]
        if isinstance(sink, WorksOrderCanceller):
            raised = await sink.raise_order(order_request(harness))
            operations.append(("cancel_order", lambda: sink.cancel_order(raised)))
        if isinstance(sink, HazardSource):
            operations.append(("hazards_at", lambda: sink.hazards_at(harness.address)))
        return operations

    return prepare


class WorksOrderConformance:
    """The conformance tests of a ``WorksOrderSink``; needs ``works_order_harness``."""

    pytestmark: ClassVar[list[pytest.MarkDecorator]] = [pytest.mark.conformance, pytest.mark.asyncio]

    async def test_an_order_is_raised_and_its_reference_is_usable(
        self, works_order_harness: WorksOrderHarness
    ) -> None:
        """``raise_order`` answers a reference of 1 to 64 characters that the backend holds
        as an open order."""
        reference = await works_order_harness.sink.raise_order(order_request(works_order_harness))
        assert isinstance(reference, str) and 0 < len(reference) <= MAX_REFERENCE, (
            f"raise_order answered {reference!r}: a works order reference is text of 1 to "
            f"{MAX_REFERENCE} characters"
        )
        assert reference == reference.strip(), f"reference {reference!r} has surrounding spaces"
        assert await works_order_harness.is_open(reference), (
            f"raise_order answered {reference!r}, but the backend holds no open order by it"
        )

    async def test_each_repair_gets_its_own_order(self, works_order_harness: WorksOrderHarness) -> None:
        """Two repairs at one property raise two orders."""
        sink = works_order_harness.sink
        first = await sink.raise_order(order_request(works_order_harness))
        second = await sink.raise_order(order_request(works_order_harness))
        assert first != second, f"two repairs were both answered works order {first!r}"

    async def test_a_refused_job_is_backend_rejected(self, works_order_harness: WorksOrderHarness) -> None:
        """A job the backend refuses (an unknown SoR code) raises ``BackendRejected``, never
        a bare exception or ``BackendUnavailable`` (retrying will not help)."""
        job = works_order_harness.refused_job
        if job is None:
            pytest.skip("the harness names no refused_job: the backend refuses no job")
        with pytest.raises(AdapterError) as raised:
            await works_order_harness.sink.raise_order(order_request(works_order_harness, job=job))
        assert isinstance(raised.value, BackendRejected), (
            f"a refused job raised {type(raised.value).__name__}: {raised.value}; it must be BackendRejected"
        )

    async def test_a_cancelled_order_is_closed_and_cancelling_twice_is_no_error(
        self, works_order_harness: WorksOrderHarness
    ) -> None:
        """``cancel_order`` closes the order in the backend; a second cancel is not an error."""
        canceller = _canceller(works_order_harness)
        reference = await works_order_harness.sink.raise_order(order_request(works_order_harness))
        await canceller.cancel_order(reference)
        still_open = await works_order_harness.is_open(reference)
        assert not still_open, f"order {reference} is open after cancel_order"
        try:
            await canceller.cancel_order(reference)
        except AdapterError as exc:
            pytest.fail(f"cancelling {reference} twice raised {type(exc).__name__}: {exc}", pytrace=False)

    async def test_hazards_are_well_formed(self, works_order_harness: WorksOrderHarness) -> None:
        """``hazards_at`` answers ``Hazard`` values (kind alert or asbestos, a description)
        at a property that has some, and a sequence of them (perhaps empty) elsewhere."""
        source = _hazards(works_order_harness)
        at = works_order_harness.hazard_address
        if at is None:
            pytest.fail("harness: a HazardSource must name a hazard_address that has hazards", pytrace=False)
        found = list(await source.hazards_at(at))
        assert found, f"hazards_at({at.uprn}) answered none at the harness's hazard_address"
        elsewhere = list(await source.hazards_at(works_order_harness.address))
        problems = [
            f"{h!r}"
            for h in [*found, *elsewhere]
            if not isinstance(h, Hazard)
            or h.kind not in HAZARD_KINDS
            or not (isinstance(h.description, str) and h.description.strip())
        ]
        assert not problems, "malformed hazards (kind alert or asbestos, a description):\n  " + "\n  ".join(
            problems
        )

    async def test_backend_down_is_unavailable(self, works_order_harness: WorksOrderHarness) -> None:
        """Called directly, every call raises ``BackendUnavailable`` while the backend is down."""
        await check_down(works_order_harness, _operations(works_order_harness))

    async def test_hanging_backend_is_unavailable_within_the_adapter_timeout(
        self, works_order_harness: WorksOrderHarness
    ) -> None:
        """Called directly, the adaptor gives up on a hanging backend within its own time limit."""
        await check_own_timeout(works_order_harness, _operations(works_order_harness))

    async def test_hanging_backend_is_unavailable_through_the_gateway(
        self, works_order_harness: WorksOrderHarness
    ) -> None:
        """Through the gateway's ``BackendCaller``, a hanging call ends within its time limit."""
        await check_gateway_timeout(works_order_harness, _operations(works_order_harness))

    async def test_malformed_answers_raise_typed_errors(self, works_order_harness: WorksOrderHarness) -> None:
        """Called directly, a malformed answer raises ``BackendRejected`` or ``BackendUnavailable``."""
        await check_malformed(works_order_harness, _operations(works_order_harness))
