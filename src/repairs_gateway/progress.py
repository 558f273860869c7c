"""A one-line progress report for long commands, shown only to a person at a terminal."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TextIO


def _clock_text(seconds: float) -> str:
    whole = max(0, round(seconds))
    hours, rest = divmod(whole, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}"


class Progress:
    """Rows done, rows a second and, when the input's size is known, the share done and an
    estimate of the time left, rewritten in place on one line of ``stream``.

    Silent unless ``stream`` is a terminal: a cron job's log or a pipe gets no carriage
    returns, only the command's own summary. At most one line every ``interval`` seconds,
    so a fast import spends nothing worth measuring on it.
    """

    def __init__(
        self,
        stream: TextIO,
        *,
        total: int | None = None,
        done: Callable[[], int] | None = None,
        interval: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """``total`` is the input's size and ``done`` says how much of it was read (bytes of
        a file, say); without them only the rows and their rate are shown."""
        self._stream = stream
        isatty = getattr(stream, "isatty", None)
        self.enabled = bool(isatty and isatty())
        self._total = total if total else None
        self._done = done
        self._interval = interval
        self._clock = clock
        self._started = clock()
        self._last_shown: float | None = None

    def line(self, rows: int, now: float) -> str:
        """The text shown after ``rows`` rows at time ``now``."""
        elapsed = now - self._started
        rate = rows / elapsed if elapsed > 0 else 0.0
        text = f"{rows:,} rows  {rate:,.0f} rows/s"
        if self._total is not None and self._done is not None:
            share = min(1.0, self._done() / self._total)
            text += f"  {share:.0%}"
            if 0 < share < 1 and elapsed > 0:
                text += f"  eta {_clock_text(elapsed * (1 - share) / share)}"
        return text

    def update(self, rows: int) -> None:
        """Report ``rows`` done, if the last report is old enough."""
        if not self.enabled:
            return
        now = self._clock()
        if self._last_shown is not None and now - self._last_shown < self._interval:
            return
        self._last_shown = now
        # Padding clears what is left of a longer previous line.
        self._stream.write("\r" + self.line(rows, now).ljust(60))
        self._stream.flush()

    def finish(self, rows: int, what: str = "") -> None:
        """The last report, ended with a newline so what follows starts on its own line."""
        if not self.enabled:
            return
        now = self._clock()
        suffix = f"  {what}" if what else ""
        self._stream.write("\r" + (self.line(rows, now) + suffix).ljust(60) + "\n")
        self._stream.flush()
