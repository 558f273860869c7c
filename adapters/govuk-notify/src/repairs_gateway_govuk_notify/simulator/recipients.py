"""Recipients as Notify judges them: UK mobile numbers for texts, a basic email check."""

from __future__ import annotations

import re


class RecipientError(ValueError):
    """Not a number or address Notify would send to; the message is Notify's."""


_SEPARATORS = str.maketrans("", "", " \t\n\r-()./[]\u00a0")
_EMAIL = re.compile(r"^[^\s@\"(),:;<>\[\]\\]+@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z]{2,63}$")


def uk_mobile(raw: str) -> str:
    """``raw`` as ``447xxxxxxxxx``; spaces and punctuation are allowed, and the forms
    07..., 7..., 447..., +447... and 00447...; anything else is refused as Notify does."""
    number = raw.translate(_SEPARATORS)
    if number.startswith("+"):
        number = number[1:]
    if not number.isdigit() or not number.isascii():
        raise RecipientError("Must not contain letters or symbols")
    if number.startswith("0044"):
        number = number[4:]
    elif number.startswith("44"):
        number = number[2:]
    elif number.startswith("0"):
        number = number[1:]
    if not number.startswith("7"):
        raise RecipientError("Not a UK mobile number")
    if len(number) > 10:
        raise RecipientError("Too many digits")
    if len(number) < 10:
        raise RecipientError("Not enough digits")
    return "44" + number


def email_address(raw: str) -> str:
    """``raw`` trimmed and lower-cased, if it looks like an email address."""
    address = raw.strip().lower()
    local, _, domain = address.rpartition("@")
    if (
        len(address) > 320
        or len(local) > 64
        or ".." in address
        or local.startswith(".")
        or local.endswith(".")
        or not _EMAIL.match(address)
        or len(domain) > 253
    ):
        raise RecipientError("Not a valid email address")
    return address


def canonical(raw: str) -> str | None:
    """A phone number or address in the form used to compare recipients; None if neither."""
    try:
        return uk_mobile(raw)
    except RecipientError:
        pass
    try:
        return email_address(raw)
    except RecipientError:
        return None
