"""The built-in backends live in the gateway's database; its failures become typed errors."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import ParamSpec, TypeVar

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from repairs_gateway.ports import BackendRejected, BackendUnavailable

P = ParamSpec("P")
T = TypeVar("T")


def typed_database_errors(call: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[T]]:
    """Turn the database being unreachable into ``BackendUnavailable`` and any other database
    error into ``BackendRejected``, as the adaptor interface requires of every backend."""

    @functools.wraps(call)
    async def guarded(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            return await call(*args, **kwargs)
        except (OperationalError, InterfaceError, DisconnectionError, OSError) as exc:
            raise BackendUnavailable("the gateway's database is not answering", detail=str(exc)) from exc
        except DBAPIError as exc:
            raise BackendRejected("the gateway's database refused the request", detail=str(exc)) from exc

    return guarded
