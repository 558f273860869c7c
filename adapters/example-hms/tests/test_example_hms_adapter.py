"""What this adaptor does beyond the kit's rules: who is eligible, credentials, and how a
council configures it."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr
from repairs_gateway.config.loader import ConfigError, load_config
from repairs_gateway.ports import BackendRejected, SimulatorOptions
from repairs_gateway.registry import discover_plugins

from repairs_gateway_example_hms import ExampleHmsAddresses, ExampleHmsSettings
from repairs_gateway_example_hms.plugin import PLUGIN
from repairs_gateway_example_hms.simulator import HmsSimulator

COUNCIL_FILE = Path(__file__).parents[1] / "examples" / "councils.yaml"


async def test_leasehold_homes_are_not_eligible_but_communal_areas_are(adapter: ExampleHmsAddresses) -> None:
    """At NF1 1AA the leasehold house is left out; at NF1 1AB the block is a communal area."""
    assert [a.uprn for a in await adapter.addresses_at("NF1 1AA")] == ["100021000001", "100021000003"]
    assert await adapter.address("100021000002") is None
    kinds = {a.uprn: a.kind for a in await adapter.addresses_at("NF1 1AB")}
    assert kinds == {"100021000011": "dwelling", "100021000012": "dwelling", "100021000010": "communal"}


async def test_a_wrong_api_key_is_rejected_not_unavailable(simulator: HmsSimulator) -> None:
    """Retrying with the same key will not help, so it is BackendRejected."""
    settings = ExampleHmsSettings.model_validate(
        {"base_url": "http://hms.test", "api_key": SecretStr("wrong")}
    )
    adapter = ExampleHmsAddresses(settings, transport=httpx.ASGITransport(app=simulator.app))
    with pytest.raises(BackendRejected, match="API key"):
        await adapter.addresses_at("NF1 1AA")
    await adapter.aclose()


def test_the_example_council_file_takes_the_key_from_the_environment() -> None:
    """The shipped council file is valid once EXAMPLE_HMS_API_KEY is set, and the key stays secret."""
    config = load_config(COUNCIL_FILE, environ={"EXAMPLE_HMS_API_KEY": "s3cret"})
    settings = config.councils["northfield"].addresses.settings
    assert isinstance(settings, ExampleHmsSettings)
    assert settings.api_key.get_secret_value() == "s3cret"
    assert "s3cret" not in repr(settings)
    with pytest.raises(ConfigError, match="EXAMPLE_HMS_API_KEY is not set"):
        load_config(COUNCIL_FILE, environ={})


def test_a_key_written_in_the_council_file_is_refused(tmp_path: Path) -> None:
    """The gateway will not start with the secret written out."""
    written = tmp_path / "councils.yaml"
    written.write_text(
        COUNCIL_FILE.read_text().replace("{from_env: EXAMPLE_HMS_API_KEY}", "example-hms-key"),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"settings\.api_key: secrets must come from the environment"):
        load_config(written, environ={})


def test_the_gateway_finds_the_plugin_and_its_simulator() -> None:
    """Installed, the package is the ``example-hms`` adaptor, and ``simulate`` describes itself."""
    assert discover_plugins()["example-hms"] is PLUGIN
    assert PLUGIN.simulator is not None
    backend = PLUGIN.simulator(SimulatorOptions())
    assert "base_url: http://127.0.0.1:8100" in backend.describe("http://127.0.0.1:8100")
