"""The Kirona DRS contract target: the demo councils with their diaries in the DRS simulator,
so the gateway's contract suite runs every check through this adaptor and a SOAP wire."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from repairs_gateway.contract import ContractTarget, TargetEnvironment, serve_asgi
from repairs_gateway.demo.contract_target import builtin_environment

from .simulator import DrsSimulator, SimulatorConfig

PASSWORD_VARIABLE = "REPAIRS_GATEWAY_CONTRACT_DRS_PASSWORD"
# DRS books by SoR code: a repair named only by trade and duration is booked under the
# council's general code for that trade (codes from the simulator's catalogue).
TRADE_SOR = {
    "plumbing": "20060040",
    "carpentry": "N210010",
    "electrical": "20300050",
    "heating": "N373050",
}


def _trades_of(node: Any) -> set[str]:
    """Every ``trade`` a council document's jobs (triage leaves, SoR codes) name."""
    if isinstance(node, dict):
        found = {node["trade"]} if isinstance(node.get("trade"), str) else set()
        return found.union(*(_trades_of(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_trades_of(item) for item in node))
    return set()


def drs_councils(builtin: dict[str, Any], endpoint: str) -> dict[str, Any]:
    """The demo councils, each with one scheduler: DRS at ``endpoint`` for every trade."""
    document = copy.deepcopy(builtin)
    for council in document["councils"]:
        # trade_sor is keyed by trade: check-config refuses a trade the council does not have.
        trades = _trades_of([council.get("triage"), council.get("sor_codes")])
        council["schedulers"] = [
            {
                "name": "drs",
                "adapter": "kirona-drs",
                "trades": ["*"],
                "settings": {
                    "endpoint": endpoint,
                    "login": SimulatorConfig().login,
                    "password": {"from_env": PASSWORD_VARIABLE},
                    "contract": "REPAIRS",
                    "trade_sor": {t: code for t, code in TRADE_SOR.items() if t in trades},
                },
            }
        ]
    return document


@contextmanager
def start() -> Iterator[TargetEnvironment]:
    """Serve a fresh DRS simulator on 127.0.0.1 and wire the demo councils to it."""
    simulator = DrsSimulator(SimulatorConfig(seed=1))
    with serve_asgi(simulator.app, name="kirona-drs simulator") as url:
        demo = builtin_environment()
        yield TargetEnvironment(
            councils=drs_councils(dict(demo.councils), simulator.endpoint(url)),
            postcodes=demo.postcodes,
            addresses=demo.addresses,
            environ={PASSWORD_VARIABLE: simulator.config.password},
            council=demo.council,
            other_council=demo.other_council,
        )


TARGET = ContractTarget(
    "kirona-drs", start, "The demo councils with their diaries in the Kirona DRS simulator (SOAP)."
)
