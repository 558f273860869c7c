"""Calling one UHWeb service: a zeep client over httpx, the credentials UH wants in every
request, and every way a call can fail turned into the ports' typed errors.

``UhClient.call`` answers the operation's result whatever its ``Success``: what a refusal
means (not found, already cancelled, slot taken) is the adaptor's business.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import zeep
import zeep.exceptions
import zeep.helpers
from repairs_gateway.ports import BackendRejected, BackendUnavailable
from zeep.proxy import AsyncServiceProxy

from .protocol import WSDL_PATHS, Service, binding_qname
from .settings import UhConnection
from .wire import AnswerCheck, CheckedTransport, HttpFailure, MalformedAnswer

log = logging.getLogger(__name__)

UNAVAILABLE = "The housing system is not available at the moment."
UNREADABLE = "The housing system gave an answer that could not be understood."
REFUSED = "The housing system refused the request."
UNSENDABLE = "The repair's details could not be sent to the housing system."


class UnreadableAnswer(BackendRejected):
    """UH answered, but not so that the answer can be read: it may have acted on the call
    all the same (raised the order, booked the slot)."""


@dataclass(frozen=True, slots=True)
class Reply:
    """A UHWeb result: ``Success``, ``ErrorCode``, ``ErrorMessage`` and the rest of its
    fields as plain Python values."""

    operation: str
    success: bool
    code: int | None
    message: str | None
    body: Mapping[str, Any]

    def describe(self) -> str:
        """For logs and error details: the operation and UH's own code and text."""
        return (
            f"{self.operation}: Success={self.success} ErrorCode={self.code} "
            f"ErrorMessage={self.message!r}"
        )


class UhClient:
    """One UHWeb service (``PropertyService`` or ``RepairService``) of one installation,
    reached through the WSDL this package ships."""

    def __init__(
        self, connection: UhConnection, service: Service, http_client: httpx.AsyncClient
    ) -> None:
        self._connection = connection
        self._service_name = service
        # zeep wants a sync client for fetching WSDLs; ours is read from the package.
        self._wsdl_http = httpx.Client()
        transport = CheckedTransport(client=http_client, wsdl_client=self._wsdl_http)
        # Not strict: a newer UH may add fields to its answers, which must not break us;
        # what the adaptor reads it checks itself.
        self._zeep = zeep.AsyncClient(  # type: ignore[no-untyped-call, unused-ignore]
            str(WSDL_PATHS[service]),
            transport=transport,
            settings=zeep.Settings(strict=False),
            plugins=[AnswerCheck()],
        )
        binding = self._zeep.wsdl.bindings[binding_qname(service)]
        # create_service() would give a sync proxy even on an AsyncClient.
        self._proxy = AsyncServiceProxy(  # type: ignore[no-untyped-call, unused-ignore]
            self._zeep, binding, address=connection.service_url(service)
        )

    def close(self) -> None:
        """Release the WSDL client (the caller owns the async HTTP client)."""
        self._wsdl_http.close()

    def _credentials(self) -> dict[str, Any]:
        c = self._connection
        token = c.session_token.get_secret_value() if c.session_token is not None else None
        return {
            "CompanyCode": c.company_code,
            "DirectUser": {"UserName": c.username, "UserPassword": c.password.get_secret_value()},
            "SessionToken": token,
            "SourceSystem": c.source_system,
            "UserId": c.user_id,
        }

    async def call(self, operation: str, **fields: Any) -> Reply:
        """Send ``operation`` with the credentials and ``fields`` in its ``dto``."""
        dto = {**self._credentials(), **fields}
        name = f"{self._service_name}.{operation}"
        try:
            # Built beforehand so a request that cannot be written is told apart from an
            # answer that cannot be read.
            self._zeep.create_message(self._proxy, operation, dto=dto)  # type: ignore[no-untyped-call, unused-ignore]
        except (zeep.exceptions.Error, ValueError, TypeError, AttributeError) as exc:
            raise BackendRejected(UNSENDABLE, detail=f"{name}: request: {exc!r}") from exc
        timeout = self._connection.timeout_seconds
        method = getattr(self._proxy, operation)
        try:
            async with asyncio.timeout(timeout):
                result = await method(dto=dto)
        except TimeoutError as exc:
            raise BackendUnavailable(
                UNAVAILABLE, detail=f"{name}: no answer within {timeout:g} s"
            ) from exc
        except httpx.HTTPError as exc:
            raise BackendUnavailable(UNAVAILABLE, detail=f"{name}: {exc!r}") from exc
        except HttpFailure as exc:
            failure = BackendUnavailable if exc.unavailable else BackendRejected
            raise failure(
                UNAVAILABLE if exc.unavailable else REFUSED, detail=f"{name}: {exc}"
            ) from exc
        except zeep.exceptions.TransportError as exc:
            raise BackendUnavailable(
                UNAVAILABLE, detail=f"{name}: HTTP {exc.status_code}: {str(exc.message)[:300]}"
            ) from exc
        except zeep.exceptions.Fault as exc:
            raise fault_error(name, exc) from exc
        except MalformedAnswer as exc:
            raise UnreadableAnswer(UNREADABLE, detail=f"{name}: {exc}") from exc
        except (zeep.exceptions.Error, LookupError, ValueError, TypeError, AttributeError) as exc:
            raise UnreadableAnswer(UNREADABLE, detail=f"{name}: {exc!r}") from exc
        return read_reply(name, result)


def fault_error(name: str, fault: Any) -> BackendRejected | BackendUnavailable:
    """A SOAP Fault. WCF answers its own failures (``InternalServiceFault``, a server
    that is too busy) as ``s:Server`` faults, which may pass; a ``s:Client`` fault is a
    request UH will never take."""
    code = str(getattr(fault, "code", "") or "")
    detail = f"{name}: SOAP fault {code}: {getattr(fault, 'message', '')}"
    if code.rsplit(":", 1)[-1] in {"Server", "Receiver"}:
        return BackendUnavailable(UNAVAILABLE, detail=detail)
    return BackendRejected(REFUSED, detail=detail)


def read_reply(name: str, result: Any) -> Reply:
    """The result as a ``Reply``; ``UnreadableAnswer`` when it has no ``Success``."""
    body = zeep.helpers.serialize_object(result, dict)  # type: ignore[no-untyped-call, unused-ignore]
    if not isinstance(body, dict):
        raise UnreadableAnswer(UNREADABLE, detail=f"{name}: no result in the answer")
    success = body.get("Success")
    if not isinstance(success, bool):
        raise UnreadableAnswer(UNREADABLE, detail=f"{name}: the answer has no Success")
    code = body.get("ErrorCode")
    message = body.get("ErrorMessage")
    return Reply(
        operation=name,
        success=success,
        code=code if isinstance(code, int) else None,
        message=str(message) if message is not None else None,
        body=body,
    )
