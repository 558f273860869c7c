"""A gateway for the runner's tests, served once for the module that asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.contract.targets import discover_targets
from repairs_gateway.demo.contract_gateway import serve_gateway


@pytest.fixture(scope="module")
def gateway() -> Iterator[Endpoint]:
    """The gateway on the built-in backends."""
    with serve_gateway(discover_targets()["builtin"]) as endpoint:
        yield endpoint
