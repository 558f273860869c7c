"""What an adaptor package hands the conformance kit: its adaptor, built against its
simulator, and the means to steer that simulator.

An adaptor package defines a fixture named ``address_source_harness``,
``scheduler_harness`` or ``works_order_harness`` answering one of these, and subclasses the
matching test class (``AddressSourceConformance``, ``SchedulerConformance``,
``WorksOrderConformance``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Literal

from repairs_gateway.ports import (
    Address,
    AddressSource,
    Contact,
    Job,
    Scheduler,
    Slot,
    WorksOrderSink,
)

FaultControl = Callable[[], AbstractAsyncContextManager[object]]
"""Opens a span of time during which every call to the backend fails one way, e.g. an
``asynccontextmanager`` that sets a flag on the simulator and clears it on exit."""

FaultRule = Literal["down", "hang", "timeout", "malformed"]
"""The rules a harness may declare not applicable, with a reason (``not_applicable``)."""


@dataclass(kw_only=True)
class Faults:
    """Ways to make the backend misbehave; shared by both harnesses.

    ``down``: named ways the backend can be unreachable or refuse service (connection
    refused, HTTP 503...); each must make every call raise ``BackendUnavailable``.
    ``hang``: the backend accepts the call and never answers.
    ``malformed``: named malformed answers (not JSON, JSON of another shape, a cut-short
    SOAP envelope...); each must make every call raise ``BackendRejected`` or
    ``BackendUnavailable``, never a bare exception.
    ``timeout``: the time limit, in seconds, the adaptor's settings give one backend call
    (its own client timeout), or None when it relies on the gateway's alone.
    ``not_applicable``: rules this adaptor cannot be held to, each with the reason; a rule
    whose control is missing and not declared here fails rather than being skipped.
    """

    down: Mapping[str, FaultControl] = field(default_factory=dict)
    hang: FaultControl | None = None
    malformed: Mapping[str, FaultControl] = field(default_factory=dict)
    timeout: float | None = None
    not_applicable: Mapping[FaultRule, str] = field(default_factory=dict)
    gateway_timeout: float = 0.5
    """The gateway's time limit used when the kit calls through ``BackendCaller``."""
    timeout_margin: float = 1.0
    """Seconds allowed beyond a time limit before the kit calls the adaptor too slow."""


@dataclass(kw_only=True)
class AddressSourceHarness(Faults):
    """An ``AddressSource`` built against its simulator.

    ``known_postcodes``: normalised postcodes (``NF1 1AA``), each with the UPRNs of every
    eligible property the simulator holds there; the adaptor must answer exactly those.
    Where the backend can hold a postcode spelt another way (lower case, no space, two
    spaces), include properties stored so: the kit asks in the normalised form only.
    ``unknown_postcode``, ``unknown_uprn`` and (for a ``PropertyLookup``)
    ``unknown_property_ref``: ones the simulator does not hold.
    """

    source: AddressSource
    known_postcodes: Mapping[str, Collection[str]]
    unknown_postcode: str = "ZZ9 9ZZ"
    unknown_uprn: str = "999999999999"
    unknown_property_ref: str = "ZZ9999999999"


@dataclass(kw_only=True)
class SchedulerHarness(Faults):
    """A ``Scheduler`` built against its simulator.

    ``address`` and ``job``: a property and a job for which the simulator has free
    windows on most of the next ``days`` days, at least two of them.
    ``fill``: takes every remaining place in a window in the backend; when not given, the
    kit books the window until it is no longer offered, at most ``max_fill_bookings``
    times.
    """

    scheduler: Scheduler
    address: Address
    job: Job
    timezone: str = "Europe/London"
    council_id: str = "conformance"
    reference_prefix: str = "CK"
    days: int = 7
    fill: Callable[[Slot], Awaitable[None]] | None = None
    max_fill_bookings: int = 10
    description: str = "Conformance kit booking: the kitchen tap drips."
    contact: Contact = field(
        default_factory=lambda: Contact("Conformance Kit", phone="01632 960000", email="kit@example.org")
    )


@dataclass(kw_only=True)
class WorksOrderHarness(Faults):
    """A ``WorksOrderSink`` built against its simulator.

    ``address`` and ``job``: a property and a job (its ``sor_code`` one the backend knows)
    the backend raises orders for. ``refused_job``: a job it refuses (an unknown SoR code),
    or None where nothing can be refused. ``is_open``: asks the simulator whether it holds
    an open (not cancelled) order with this reference. ``hazard_address``: a property
    with cautionary alerts or asbestos recorded, for a sink that is also a
    ``HazardSource`` (None otherwise); ``address`` should have none.
    """

    sink: WorksOrderSink
    address: Address
    job: Job
    is_open: Callable[[str], Awaitable[bool]]
    refused_job: Job | None = None
    hazard_address: Address | None = None
    council_id: str = "conformance"
    reference_prefix: str = "CK"
    description: str = "Conformance kit works order: the kitchen tap drips."
    contact: Contact = field(
        default_factory=lambda: Contact("Conformance Kit", phone="01632 960000", email="kit@example.org")
    )
