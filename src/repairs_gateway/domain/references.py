"""Repair references a resident can read over the phone: ``NF-7KQ3M9X``.

A council prefix, then six random characters and a check character, from an alphabet
without the look-alikes 0/O and 1/I/L. The check character makes the position-weighted sum
of all seven characters (weights 1 to 7) zero modulo 31; as 31 is prime and the weights are
distinct, every single misread character and every swap of two characters is caught.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
BODY_LENGTH = 6
_VALUE = {char: index for index, char in enumerate(ALPHABET)}
_SHAPE = re.compile(r"^([A-Z]{2,6})-?([A-Z0-9]{7})$")


class InvalidReference(ValueError):
    """Not a repair reference; the message says why."""


def check_character(body: str) -> str:
    """The check character that follows ``body`` (characters of ALPHABET)."""
    base = len(ALPHABET)
    total = sum(weight * _VALUE[char] for weight, char in enumerate(body, start=1))
    weight = len(body) + 1
    return ALPHABET[(-total * pow(weight, -1, base)) % base]


def new_reference(prefix: str) -> str:
    """A fresh random reference for a council with this prefix."""
    body = "".join(secrets.choice(ALPHABET) for _ in range(BODY_LENGTH))
    return f"{prefix}-{body}{check_character(body)}"


def parse_reference(text: str) -> str:
    """The canonical form of a reference typed in any case, with or without the hyphen."""
    match = _SHAPE.fullmatch(text.strip().upper())
    if match is None:
        raise InvalidReference("a reference is a council prefix and seven characters, like NF-7KQ3M9X")
    prefix, rest = match.groups()
    if any(char not in _VALUE for char in rest):
        raise InvalidReference("a reference never contains 0, 1, O, I or L: check for a misread character")
    body, check = rest[:-1], rest[-1]
    if check_character(body) != check:
        raise InvalidReference(
            "the reference's check character does not match: check for a misread character"
        )
    return f"{prefix}-{rest}"
