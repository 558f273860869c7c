"""The implementation under test, as the contract suite reaches it: a URL and API keys."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Endpoint:
    """A running implementation of the Repairs API.

    ``council`` is the council held to the contract, and ``api_key`` must be issued for it.
    ``other_council``, when given, is a second council the implementation serves: references,
    window ids and keys are checked not to cross between the two. ``other_api_key``, when
    given, is a key that is not issued for ``council`` (403 expected there). ``staff_api_key``,
    when given, is a staff key issued for ``council``: the staff operations (listRepairs,
    retryRepair) are exercised with it, and ``api_key`` is then expected to get 403 there
    (without it, the staff operations are called with ``api_key``). ``postcodes``
    are postcodes where ``council`` has eligible properties; without them the suite tries the
    spec's example postcodes. ``other_postcodes`` do the same for ``other_council``.
    """

    base_url: str
    api_key: str
    council: str
    other_council: str | None = None
    other_api_key: str | None = None
    postcodes: tuple[str, ...] = ()
    other_postcodes: tuple[str, ...] = ()
    staff_api_key: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))
