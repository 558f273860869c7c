"""Discovery of adapter plugins through the ``repairs_gateway.adapters`` entry points, and
building an adapter with the check that it serves the roles its plugin declares."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from pydantic import BaseModel

from repairs_gateway.ports import ENTRY_POINT_GROUP, AdapterContext, AdapterPlugin, PluginError, check_roles

__all__ = ["PluginError", "build_adapter", "check_roles", "discover_plugins"]


def discover_plugins() -> dict[str, AdapterPlugin]:
    """Every installed adapter plugin, by entry-point name."""
    plugins: dict[str, AdapterPlugin] = {}
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        plugin = entry.load()
        if not isinstance(plugin, AdapterPlugin):
            raise PluginError(
                f"entry point {entry.name!r} ({entry.value}) is not a repairs_gateway.ports.AdapterPlugin"
            )
        if plugin.name != entry.name:
            raise PluginError(f"entry point {entry.name!r} names a plugin called {plugin.name!r}")
        plugins[entry.name] = plugin
    return plugins


def build_adapter(plugin: AdapterPlugin, settings: BaseModel, context: AdapterContext) -> Any:
    """What ``plugin`` builds for ``context``, once it is known to implement every role the
    plugin declares; raises ``PluginError`` naming the plugin and each missing method."""
    built = plugin.build(settings, context)
    check_roles(plugin, built)
    return built
