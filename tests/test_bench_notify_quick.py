"""The Notify throughput benchmark (``bench/notify_throughput.py``), run small on SQLite: a
worker process sends every queued message to the simulator (a process) under a rate limit
it must exceed, each exactly once, and the simulator never accepts more than its limit.
Behaviour only: how fast is the benchmark's business, never a test's."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_notify_crash import _bench

pytest.importorskip("repairs_gateway_govuk_notify.simulator")


def test_the_worker_sends_every_queued_message_once_under_the_rate_limit(tmp_path: Path) -> None:
    bench = _bench()
    result = bench.run(bench.Setup(messages=120, rate="40/2", workers=1, folder=tmp_path))
    assert (result.duplicates, result.losses) == (0, 0), result.report()
    assert result.sent == result.at_simulator == 120
    assert result.busiest_window <= 40, result.report()
    assert set(result.states) <= {"sent", "delivered"}
