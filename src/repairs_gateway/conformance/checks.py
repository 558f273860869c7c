"""Running adaptor calls under a fault, with a deadline, and saying what happened."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import pytest

from repairs_gateway.conformance.harness import FaultControl, FaultRule, Faults
from repairs_gateway.metrics import Metrics
from repairs_gateway.ports import AdapterError, BackendRejected, BackendUnavailable
from repairs_gateway.resilience import BackendCaller

Operation = tuple[str, Callable[[], Awaitable[object]]]
"""A named call of the adaptor, e.g. ``("slots", lambda: scheduler.slots(query))``."""

Operations = Callable[[], Awaitable[Sequence[Operation]]]
"""Prepares the calls to make (e.g. a booking to cancel) while the backend is well."""

UNAVAILABLE: tuple[type[AdapterError], ...] = (BackendUnavailable,)
TYPED_FAILURE: tuple[type[AdapterError], ...] = (BackendRejected, BackendUnavailable)
"""A malformed answer says nothing about the window or booking, so neither
``SlotUnavailable`` nor ``NotFound`` is a right answer to one."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one call did: how long it took, what it raised, whether the kit gave up."""

    seconds: float
    error: BaseException | None
    gave_up: bool

    def describe(self, limit: float) -> str:
        """For failure messages."""
        if self.gave_up:
            return f"did not answer within {limit:g} s"
        if self.error is None:
            return f"answered normally after {self.seconds:.2f} s"
        return f"raised {type(self.error).__name__}: {self.error} after {self.seconds:.2f} s"


async def attempt(run: Callable[[], Awaitable[object]], limit: float) -> Outcome:
    """Run one call, giving up after ``limit`` seconds."""
    started = time.perf_counter()
    deadline = asyncio.timeout(limit)
    try:
        async with deadline:
            await run()
    except TimeoutError as exc:
        # A TimeoutError the adaptor let out is its own bug; ours is the deadline expiring.
        if deadline.expired():
            return Outcome(time.perf_counter() - started, None, gave_up=True)
        return Outcome(time.perf_counter() - started, exc, gave_up=False)
    except Exception as exc:
        return Outcome(time.perf_counter() - started, exc, gave_up=False)
    return Outcome(time.perf_counter() - started, None, gave_up=deadline.expired())


def require(faults: Faults, rule: FaultRule, given: bool, what: str) -> None:
    """Skip when the harness declared ``rule`` not applicable; fail when it neither gives
    the means to check it nor says why it cannot."""
    if given:
        return
    reason = faults.not_applicable.get(rule)
    if reason:
        pytest.skip(f"declared not applicable to this adaptor: {reason}")
    pytest.fail(
        f"the harness gives no {what}: give one, or declare not_applicable[{rule!r}] with the reason",
        pytrace=False,
    )


async def failures_under(
    control: FaultControl,
    operations: Sequence[Operation],
    expected: tuple[type[AdapterError], ...],
    limit: float,
) -> list[str]:
    """Run each operation while ``control`` is on; answer a line for each that did not
    raise one of ``expected`` within ``limit`` seconds."""
    problems: list[str] = []
    async with control():
        for name, run in operations:
            outcome = await attempt(run, limit)
            if outcome.gave_up or not isinstance(outcome.error, expected):
                problems.append(f"{name} {outcome.describe(limit)}")
    return problems


def expected_names(expected: tuple[type[AdapterError], ...]) -> str:
    """``BackendRejected or BackendUnavailable``."""
    return " or ".join(kind.__name__ for kind in expected)


async def check_down(faults: Faults, prepare: Operations) -> None:
    """Every operation raises ``BackendUnavailable`` promptly while the backend is down."""
    require(faults, "down", bool(faults.down), "way to take the backend down (down=...)")
    operations = await prepare()
    limit = (faults.timeout or faults.gateway_timeout) + faults.timeout_margin
    report: list[str] = []
    for fault, control in faults.down.items():
        report.extend(
            f"{fault}: {line}" for line in await failures_under(control, operations, UNAVAILABLE, limit)
        )
    assert not report, "while the backend was down, calls must raise BackendUnavailable:\n  " + "\n  ".join(
        report
    )


async def check_own_timeout(faults: Faults, prepare: Operations) -> None:
    """Called directly, the adaptor gives up on a hanging backend by itself, within the
    time limit its settings give, with ``BackendUnavailable``."""
    require(faults, "hang", faults.hang is not None, "way to make the backend hang (hang=...)")
    require(faults, "timeout", faults.timeout is not None, "adaptor time limit (timeout=...)")
    assert faults.hang is not None and faults.timeout is not None
    operations = await prepare()
    limit = faults.timeout + faults.timeout_margin
    report = await failures_under(faults.hang, operations, UNAVAILABLE, limit)
    assert not report, (
        f"with the backend hanging, calls must raise BackendUnavailable within the adaptor's "
        f"{faults.timeout:g} s time limit (+{faults.timeout_margin:g} s):\n  " + "\n  ".join(report)
    )


async def check_gateway_timeout(faults: Faults, prepare: Operations) -> None:
    """Through the gateway's ``BackendCaller``, a hanging call ends as ``BackendUnavailable``
    within the gateway's time limit: the adaptor lets itself be cancelled."""
    require(faults, "hang", faults.hang is not None, "way to make the backend hang (hang=...)")
    assert faults.hang is not None
    operations = await prepare()
    caller = BackendCaller(Metrics(), timeout=faults.gateway_timeout, retries=0)
    limit = faults.gateway_timeout + faults.timeout_margin

    def guarded(name: str, run: Callable[[], Awaitable[object]]) -> Operation:
        return name, lambda: caller.call("conformance", name, run, idempotent=False)

    report = await failures_under(faults.hang, [guarded(n, r) for n, r in operations], UNAVAILABLE, limit)
    assert not report, (
        f"through the gateway (time limit {faults.gateway_timeout:g} s), calls to a hanging backend "
        "must end as BackendUnavailable:\n  " + "\n  ".join(report)
    )


async def check_malformed(faults: Faults, prepare: Operations) -> None:
    """Called directly, the adaptor answers each malformed answer with a typed error."""
    require(faults, "malformed", bool(faults.malformed), "malformed answers (malformed=...)")
    operations = await prepare()
    limit = (faults.timeout or faults.gateway_timeout) + faults.timeout_margin
    report: list[str] = []
    for fault, control in faults.malformed.items():
        problems = await failures_under(control, operations, TYPED_FAILURE, limit)
        report.extend(f"{fault}: {line}" for line in problems)
    assert not report, (
        f"a malformed answer must raise {expected_names(TYPED_FAILURE)}, never a bare exception "
        "nor a normal answer:\n  " + "\n  ".join(report)
    )
