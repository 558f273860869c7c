"""The Repairs API contract suite, shipped with the package so that anyone can hold an
implementation to the spec: ``repairs-gateway contract-test --base-url URL --api-key KEY
--council ID``.

The live runner (``runner.run_contract``) needs only this package and its ``testing`` extra.
The package imports nothing of the gateway's application, demo or database: the in-process
matrix finds what serves the gateway on a target through an entry point
(``targets.discover_gateway``), and the built-in target lives with the demo
(``repairs_gateway.demo.contract_target``). This module imports neither schemathesis nor
Hypothesis.
"""

from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.contract.report import Report
from repairs_gateway.contract.targets import (
    ContractTarget,
    GatewayServer,
    TargetEnvironment,
    discover_gateway,
    discover_targets,
    serve_asgi,
    static_target,
)

__all__ = [
    "ContractTarget",
    "Endpoint",
    "GatewayServer",
    "Report",
    "TargetEnvironment",
    "discover_gateway",
    "discover_targets",
    "serve_asgi",
    "static_target",
]
