"""UK postcodes: normalised before any lookup (``nf11aa`` and `` NF1  1AA `` are one).

Published to adapters as ``repairs_gateway.ports.normalise_postcode``: an address source
receives postcodes in this form and its simulator files them the same way.
"""

from __future__ import annotations

import re

_SHAPE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
MAX_INPUT = 16


class InvalidPostcode(ValueError):
    """Not a UK postcode; the message says why, for the resident."""


def normalise_postcode(raw: str) -> str:
    """Upper-case, strip spacing and re-space before the inward code; raises InvalidPostcode."""
    if len(raw) > MAX_INPUT:
        raise InvalidPostcode(f"a postcode has at most {MAX_INPUT} characters")
    if not raw.isascii():
        raise InvalidPostcode("a postcode has only letters, digits and spaces")
    compact = "".join(raw.split()).upper()
    if not compact:
        raise InvalidPostcode("the postcode is empty")
    match = _SHAPE.fullmatch(compact)
    if match is None:
        raise InvalidPostcode(f"{raw.strip()!r} is not a UK postcode (for example NF1 1AA)")
    return f"{match.group(1)} {match.group(2)}"
