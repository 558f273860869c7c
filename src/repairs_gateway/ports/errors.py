"""The typed errors of the ports: the only exceptions an adapter may let out of a call,
and the error of a plugin that cannot serve what it declares."""

from __future__ import annotations


class AdapterError(Exception):
    """Base of every error an adaptor raises. ``detail`` is for logs and operators, never
    for residents: it may hold a backend's raw message."""

    def __init__(self, message: str, *, detail: str | None = None) -> None:
        super().__init__(message)
        self.detail = detail


class SlotUnavailable(AdapterError):
    """The window is no longer free (taken since it was offered, or never offered)."""


class NotFound(AdapterError):
    """The backend does not know the property, order or booking."""


class BackendUnavailable(AdapterError):
    """The backend did not answer, answered too late, or is down. Safe to retry later."""


class BackendRejected(AdapterError):
    """The backend understood and refused the request, or answered something malformed.
    Retrying the same request will not help."""


class PluginError(Exception):
    """An installed plugin that cannot be used: an entry point that names no ``AdapterPlugin``,
    or a plugin whose ``build`` answers an object lacking a method of a role it declares."""


class ReceiptRefused(Exception):
    """A callback that does not come from the sender (a wrong or missing token)."""
