"""Load and validate the councils file: every error names the council, the field and why."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from repairs_gateway.config.locations import locate
from repairs_gateway.config.routing import twice_routed, unknown_trades, unroutable_jobs, untakeable_jobs
from repairs_gateway.config.schema import (
    AdapterRef,
    CouncilFile,
    CouncilSpec,
    NotificationsSpec,
    SchedulerRoute,
)
from repairs_gateway.ports import AdapterContext, AdapterPlugin, Role
from repairs_gateway.registry import build_adapter, discover_plugins

# What an unread secret is validated as offline: any string a SecretStr takes.
OFFLINE_STAND_IN = "not-read-offline"


class ConfigError(Exception):
    """The councils file is not valid; ``problems`` lists one line per error, and
    ``skipped`` what was not checked (offline: whether each secret is set)."""

    def __init__(self, problems: list[str], skipped: Sequence[str] = ()) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems
        self.skipped = list(skipped)


@dataclass(frozen=True, slots=True)
class BoundAdapter:
    """An adapter plugin with its validated settings."""

    plugin: AdapterPlugin
    settings: BaseModel

    def build(self, context: AdapterContext) -> Any:
        """The adapter for ``context``, checked to implement every role the plugin declares
        (``PluginError`` names the plugin and each missing method otherwise)."""
        return build_adapter(self.plugin, self.settings, context)


@dataclass(frozen=True, slots=True)
class CouncilConfig:
    """A council whose adaptors have been found and whose settings are valid."""

    spec: CouncilSpec
    addresses: BoundAdapter
    schedulers: tuple[tuple[SchedulerRoute, BoundAdapter], ...]
    works_orders: BoundAdapter | None = None
    notifications: BoundAdapter | None = None


@dataclass(frozen=True, slots=True)
class GatewayConfig:
    """Every configured council, by id."""

    councils: dict[str, CouncilConfig] = field(default_factory=dict)
    # Checked offline: what was not checked. Such a config holds stand-ins for its secrets,
    # so it is for reporting only, never for serving.
    skipped: tuple[str, ...] = ()


def _format(error: Mapping[str, Any], document: Any, prefix: str = "") -> str:
    where = locate(error["loc"], document, prefix)
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


@dataclass(slots=True)
class _Findings:
    """What checking one council found: problems, and what offline checking skipped."""

    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _resolve_env(
    raw: Mapping[str, Any], environ: Mapping[str, str] | None, where: str, found: _Findings
) -> tuple[dict[str, Any], set[str], set[str]]:
    """Replace ``{from_env: NAME}`` values by the variable's value; answer the keys so given
    and the keys given a stand-in because ``environ`` is None (offline: no secret is read)."""
    resolved: dict[str, Any] = {}
    from_env: set[str] = set()
    stand_ins: set[str] = set()
    for key, value in raw.items():
        if isinstance(value, Mapping) and set(value) == {"from_env"}:
            name = str(value["from_env"])
            from_env.add(key)
            if environ is None:
                found.skipped.append(f"{where}.{key}: whether {name} is set")
                resolved[key] = OFFLINE_STAND_IN
                stand_ins.add(key)
            elif name not in environ:
                found.problems.append(f"{where}.{key}: environment variable {name} is not set")
                # A stand-in, so that the adaptor's other settings are still checked.
                resolved[key] = OFFLINE_STAND_IN
                stand_ins.add(key)
            else:
                resolved[key] = environ[name]
        else:
            resolved[key] = value
    return resolved, from_env, stand_ins


def _secret_fields(model: type[BaseModel]) -> set[str]:
    secret: set[str] = set()
    for name, info in model.model_fields.items():
        annotation = info.annotation
        if annotation is SecretStr or SecretStr in getattr(annotation, "__args__", ()):
            secret.add(name)
    return secret


def _bind(
    ref: AdapterRef,
    role: Role,
    plugins: Mapping[str, AdapterPlugin],
    environ: Mapping[str, str] | None,
    where: str,
    found: _Findings,
) -> BoundAdapter | None:
    problems = found.problems
    plugin = plugins.get(ref.adapter)
    if plugin is None:
        known = ", ".join(sorted(plugins)) or "none"
        problems.append(f"{where}.adapter: no adaptor {ref.adapter!r} is installed (installed: {known})")
        return None
    if role not in plugin.roles:
        problems.append(
            f"{where}.adapter: {ref.adapter!r} cannot serve as {role} (it serves {sorted(plugin.roles)})"
        )
        return None
    raw, from_env, stand_ins = _resolve_env(ref.settings, environ, f"{where}.settings", found)
    for name in _secret_fields(plugin.settings):
        if name in raw and name not in from_env:
            problems.append(
                f"{where}.settings.{name}: secrets must come from the environment: "
                f"write {{from_env: VARIABLE}}, never the value"
            )
            raw[name] = OFFLINE_STAND_IN
            stand_ins.add(name)
    # A secret at fault does not hide the other settings' problems: each is checked with a
    # stand-in for it (whose own rules are not judged), and the adaptor is bound for the
    # council's trade checks. The council is not served either way: it has a problem.
    try:
        settings = plugin.settings.model_validate(raw)
    except ValidationError as exc:
        # A stand-in for a secret not checked offline may fail the secret's own rules.
        errors = [e for e in exc.errors() if not (e["loc"] and e["loc"][0] in stand_ins)]
        problems.extend(_format(e, ref.settings, f"{where}.settings") for e in errors)
        return None
    return BoundAdapter(plugin, settings)


def _trade_problems(
    spec: CouncilSpec, bound: BoundAdapter, raw: Mapping[str, Any], where: str, scheduler: str | None = None
) -> list[str]:
    return [
        f"{locate(loc, raw, f'{where}.settings')}: {message}"
        for loc, message in unknown_trades(spec, bound.settings, scheduler)
    ]


def _adaptors_alone(
    raw: Any,
    plugins: Mapping[str, AdapterPlugin],
    environ: Mapping[str, str] | None,
    prefix: str,
    findings: _Findings,
) -> None:
    """A council whose own fields fail (a triage exit without its message, say): its
    adaptors' settings and secrets are still checked, each role on its own, so that one
    run lists every problem. Routing needs the whole council and waits for it."""
    if not isinstance(raw, Mapping):
        return
    found = _Findings()
    roles: list[tuple[type[AdapterRef], Role, Any, str]] = [
        (AdapterRef, "addresses", raw.get("addresses"), "addresses"),
        (AdapterRef, "works_orders", raw.get("works_orders"), "works_orders"),
        (NotificationsSpec, "notifications", raw.get("notifications"), "notifications"),
    ]
    schedulers = raw.get("schedulers")
    for item in schedulers if isinstance(schedulers, list) else []:
        name = item.get("name") if isinstance(item, Mapping) else None
        roles.append((SchedulerRoute, "scheduler", item, f"schedulers[{name}]"))
    for model, role, value, where in roles:
        try:
            ref = model.model_validate(value)
        except ValidationError:
            continue  # absent or malformed: the council's own errors already say so
        if ref.adapter not in plugins and ref.adapter == "builtin-log":
            continue  # as in _council: a plugin set without the default log sender
        _bind(ref, role, plugins, environ, where, found)
    findings.problems.extend(f"{prefix}: {line}" for line in found.problems)
    findings.skipped.extend(f"{prefix}: {line}" for line in found.skipped)


def _council(
    raw: Any,
    index: int,
    plugins: Mapping[str, AdapterPlugin],
    environ: Mapping[str, str] | None,
    findings: _Findings,
) -> CouncilConfig | None:
    name = raw.get("id", f"#{index + 1}") if isinstance(raw, Mapping) else f"#{index + 1}"
    prefix = f"council {name!r}"
    try:
        spec = CouncilSpec.model_validate(raw)
    except ValidationError as exc:
        findings.problems.extend(f"{prefix}: {_format(e, raw)}" for e in exc.errors())
        _adaptors_alone(raw, plugins, environ, prefix, findings)
        return None
    found = _Findings()
    routing = twice_routed(spec) + unroutable_jobs(spec)
    found.problems.extend(f"{locate(loc, raw)}: {message}" for loc, message in routing)
    addresses = _bind(spec.addresses, "addresses", plugins, environ, "addresses", found)
    if addresses is not None:
        found.problems.extend(_trade_problems(spec, addresses, spec.addresses.settings, "addresses"))
    schedulers = []
    for route in spec.schedulers:
        where = f"schedulers[{route.name}]"
        bound = _bind(route, "scheduler", plugins, environ, where, found)
        if bound:
            schedulers.append((route, bound))
            found.problems.extend(_trade_problems(spec, bound, route.settings, where, route.name))
    found.problems.extend(
        f"{locate(loc, raw)}: {message}"
        for loc, message in untakeable_jobs(spec, {route.name: b.settings for route, b in schedulers})
    )
    works = None
    if spec.works_orders is not None:
        works = _bind(spec.works_orders, "works_orders", plugins, environ, "works_orders", found)
        if works is not None:
            found.problems.extend(_trade_problems(spec, works, spec.works_orders.settings, "works_orders"))
    notifications = None
    if spec.notifications.adapter != "builtin-log" or "builtin-log" in plugins:
        # The log sender is the default; a plugin set without it (a test's) sends nothing.
        notifications = _bind(spec.notifications, "notifications", plugins, environ, "notifications", found)
    findings.problems.extend(f"{prefix}: {line}" for line in found.problems)
    findings.skipped.extend(f"{prefix}: {line}" for line in found.skipped)
    if found.problems or addresses is None:
        return None
    return CouncilConfig(spec, addresses, tuple(schedulers), works, notifications)


def parse_config(
    document: Any,
    plugins: Mapping[str, AdapterPlugin] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    offline: bool = False,
) -> GatewayConfig:
    """Validate an already-parsed councils document: its schema, each adaptor's settings
    and secrets, and its routing (every job reaches a scheduler, every trade named in
    settings is the council's). Raises ``ConfigError`` listing every problem.

    ``offline`` reads no secret: each is given a stand-in and listed in ``skipped``, so
    the answer is for reporting, not for serving."""
    plugins = discover_plugins() if plugins is None else plugins
    secrets: Mapping[str, str] | None = None if offline else os.environ if environ is None else environ
    try:
        top = CouncilFile.model_validate(document)
    except ValidationError as exc:
        raise ConfigError([_format(e, document, "councils file") for e in exc.errors()]) from None
    findings = _Findings()
    problems = findings.problems
    councils: dict[str, CouncilConfig] = {}
    for index, raw in enumerate(top.councils):
        council = _council(raw, index, plugins, secrets, findings)
        if council is None:
            continue
        if council.spec.id in councils:
            problems.append(f"council {council.spec.id!r}: id: used by more than one council")
        councils[council.spec.id] = council
    prefixes = [c.spec.reference_prefix for c in councils.values()]
    for council in councils.values():
        if prefixes.count(council.spec.reference_prefix) > 1:
            problems.append(
                f"council {council.spec.id!r}: reference_prefix: "
                f"{council.spec.reference_prefix!r} is used by another council"
            )
    if problems:
        raise ConfigError(problems, findings.skipped)
    return GatewayConfig(councils, tuple(findings.skipped))


def read_document(path: Path) -> Any:
    """The parsed YAML of the councils file at ``path``; ``ConfigError`` if it cannot be read."""
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from None


def load_config(
    path: Path,
    plugins: Mapping[str, AdapterPlugin] | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    offline: bool = False,
) -> GatewayConfig:
    """Read and validate the councils file at ``path`` (see ``parse_config``)."""
    return parse_config(read_document(path), plugins, environ, offline=offline)
