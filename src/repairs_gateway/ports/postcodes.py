"""UK postcodes: normalised before any lookup (``nf11aa`` and `` NF1  1AA `` are one).

Published to adapters as ``repairs_gateway.ports.normalise_postcode``: an address source
receives postcodes in this form and its simulator files them the same way.

Every bad postcode, whatever is wrong with it (too short, too long, the wrong shape, not
text, empty), is told in one wording: what was given, then ``NOT_A_POSTCODE``.
"""

from __future__ import annotations

import json
import re

_SHAPE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
MAX_INPUT = 16
NOT_A_POSTCODE = "is not a UK postcode (for example NF1 1AA)"


class InvalidPostcode(ValueError):
    """Not a UK postcode; the message says so in the one wording, for the resident."""


def not_a_postcode(given: object) -> str:
    """The one message for a bad postcode: ``'NF1A' is not a UK postcode (for example NF1 1AA)``.

    A string is quoted as given less surrounding spaces (cut short past ``MAX_INPUT``
    characters, so a long value does not fill the answer); anything else is shown as JSON.
    """
    text = given.strip() if isinstance(given, str) else json.dumps(given, default=str)
    if len(text) > MAX_INPUT:
        text = f"{text[:MAX_INPUT]}..."
    shown = repr(text) if isinstance(given, str) else text
    return f"{shown} {NOT_A_POSTCODE}"


def normalise_postcode(raw: str) -> str:
    """Upper-case, strip spacing and re-space before the inward code; raises InvalidPostcode."""
    # Length and ASCII first: the checks after them are then cheap and unsurprising.
    if len(raw) > MAX_INPUT or not raw.isascii():
        raise InvalidPostcode(not_a_postcode(raw))
    match = _SHAPE.fullmatch("".join(raw.split()).upper())
    if match is None:
        raise InvalidPostcode(not_a_postcode(raw))
    return f"{match.group(1)} {match.group(2)}"
