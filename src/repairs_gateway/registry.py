"""Discovery of adaptor plugins through the ``repairs_gateway.adapters`` entry points."""

from __future__ import annotations

from importlib.metadata import entry_points

from repairs_gateway.ports import ENTRY_POINT_GROUP, AdapterPlugin


class PluginError(Exception):
    """An entry point that does not name a usable ``AdapterPlugin``."""


def discover_plugins() -> dict[str, AdapterPlugin]:
    """Every installed adaptor plugin, by entry-point name."""
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
