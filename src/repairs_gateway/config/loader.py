"""Load and validate the councils file: every error names the council, the field and why."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, SecretStr, ValidationError

from repairs_gateway.config.schema import AdapterRef, CouncilFile, CouncilSpec, SchedulerRoute
from repairs_gateway.ports import AdapterContext, AdapterPlugin, Role
from repairs_gateway.registry import build_adapter, discover_plugins


class ConfigError(Exception):
    """The councils file is not valid; ``problems`` lists one line per error."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


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


def _format(error: Mapping[str, Any], prefix: str) -> str:
    where = ".".join(str(part) for part in error["loc"])
    where = f"{prefix}.{where}" if prefix and where else prefix or where
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{where}: {message}" if where else message


def _resolve_env(
    raw: Mapping[str, Any], environ: Mapping[str, str], where: str, problems: list[str]
) -> tuple[dict[str, Any], set[str]]:
    """Replace ``{from_env: NAME}`` values by the variable's value; answer the keys resolved."""
    resolved: dict[str, Any] = {}
    from_env: set[str] = set()
    for key, value in raw.items():
        if isinstance(value, Mapping) and set(value) == {"from_env"}:
            name = str(value["from_env"])
            if name not in environ:
                problems.append(f"{where}.{key}: environment variable {name} is not set")
                continue
            resolved[key] = environ[name]
            from_env.add(key)
        else:
            resolved[key] = value
    return resolved, from_env


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
    environ: Mapping[str, str],
    where: str,
    problems: list[str],
) -> BoundAdapter | None:
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
    before = len(problems)
    raw, from_env = _resolve_env(ref.settings, environ, f"{where}.settings", problems)
    for name in _secret_fields(plugin.settings):
        if name in raw and name not in from_env:
            problems.append(
                f"{where}.settings.{name}: secrets must come from the environment: "
                f"write {{from_env: VARIABLE}}, never the value"
            )
    if len(problems) > before:
        return None
    try:
        settings = plugin.settings.model_validate(raw)
    except ValidationError as exc:
        problems.extend(_format(e, f"{where}.settings") for e in exc.errors())
        return None
    return BoundAdapter(plugin, settings)


def _council(
    raw: Any,
    index: int,
    plugins: Mapping[str, AdapterPlugin],
    environ: Mapping[str, str],
    problems: list[str],
) -> CouncilConfig | None:
    name = raw.get("id", f"#{index + 1}") if isinstance(raw, Mapping) else f"#{index + 1}"
    prefix = f"council {name!r}"
    try:
        spec = CouncilSpec.model_validate(raw)
    except ValidationError as exc:
        problems.extend(f"{prefix}: {_format(e, '')}" for e in exc.errors())
        return None
    found: list[str] = []
    addresses = _bind(spec.addresses, "addresses", plugins, environ, "addresses", found)
    schedulers = []
    for i, route in enumerate(spec.schedulers):
        bound = _bind(route, "scheduler", plugins, environ, f"schedulers.{i}", found)
        if bound:
            schedulers.append((route, bound))
    works = None
    if spec.works_orders is not None:
        works = _bind(spec.works_orders, "works_orders", plugins, environ, "works_orders", found)
    notifications = None
    if spec.notifications.adapter != "builtin-log" or "builtin-log" in plugins:
        # The log sender is the default; a plugin set without it (a test's) sends nothing.
        notifications = _bind(spec.notifications, "notifications", plugins, environ, "notifications", found)
    problems.extend(f"{prefix}: {line}" for line in found)
    if found or addresses is None:
        return None
    return CouncilConfig(spec, addresses, tuple(schedulers), works, notifications)


def parse_config(
    document: Any,
    plugins: Mapping[str, AdapterPlugin] | None = None,
    environ: Mapping[str, str] | None = None,
) -> GatewayConfig:
    """Validate an already-parsed councils document; raises ``ConfigError`` listing every problem."""
    plugins = discover_plugins() if plugins is None else plugins
    environ = os.environ if environ is None else environ
    try:
        top = CouncilFile.model_validate(document)
    except ValidationError as exc:
        raise ConfigError([_format(e, "councils file") for e in exc.errors()]) from None
    problems: list[str] = []
    councils: dict[str, CouncilConfig] = {}
    for index, raw in enumerate(top.councils):
        council = _council(raw, index, plugins, environ, problems)
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
        raise ConfigError(problems)
    return GatewayConfig(councils)


def load_config(
    path: Path,
    plugins: Mapping[str, AdapterPlugin] | None = None,
    environ: Mapping[str, str] | None = None,
) -> GatewayConfig:
    """Read and validate the councils file at ``path``."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([f"{path}: not valid YAML: {exc}"]) from None
    return parse_config(document, plugins, environ)
