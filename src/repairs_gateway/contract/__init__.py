"""The Repairs API contract suite, shipped with the package so that anyone can hold an
implementation to the spec: ``repairs-gateway contract-test --base-url URL --api-key KEY
--council ID``.

The live runner (``runner.run_contract``) needs only this package and its ``testing`` extra;
it imports neither the gateway's application nor its database (``inprocess`` does, for the
in-process matrix). This module imports neither schemathesis nor Hypothesis.
"""

from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.contract.report import Report
from repairs_gateway.contract.targets import (
    ContractTarget,
    TargetEnvironment,
    discover_targets,
    serve_asgi,
    static_target,
)

__all__ = [
    "ContractTarget",
    "Endpoint",
    "Report",
    "TargetEnvironment",
    "discover_targets",
    "serve_asgi",
    "static_target",
]
