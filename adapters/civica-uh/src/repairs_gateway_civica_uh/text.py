"""Free text as UH can be sent it, and the notes operatives read."""

from __future__ import annotations

import re
from collections.abc import Sequence

from repairs_gateway.ports import Hazard

# Everything XML 1.0 cannot carry; lxml refuses to write it, which would make the whole
# request unsendable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters an XML 1.0 document cannot carry."""
    return _NOT_XML.sub("", text)


def hazard_notes(hazards: Sequence[Hazard]) -> str:
    """The hazards as lines for an operative: kind, code, description and where."""
    lines = []
    for hazard in hazards:
        where = f" ({hazard.location})" if hazard.location else ""
        lines.append(f"- {hazard.kind.upper()} {hazard.code}: {hazard.description}{where}")
    return "HAZARDS, READ BEFORE VISITING:\n" + "\n".join(lines) if lines else ""
