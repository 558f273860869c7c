"""A simulator's own settings: ``SimulatorOptions.settings``, read by each simulator factory
with ``read_simulator_settings`` and given on ``repairs-gateway simulate NAME --set KEY=VALUE``.
An unknown key or a bad value is refused, naming the key and the keys accepted."""

from __future__ import annotations

from typing import Any

import pytest
from click.testing import CliRunner

from repairs_gateway.cli import main
from repairs_gateway.ports import (
    SimulatorOptions,
    SimulatorSettingError,
    positive_int,
    read_simulator_settings,
)
from repairs_gateway.registry import discover_plugins


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The apps `simulate` would have served: uvicorn is not started, so a test that
    wrongly gets as far as serving fails instead of hanging."""
    import uvicorn

    apps: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **_options: apps.append(app))
    return apps


def test_options_keep_a_read_only_copy_of_the_settings_and_stay_hashable() -> None:
    given = {"requests_per_second": "500"}
    options = SimulatorOptions(settings=given)
    given["requests_per_second"] = "1"
    assert options.settings == {"requests_per_second": "500"}
    with pytest.raises(TypeError):
        options.settings["other"] = "x"  # type: ignore[index]
    assert options == SimulatorOptions(settings={"requests_per_second": "500"})
    assert options != SimulatorOptions()
    assert hash(options) == hash(SimulatorOptions(settings={"requests_per_second": "500"}))
    assert SimulatorOptions().settings == {}


def test_read_simulator_settings_reads_declared_keys_and_refuses_others() -> None:
    accepted = {"requests_per_second": positive_int, "token_lifetime_seconds": positive_int}
    options = SimulatorOptions(settings={"requests_per_second": "500"})
    assert read_simulator_settings(options, accepted) == {"requests_per_second": 500}
    assert read_simulator_settings(SimulatorOptions(), {}) == {}

    with pytest.raises(SimulatorSettingError) as unknown:
        read_simulator_settings(SimulatorOptions(settings={"rate": "5"}), accepted)
    assert unknown.value.key == "rate"
    assert str(unknown.value) == (
        "rate: no such setting (it accepts: requests_per_second, token_lifetime_seconds)"
    )
    with pytest.raises(SimulatorSettingError, match=r"^rate: no such setting \(it takes no settings\)$"):
        read_simulator_settings(SimulatorOptions(settings={"rate": "5"}), {})
    for bad, problem in (("fast", "'fast' is not a whole number"), ("0", "'0' is less than 1")):
        with pytest.raises(SimulatorSettingError) as refused:
            read_simulator_settings(SimulatorOptions(settings={"requests_per_second": bad}), accepted)
        assert str(refused.value).startswith(f"requests_per_second: {problem} (it accepts: ")


@pytest.mark.parametrize("given", ["requests_per_second", "=5"])
def test_a_set_that_is_not_key_equals_value_is_a_usage_error(given: str, served: list[Any]) -> None:
    result = CliRunner().invoke(main, ["simulate", "any", "--set", given])
    assert result.exit_code == 2
    assert f"Invalid value for '--set': {given!r} is not KEY=VALUE" in result.output
    assert served == []


def test_a_key_set_twice_is_a_usage_error(served: list[Any]) -> None:
    result = CliRunner().invoke(main, ["simulate", "any", "--set", "a=1", "--set", "a=2"])
    assert result.exit_code == 2
    assert "Invalid value for '--set': a is given twice" in result.output
    assert served == []


SIMULATORS = sorted(name for name, plugin in discover_plugins().items() if plugin.simulator)


@pytest.mark.skipif(not SIMULATORS, reason="no adaptor with a simulator is installed")
@pytest.mark.parametrize("name", SIMULATORS)
def test_every_installed_simulator_refuses_a_key_it_does_not_take(name: str, served: list[Any]) -> None:
    result = CliRunner().invoke(main, ["simulate", name, "--set", "no_such_setting=1"])
    assert result.exit_code == 2, result.output
    assert f"Invalid value for '--set': the {name} simulator: no_such_setting: no such setting (it " in (
        result.output
    )
    assert served == []


def test_the_help_says_how_to_set_a_simulator_setting() -> None:
    result = CliRunner().invoke(main, ["simulate", "--help"])
    assert result.exit_code == 0
    flat = " ".join(result.output.split())
    assert "--set KEY=VALUE" in flat
    assert "requests_per_second" in flat and "token_lifetime_seconds" in flat
