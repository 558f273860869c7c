"""Plugins: how an adapter package tells the gateway what it serves and how to build it."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from pydantic import BaseModel

from repairs_gateway.ports.errors import PluginError
from repairs_gateway.ports.roles import ROLE_PROTOCOLS, Role

ENTRY_POINT_GROUP = "repairs_gateway.adapters"


@dataclass(frozen=True, slots=True)
class AdapterContext:
    """What the gateway hands an adaptor factory: which council it serves, and for the
    built-in backends only, the gateway's database (``database`` is an SQLAlchemy
    ``async_sessionmaker``; third-party adaptors must not rely on it)."""

    council_id: str
    timezone: str = "Europe/London"
    database: Any = None


AdapterFactory = Callable[[Any, AdapterContext], Any]
"""Builds an adaptor from its validated settings model and the context."""


@dataclass(frozen=True, slots=True)
class SimulatorOptions:
    """Options of ``repairs-gateway simulate``: added latency per call and the share of
    calls that fail (0 to 1), for tests and benchmarks; and ``settings``, the simulator's
    own settings (``--set KEY=VALUE``) as text, which its factory reads with
    ``read_simulator_settings``."""

    latency_ms: float = 0.0
    fail_rate: float = 0.0
    seed: int | None = None
    # Left out of the hash (a mapping has none), so the options stay hashable; equality
    # still compares it.
    settings: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)

    def __post_init__(self) -> None:
        # A read-only copy: the options are frozen, and the caller's dict may change later.
        object.__setattr__(self, "settings", MappingProxyType(dict(self.settings)))


class SimulatorSettingError(ValueError):
    """A simulator setting its factory does not take: an unknown key, or a value it cannot
    read. The message names the key and the keys the simulator accepts."""

    def __init__(self, key: str, problem: str, accepted: Iterable[str]) -> None:
        self.key = key
        self.accepted = tuple(sorted(accepted))
        takes = f"it accepts: {', '.join(self.accepted)}" if self.accepted else "it takes no settings"
        super().__init__(f"{key}: {problem} ({takes})")


SettingParser = Callable[[str], Any]
"""Reads one setting's text into its value; raises ``ValueError`` saying what is wrong."""


def positive_int(text: str) -> int:
    """A whole number of at least 1 (a rate, a count, a lifetime in seconds)."""
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise ValueError(f"{text!r} is less than 1")
    return value


def read_simulator_settings(
    options: SimulatorOptions, accepted: Mapping[str, SettingParser]
) -> dict[str, Any]:
    """The simulator settings in ``options``, each read by its parser in ``accepted`` (the
    keys this simulator declares; name them as its config's fields, so the answer can go
    straight to ``dataclasses.replace``). Raises ``SimulatorSettingError`` for a key not
    in ``accepted`` or a value its parser refuses, so that every simulator, even one that
    takes none, refuses a setting it would otherwise silently ignore."""
    values: dict[str, Any] = {}
    for key, text in options.settings.items():
        parse = accepted.get(key)
        if parse is None:
            raise SimulatorSettingError(key, "no such setting", accepted)
        try:
            values[key] = parse(text)
        except ValueError as exc:
            raise SimulatorSettingError(key, str(exc), accepted) from exc
    return values


@dataclass(frozen=True, slots=True)
class SimulatedBackend:
    """A running simulator: an ASGI ``app``, and ``describe(base_url)`` answering the lines
    to print for a person (endpoint URL, credentials it accepts)."""

    app: Any
    describe: Callable[[str], str]


SimulatorFactory = Callable[[SimulatorOptions], SimulatedBackend]
"""Builds a simulator of the adaptor's backend."""


@dataclass(frozen=True, slots=True)
class AdapterPlugin:
    """What an entry point in ``repairs_gateway.adapters`` names.

    ``settings`` is the pydantic model of the adaptor's settings in the council file;
    fields typed ``SecretStr`` must be given there as ``{from_env: VARIABLE}``, and a field
    keyed by trade is marked ``Field(json_schema_extra=TRADE_KEYED)`` (``ports.trades``) so that the
    councils file check refuses keys that are not the council's trades.
    ``roles`` says which Protocols ``build`` returns an implementation of.
    ``simulator``, if given, serves ``repairs-gateway simulate NAME``.
    """

    name: str
    roles: frozenset[Role]
    settings: type[BaseModel]
    build: AdapterFactory
    simulator: SimulatorFactory | None = None
    description: str = ""


def role_methods(role: Role) -> tuple[str, ...]:
    """The methods the Protocol of ``role`` asks for, in the order it declares them."""
    protocol = ROLE_PROTOCOLS[role]
    return tuple(
        name for name, value in vars(protocol).items() if callable(value) and not name.startswith("_")
    )


def check_roles(plugin: AdapterPlugin, built: object) -> None:
    """Check that ``built`` (what ``plugin.build`` answered) implements every role the plugin
    declares; raises ``PluginError`` naming the plugin, the role and each missing method.

    The roles' Protocols are runtime-checkable, but ``isinstance`` says only yes or no; this
    names what is missing, so a supplier knows what to write."""
    missing: list[str] = []
    for role in sorted(plugin.roles):
        if role not in ROLE_PROTOCOLS:
            raise PluginError(f"adapter plugin {plugin.name!r} declares an unknown role {role!r}")
        absent = [name for name in role_methods(role) if not callable(getattr(built, name, None))]
        if absent:
            protocol = ROLE_PROTOCOLS[role].__name__
            missing.append(f"{role} ({protocol}) needs {', '.join(absent)}")
    if missing:
        raise PluginError(
            f"adapter plugin {plugin.name!r} built a {type(built).__name__} that does not implement "
            f"the roles it declares: {'; '.join(missing)}"
        )
