"""The Civica UH + Kirona DRS contract target: the demo's Larchford council, its properties,
works orders and hazards in the UH simulator and its appointments in the DRS simulator, so
the gateway's contract suite runs every check through both adaptors over SOAP. Northfield
(built-in backends) stands beside it as the council a key for Larchford must not reach."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from repairs_gateway.contract import ContractTarget, TargetEnvironment, serve_asgi
from repairs_gateway.contract.targets import TargetError
from repairs_gateway.demo.contract_target import builtin_environment
from repairs_gateway.demo.data import council_from_template

from .simulator import UhSimulator

COUNCIL = "larchford"
OTHER = "northfield"
UH_PASSWORD = "REPAIRS_GATEWAY_DEMO_UH_PASSWORD"
DRS_PASSWORD = "REPAIRS_GATEWAY_DEMO_DRS_PASSWORD"
# Postcodes of the simulator's seeded properties that are offered online.
POSTCODES = ("UH1 1AA", "UH1 1AB", "UH1 2BH", "UH2 3CD")


@contextmanager
def start() -> Iterator[TargetEnvironment]:
    """Serve fresh UH and DRS simulators on 127.0.0.1 and wire Larchford to them."""
    try:
        from repairs_gateway_kirona_drs.simulator import DrsSimulator
        from repairs_gateway_kirona_drs.simulator import SimulatorConfig as DrsConfig
    except ImportError as missing:
        raise TargetError(
            "the civica-uh-drs target needs the kirona-drs adaptor: "
            "pip install repairs-gateway-kirona-drs"
        ) from missing
    uh = UhSimulator()
    drs = DrsSimulator(DrsConfig(seed=1))
    with (
        serve_asgi(uh.app, name="civica-uh simulator") as uh_url,
        serve_asgi(drs.app, name="kirona-drs simulator") as drs_url,
    ):
        demo = builtin_environment()
        drs_endpoint = drs.endpoint(drs_url)
        council = council_from_template("larchford-council.yaml", uh=uh_url, drs=drs_endpoint)
        others = [c for c in demo.councils["councils"] if c["id"] == OTHER]
        yield TargetEnvironment(
            councils={"councils": [council, *others]},
            postcodes={COUNCIL: list(POSTCODES), OTHER: list(demo.postcodes[OTHER])},
            addresses={OTHER: demo.addresses[OTHER]},
            environ={UH_PASSWORD: uh.config.password, DRS_PASSWORD: drs.config.password},
            council=COUNCIL,
            other_council=OTHER,
        )


TARGET = ContractTarget(
    "civica-uh-drs",
    start,
    "Larchford: properties, works orders and hazards in the Civica UH simulator, appointments "
    "in the Kirona DRS simulator (SOAP both).",
)
