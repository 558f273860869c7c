"""The recovery benchmark's core (``bench/recovery.py``), run small on SQLite in one event
loop: DRS down while repairs are made, then back, and the worker books each exactly once.
Behaviour only: how long it takes is the benchmark's business, never a test's."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

# Real processes (servers, workers, simulators, some killed on purpose): under pytest-xdist
# these tests run one after another on one worker, never two such crowds of processes at once.
pytestmark = pytest.mark.xdist_group("processes")

BENCH = Path(__file__).resolve().parents[1] / "bench" / "recovery.py"


def _bench() -> ModuleType:
    name = "bench_recovery"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


async def test_every_repair_made_while_drs_was_down_is_booked_once_when_it_is_back(
    tmp_path: Path,
) -> None:
    bench = _bench()
    repairs = 6
    setup = bench.Setup(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'bench.db'}",
        repairs=repairs,
        latency_ms=20.0,
        concurrency=4,
        workers=1,
        outage_seconds=1.0,
        retry_base_seconds=0.2,
        retry_cap_seconds=0.5,
        port=bench.free_port(),
        processes=False,
        settle_limit_seconds=120.0,
    )

    result = await bench.run_once(setup, tmp_path)

    assert result.problems == []  # DRS holds one order per booked repair, in its window, and no other
    assert result.statuses == {"booked": repairs}
    assert {k: n for k, n in result.jobs.items() if k.startswith("book/")} == {"book/done": repairs}
    assert result.drs_calls["createOrder"] == repairs
    assert result.drs_calls["scheduleBooking"] == repairs
    assert result.drs_calls.get("deleteOrder", 0) == 0
