"""The Notify throughput benchmark (``bench/notify_throughput.py``), run small on SQLite: a
worker process sends every queued message to the simulator (a process) under a rate limit
it must exceed, each exactly once, and the simulator never accepts more than its limit.
Behaviour only: how fast is the benchmark's business, never a test's."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_notify_crash import _bench

pytest.importorskip("repairs_gateway_govuk_notify.simulator")

# Real processes (servers, workers, simulators, some killed on purpose): under pytest-xdist
# these tests run one after another on one worker, never two such crowds of processes at once.
pytestmark = pytest.mark.xdist_group("processes")


def test_the_worker_sends_every_queued_message_once_under_the_rate_limit(tmp_path: Path) -> None:
    bench = _bench()
    result = bench.run(bench.Setup(messages=100, rate="20/2", workers=1, folder=tmp_path, limit_seconds=120))
    assert (result.duplicates, result.losses) == (0, 0), result.report()
    assert result.sent == result.at_simulator == 100
    assert result.busiest_window <= 20, result.report()
    assert result.rate_limited > 0, "the limit was met: the worker sends faster than it allows"
    assert set(result.states) <= {"sent", "delivered"}
