"""A postcode lookup through Civica UH: bounded-parallel property calls with a facts cache,
against the one-at-a-time lookup earlier integrations did.

Runs the UHWeb simulator at 300 ms per SOAP call behind real HTTP on 127.0.0.1 and looks
up UH1 2BH (Birch House: 17 properties, each needing its own GetPropertyByRef for
eligibility and UPRN):

* baseline: GetPropertyListByPostCode, then GetPropertyByRef per property, one after
  another, every time (cold and warm cost the same);
* the adapter: the list, then GetPropertyByRef ``max_parallel`` at a time; a second lookup
  within ``facts_ttl_seconds`` costs the list call alone.

    python bench/uh_addresses.py [--latency-ms 300] [--max-parallel 8] [--in-process]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import socket
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "src", _ROOT / "adapters" / "civica-uh" / "src"):
    if str(_path) not in sys.path:  # run from a checkout without installing
        sys.path.append(str(_path))

import httpx  # noqa: E402
import uvicorn  # noqa: E402
from repairs_gateway_civica_uh import UhHousing, UhHousingSettings  # noqa: E402
from repairs_gateway_civica_uh.client import UhClient  # noqa: E402
from repairs_gateway_civica_uh.simulator import SimulatorConfig, UhSimulator  # noqa: E402

POSTCODE = "UH1 2BH"


def _settings(base_url: str, max_parallel: int) -> UhHousingSettings:
    config = SimulatorConfig()
    return UhHousingSettings.model_validate(
        {
            "base_url": base_url,
            "username": config.username,
            "password": config.password,
            "default_supplier": "LBC-DLO",
            "max_parallel": max_parallel,
            "timeout_seconds": 60,
        }
    )


@contextlib.asynccontextmanager
async def _serve(sim: UhSimulator, in_process: bool) -> AsyncIterator[tuple[httpx.AsyncClient, str]]:
    if in_process:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=sim.app)) as http:
            yield http, "http://uh.bench" + sim.config.path
        return
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(sim.app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, not an event
        await asyncio.sleep(0.01)
    try:
        async with httpx.AsyncClient(timeout=60) as http:
            yield http, f"http://127.0.0.1:{port}{sim.config.path}"
    finally:
        server.should_exit = True
        await task


async def _one_at_a_time(client: UhClient) -> int:
    """The baseline: the list, then each property's details in turn."""
    listed = await client.call("GetPropertyListByPostCode", PostCode=POSTCODE)
    holder: Any = listed.body.get("PropertyList") or {}
    refs = [s["PropertyReference"] for s in holder.get("PropertySummary") or []]
    for ref in refs:
        await client.call("GetPropertyByRef", PropertyReference=ref)
    return len(refs)


async def run(latency_ms: float, max_parallel: int, in_process: bool) -> dict[str, float]:
    """Seconds per lookup: baseline, adapter cold, adapter warm."""
    sim = UhSimulator(replace(SimulatorConfig(), latency_ms=latency_ms))
    figures: dict[str, float] = {}
    async with _serve(sim, in_process) as (http, base_url):
        settings = _settings(base_url, max_parallel)
        baseline = UhClient(settings, "PropertyService", http)
        started = time.perf_counter()
        count = await _one_at_a_time(baseline)
        figures["baseline"] = time.perf_counter() - started
        baseline.close()
        adapter = UhHousing(settings, http_client=http)
        for run_name in ("cold", "warm"):
            started = time.perf_counter()
            found = await adapter.addresses_at(POSTCODE)
            figures[run_name] = time.perf_counter() - started
        await adapter.aclose()
    figures["properties"] = count
    figures["offered"] = len(found)
    figures["max_in_flight"] = sim.state.max_in_flight
    return figures


def main() -> None:
    """Run the comparison once and print it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--latency-ms", type=float, default=300.0)
    parser.add_argument("--max-parallel", type=int, default=8)
    parser.add_argument("--in-process", action="store_true", help="no HTTP server, ASGI in-process")
    args = parser.parse_args()
    f = asyncio.run(run(args.latency_ms, args.max_parallel, args.in_process))
    print(
        f"UH postcode lookup, {POSTCODE}: {f['properties']:.0f} properties "
        f"({f['offered']:.0f} offered), {args.latency_ms:g} ms per SOAP call"
    )
    print(f"  one at a time (baseline):           {f['baseline']:6.2f} s")
    print(
        f"  adapter cold (max_parallel={args.max_parallel}):      {f['cold']:6.2f} s"
        f"   {f['baseline'] / f['cold']:5.1f}x faster"
    )
    print(
        f"  adapter warm (facts cached):         {f['warm']:6.2f} s"
        f"   {f['baseline'] / f['warm']:5.1f}x faster"
    )
    print(f"  most calls UH held at once:          {f['max_in_flight']:.0f}")


if __name__ == "__main__":
    main()
