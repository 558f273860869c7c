"""Where in the councils file a problem is, written with the names a person gave things.

A validation error locates its field by list index (``schedulers.0.settings``,
``triage.options.0.next.options.1.exit``); the person who wrote the file knows those
entries by name. So a list entry is shown by its ``id``, ``name`` or ``label``
(``schedulers[drs]``, ``windows[Morning]``), a triage option by its path as the API takes
it (``triage[kitchen/sink]``), and an entry with no name by its position counted from one
(``windows[#2]``). An SoR code is shown the same way (``sor_codes[20060040]``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

NAMING_KEYS = ("id", "name", "label")
# Mappings of a council whose keys name their entries, written like named list entries.
KEYED_COLLECTIONS = frozenset({"sor_codes"})


def _name(entry: Any, index: int) -> str:
    if isinstance(entry, Mapping):
        for key in NAMING_KEYS:
            value = entry.get(key)
            if isinstance(value, str) and value:
                return value
    return f"#{index + 1}"


def _child(node: Any, part: int | str) -> Any:
    if isinstance(part, int) and isinstance(node, Sequence) and not isinstance(node, str):
        return node[part] if 0 <= part < len(node) else None
    if isinstance(node, Mapping):
        return node.get(part)
    return None


def _triage_path(parts: Sequence[int | str], node: Any) -> tuple[list[str], int, Any]:
    """The option ids of ``options.N(.next.options.N)*`` at the start of ``parts``, how many
    parts they took, and the option reached."""
    ids: list[str] = []
    used = 0
    while True:
        lead = 1 if ids else 0  # after an option, the path goes on only through its ``next``
        if ids and parts[used : used + 1] != ["next"]:
            break
        if len(parts) < used + lead + 2 or parts[used + lead] != "options":
            break
        index = parts[used + lead + 1]
        if not isinstance(index, int):
            break
        if lead:
            node = _child(node, "next")
        node = _child(_child(node, "options"), index)
        ids.append(_name(node, index))
        used += lead + 2
    return ids, used, node


def locate(loc: Sequence[int | str], document: Any, prefix: str = "") -> str:
    """``loc`` (a pydantic error location within ``document``) written with names:
    ``triage[kitchen/sink].exit.message``, ``schedulers[drs].settings.password``."""
    out = prefix
    node = document
    parts = list(loc)
    i = 0
    while i < len(parts):
        part = parts[i]
        if isinstance(part, int):
            node = _child(node, part)
            out += f"[{_name(node, part)}]"
            i += 1
            continue
        out = f"{out}.{part}" if out else str(part)
        node = _child(node, part)
        i += 1
        if part in KEYED_COLLECTIONS and i < len(parts):
            out += f"[{parts[i]}]"
            node = _child(node, parts[i])
            i += 1
            continue
        if part == "triage":
            ids, used, node = _triage_path(parts[i:], node)
            if ids:
                out += f"[{'/'.join(ids)}]"
                i += used
    return out
