"""Strategies for the spec's own string formats, which no pattern can express.

``repair-reference``: a reference whose last character is the check character of the six
before it (``repairs_gateway.domain.references``). Without it, nearly every generated
reference would have a wrong check character and be refused with the 400 the spec
documents, so the lookups behind it (404, or the repair) would never be reached.
"""

from __future__ import annotations

from functools import cache

import schemathesis
from hypothesis import strategies as st

from repairs_gateway.domain.references import ALPHABET, BODY_LENGTH, check_character

REPAIR_REFERENCE = "repair-reference"


@st.composite
def repair_references(draw: st.DrawFn) -> str:
    """A well-formed reference with a matching check character, in any case, with or
    without its hyphen (all of which the spec allows)."""
    prefix = draw(st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=2, max_size=6))
    body = draw(st.text(st.sampled_from(ALPHABET), min_size=BODY_LENGTH, max_size=BODY_LENGTH))
    reference = f"{prefix}{draw(st.sampled_from(['-', '']))}{body}{check_character(body)}"
    return reference.lower() if draw(st.booleans()) else reference


@cache
def register_formats() -> None:
    """Teach schemathesis the spec's formats (once per process)."""
    schemathesis.openapi.format(REPAIR_REFERENCE, repair_references())
