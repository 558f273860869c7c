"""The backends the in-process contract suite runs the gateway on.

Each backend the project ships registers a ``ContractTarget`` in the entry-point group
``repairs_gateway.contract_targets``: a name, and ``start``, a context manager factory that
starts whatever the backend needs (simulators on 127.0.0.1) and yields the councils
document wiring the gateway to it. An adaptor package joins the matrix from its own
``pyproject.toml``, without editing the suite::

    [project.entry-points."repairs_gateway.contract_targets"]
    kirona-drs = "repairs_gateway_kirona_drs.contract:TARGET"

The gateway itself is found the same way, so that the suite imports nothing of the app, the
demo or the database: the repairs-gateway package registers what serves it on a target
(``repairs_gateway.demo.contract_gateway:serve_gateway``) in the group
``repairs_gateway.contract_gateway``, and ``discover_gateway`` loads it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any

from repairs_gateway.contract.endpoint import Endpoint
from repairs_gateway.serving import serve_asgi

TARGETS_GROUP = "repairs_gateway.contract_targets"
GATEWAY_GROUP = "repairs_gateway.contract_gateway"

__all__ = [
    "ContractTarget",
    "GatewayServer",
    "TargetEnvironment",
    "TargetError",
    "discover_gateway",
    "discover_targets",
    "serve_asgi",
    "static_target",
]


@dataclass(frozen=True, slots=True)
class TargetEnvironment:
    """A backend ready for the gateway.

    ``councils`` is a councils document (as ``councils.yaml`` parses) wiring every council to
    the backend; ``environ`` holds the variables its ``{from_env: NAME}`` values read (a
    simulator's credentials). ``addresses`` maps a council to CSV text for the built-in
    address register, for councils that use it. ``postcodes`` maps a council to postcodes
    where it has eligible properties: the suite needs them to reach appointments and
    bookings. ``council`` is the council held to the contract (default: the first);
    ``other_council`` the one checked against it for isolation (default: the second).
    """

    councils: Mapping[str, Any]
    postcodes: Mapping[str, Sequence[str]]
    addresses: Mapping[str, str] = field(default_factory=dict)
    environ: Mapping[str, str] = field(default_factory=dict)
    council: str | None = None
    other_council: str | None = None

    def council_ids(self) -> list[str]:
        """The ids of the document's councils, in order."""
        return [
            str(c["id"]) for c in self.councils.get("councils", []) if isinstance(c, Mapping) and "id" in c
        ]

    @property
    def primary(self) -> str:
        """The council held to the contract."""
        return self.council or self.council_ids()[0]

    @property
    def secondary(self) -> str | None:
        """The council checked against the primary one, if the document has two."""
        if self.other_council:
            return self.other_council
        others = [c for c in self.council_ids() if c != self.primary]
        return others[0] if others else None


@dataclass(frozen=True, slots=True)
class ContractTarget:
    """A backend the contract suite runs the gateway on; ``start()`` is entered once per run
    and must stop everything it started on exit."""

    name: str
    start: Callable[[], AbstractContextManager[TargetEnvironment]]
    description: str = ""


def static_target(name: str, environment: TargetEnvironment, description: str = "") -> ContractTarget:
    """A target that needs nothing started: the councils document is enough."""

    @contextmanager
    def start() -> Iterator[TargetEnvironment]:
        yield environment

    return ContractTarget(name, start, description)


class TargetError(Exception):
    """An entry point that does not name a ``ContractTarget``."""


def discover_targets() -> dict[str, ContractTarget]:
    """Every registered contract target, by name."""
    targets: dict[str, ContractTarget] = {}
    for entry in entry_points(group=TARGETS_GROUP):
        target = entry.load()
        if not isinstance(target, ContractTarget):
            raise TargetError(f"entry point {entry.name!r} ({entry.value}) is not a ContractTarget")
        targets[entry.name] = target
    return dict(sorted(targets.items()))


GatewayServer = Callable[[ContractTarget], AbstractContextManager[Endpoint]]
"""Starts a target's backends and the gateway wired to them; yields the gateway's endpoint."""


def discover_gateway() -> GatewayServer:
    """What serves the gateway on a target for the in-process matrix (registered once, by
    the repairs-gateway package, in the group ``repairs_gateway.contract_gateway``)."""
    found = list(entry_points(group=GATEWAY_GROUP))
    if len(found) != 1:
        names = ", ".join(f"{e.name} ({e.value})" for e in found) or "none"
        raise TargetError(
            f"the entry-point group {GATEWAY_GROUP} must name exactly one gateway server, "
            f"found {names}: reinstall repairs-gateway"
        )
    server: GatewayServer = found[0].load()
    if not callable(server):
        raise TargetError(f"entry point {found[0].name!r} ({found[0].value}) is not callable")
    return server
