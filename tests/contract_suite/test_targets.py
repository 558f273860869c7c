"""The backend matrix: targets registered through entry points."""

from __future__ import annotations

from repairs_gateway.config.loader import parse_config
from repairs_gateway.contract.targets import ContractTarget, discover_targets


def test_the_builtin_backends_are_registered() -> None:
    targets = discover_targets()
    assert isinstance(targets.get("builtin"), ContractTarget)


def test_the_builtin_target_wires_two_councils_with_properties() -> None:
    with discover_targets()["builtin"].start() as environment:
        config = parse_config(environment.councils, environ={})
        assert environment.primary in config.councils and environment.secondary in config.councils
        assert environment.primary != environment.secondary
        assert environment.postcodes[environment.primary], "the suite needs postcodes with properties"
        assert set(environment.addresses) == set(config.councils)
