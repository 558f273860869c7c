"""How a simulated Totalmobile installation is set up; the defaults describe a typical council."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from ..settings import DEFAULT_TIME_BANDS, Band, parse_band

DEFAULT_SKILLS: frozenset[str] = frozenset(
    {
        "plumbing",
        "carpentry",
        "electrical",
        "heating",
        "general",
        "glazing",
        "roofing",
        "plastering",
        "inspection",
    }
)


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """The simulated instance, world, credentials and diary.

    ``capacity``: jobs one band takes on one day per skill (operatives of that skill free
    then); ``token_lifetime_seconds``: what ``expires_in`` says, short in tests that want
    tokens to expire; ``max_offer_days``: the longest ``from``..``to`` one offers call
    takes; ``offers_bound_to_job``: offer handles valid only for the job they were
    offered for (an installation the adaptor must also cope with)."""

    instance: str = "SIM"
    world_id: str = "REPAIRS"
    client_id: str = "repairs-gateway"
    client_secret: str = "tm-sim-secret"
    scope: str = "optimiseApi"
    token_lifetime_seconds: int = 3600
    time_bands: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_TIME_BANDS))
    skills: frozenset[str] = DEFAULT_SKILLS
    capacity: int = 2
    capacity_by_skill: Mapping[str, int] = field(default_factory=dict)
    working_days: frozenset[int] = frozenset(range(5))  # Monday..Friday
    holidays: frozenset[date] = frozenset()
    max_offer_days: int = 14
    offers_bound_to_job: bool = False
    latency_ms: float = 0.0
    fail_rate: float = 0.0
    seed: int | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        if self.token_lifetime_seconds < 1:
            raise ValueError("token_lifetime_seconds must be at least 1")
        self.bands()  # every band readable

    def bands(self) -> list[Band]:
        """The installation's bands, in the order offered."""
        return [parse_band(name, text) for name, text in self.time_bands.items()]

    def capacity_for(self, skill: str) -> int:
        """Jobs of ``skill`` one band takes on one day."""
        return self.capacity_by_skill.get(skill, self.capacity)

    @property
    def root(self) -> str:
        """The path of the instance."""
        return f"/{self.instance}"

    @property
    def token_path(self) -> str:
        """The identity server's token endpoint."""
        return f"{self.root}/identity/connect/token"

    @property
    def jobs_path(self) -> str:
        """The world's jobs collection."""
        return f"{self.root}/api/optimise/worlds/{self.world_id}/jobs"
