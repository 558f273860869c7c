"""Free text as DRS can be sent it: XML 1.0 characters only, lengths as Java counts them."""

from __future__ import annotations

import re

# Everything XML 1.0 does not allow (its "Char" production): most C0 controls, lone
# surrogates, U+FFFE and U+FFFF. lxml refuses to write them, so one would make the whole
# request unsendable.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters an XML 1.0 document cannot carry."""
    return _NOT_XML.sub("", text)


def java_length(text: str) -> int:
    """The length DRS (Java) gives ``text``: UTF-16 code units, so a character beyond
    U+FFFF (an emoji, say) counts two."""
    return sum(2 if ord(char) > 0xFFFF else 1 for char in text)


def java_trim(text: str, limit: int, ellipsis: str = "...") -> str:
    """``text`` if DRS counts it at most ``limit`` long, else its start and ``ellipsis``
    within ``limit`` (never splitting a character)."""
    if java_length(text) <= limit:
        return text
    room = limit - java_length(ellipsis)
    kept: list[str] = []
    for char in text:
        room -= java_length(char)
        if room < 0:
            break
        kept.append(char)
    return "".join(kept).rstrip() + ellipsis
