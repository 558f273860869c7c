"""The Northgate + Totalmobile contract target: the demo's Netherholme council, its properties
and works orders in the Northgate simulator and its appointments in the Totalmobile
simulator, so the gateway's contract suite runs every check through both adaptors over HTTP.
Northfield (built-in backends) stands beside it as the council a key for Netherholme must
not reach."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace

from repairs_gateway.contract import ContractTarget, TargetEnvironment, serve_asgi
from repairs_gateway.contract.targets import TargetError
from repairs_gateway.demo.contract_target import builtin_environment
from repairs_gateway.demo.data import council_from_template

from .simulator import ELIGIBLE_BY_POSTCODE, NorthgateSimulator, SimulatorConfig

COUNCIL = "netherholme"
OTHER = "northfield"
SECRETS = ("REPAIRS_GATEWAY_DEMO_NORTHGATE_SECRET", "REPAIRS_GATEWAY_DEMO_TOTALMOBILE_SECRET")
# The suite sends hundreds of requests a second: far above the simulated rate limit, which
# the adaptor's own tests hold it to.
SUITE_RATE = 100_000


@contextmanager
def start() -> Iterator[TargetEnvironment]:
    """Serve fresh Northgate and Totalmobile simulators on 127.0.0.1 and wire Netherholme to them."""
    try:
        from repairs_gateway_totalmobile.simulator import SimulatorConfig as TotalmobileConfig
        from repairs_gateway_totalmobile.simulator import TotalmobileSimulator
    except ImportError as missing:
        raise TargetError(
            "the northgate-totalmobile target needs the totalmobile adaptor: pip install repairs-gateway-totalmobile"
        ) from missing
    northgate = NorthgateSimulator(replace(SimulatorConfig(), requests_per_second=SUITE_RATE, seed=1))
    totalmobile = TotalmobileSimulator(TotalmobileConfig(seed=1))
    with (
        serve_asgi(northgate.app, name="northgate-housing simulator") as northgate_url,
        serve_asgi(totalmobile.app, name="totalmobile simulator") as totalmobile_url,
    ):
        demo = builtin_environment()
        council = council_from_template(
            "netherholme-council.yaml", northgate=northgate_url, totalmobile=totalmobile_url
        )
        others = [c for c in demo.councils["councils"] if c["id"] == OTHER]
        yield TargetEnvironment(
            councils={"councils": [council, *others]},
            postcodes={COUNCIL: list(ELIGIBLE_BY_POSTCODE), OTHER: list(demo.postcodes[OTHER])},
            addresses={OTHER: demo.addresses[OTHER]},
            environ={
                SECRETS[0]: northgate.config.client_secret,
                SECRETS[1]: totalmobile.config.client_secret,
            },
            council=COUNCIL,
            other_council=OTHER,
        )


TARGET = ContractTarget(
    "northgate-totalmobile",
    start,
    "Netherholme: properties and works orders in the Northgate simulator, appointments in the "
    "Totalmobile simulator (both APIs assumed).",
)
