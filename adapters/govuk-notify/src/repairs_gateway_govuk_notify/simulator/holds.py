"""Holding a send at a chosen point, for crash tests (a test control, not part of Notify).

``POST /_simulator/hold {"phase": "after", "count": 1}`` arms a hold: the next send is
carried out (the message is kept, counted, and moves through its statuses) and then its
HTTP answer waits until ``POST /_simulator/release``. A test kills the sender's process
meanwhile: the message exists at Notify, and the sender never heard so. ``"before"`` holds
the send once its key is checked, before it is kept. Released with ``drop``, a call held before is
discarded unsent and one held after loses its answer (the connection is cut short); either
way the client gets no readable answer.

Everything runs on the server's one event loop.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

Phase = Literal["before", "after"]
PHASES: tuple[Phase, ...] = get_args(Phase)
HOLD_LIMIT_SECONDS = 300.0
"""A call held longer than this is dropped, so a test that never releases it cannot keep
the server from shutting down."""


@dataclass(slots=True)
class HeldSend:
    """A send waiting for ``release``."""

    id: int
    phase: Phase
    type: str
    """``sms`` or ``email``."""
    message_id: str | None
    """The message kept (``after`` only)."""
    reference: str | None
    since: float = field(default_factory=time.monotonic)
    released: asyncio.Event = field(default_factory=asyncio.Event)
    left: asyncio.Event = field(default_factory=asyncio.Event)
    drop: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "phase": self.phase,
            "type": self.type,
            "messageId": self.message_id,
            "reference": self.reference,
            "heldSeconds": round(time.monotonic() - self.since, 3),
        }


class Holds:
    """Armed holds (phase -> sends still to hold) and the sends held now."""

    def __init__(self) -> None:
        self._armed: dict[Phase, int] = {phase: 0 for phase in PHASES}
        self._held: dict[int, HeldSend] = {}
        self._next_id = 1

    def arm(self, phase: Phase, count: int = 1) -> None:
        """Hold the next ``count`` sends at ``phase``."""
        self._armed[phase] += count

    @property
    def armed(self) -> dict[str, int]:
        """Holds not yet taken by a send."""
        return {phase: n for phase, n in self._armed.items() if n > 0}

    @property
    def held(self) -> list[HeldSend]:
        """The sends held now, oldest first."""
        return list(self._held.values())

    async def pass_through(
        self, phase: Phase, kind: str, message_id: str | None = None, reference: str | None = None
    ) -> bool:
        """Hold this send if a hold is armed for ``phase``, until released; False when it is
        to be dropped (released with ``drop``, or held longer than the limit)."""
        if self._armed[phase] <= 0:
            return True
        self._armed[phase] -= 1
        call = HeldSend(self._next_id, phase, kind, message_id, reference)
        self._next_id += 1
        self._held[call.id] = call
        try:
            await asyncio.wait_for(call.released.wait(), HOLD_LIMIT_SECONDS)
        except TimeoutError:
            call.drop = True
        finally:
            self._held.pop(call.id, None)
            call.left.set()
        return not call.drop

    async def release(self, *, drop: bool) -> dict[str, int]:
        """Let every held send go on (or drop it) and disarm the holds not yet taken;
        returns once the released sends have left the hold."""
        released = self.held
        for call in released:
            call.drop = drop
            call.released.set()
        disarmed = sum(self._armed.values())
        self._armed = {phase: 0 for phase in PHASES}
        if released:
            await asyncio.wait_for(asyncio.gather(*(c.left.wait() for c in released)), 5.0)
        return {"released": len(released), "disarmed": disarmed}

    def as_json(self) -> dict[str, Any]:
        return {"held": [c.as_json() for c in self.held], "armed": self.armed}
