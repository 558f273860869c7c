"""The ``notifications`` role through GOV.UK Notify's official Python client.

The client (``notifications-python-client``) is synchronous, built on ``requests``, and not
thread-safe: each worker thread gets its own client (``threading.local``), and every call
runs in a worker thread through ``asyncio.to_thread``, under the settings' time limit.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol, cast

from notifications_python_client.errors import HTTPError, InvalidResponse
from notifications_python_client.notifications import NotificationsAPIClient
from repairs_gateway.ports import (
    AdapterContext,
    BackendRejected,
    BackendUnavailable,
    DeliveryReceipt,
    OutgoingMessage,
    ReceiptRefused,
    SentMessage,
)

from .settings import NotifySettings

RECEIPT_STATUSES = frozenset(
    {"delivered", "permanent-failure", "temporary-failure", "technical-failure"}
)
"""The final statuses a receipt reports (Notify sends a receipt when a message reaches one)."""


class NotifyClient(Protocol):
    """The part of ``NotificationsAPIClient`` the sender uses (the client is unannotated)."""

    def send_sms_notification(
        self,
        phone_number: str,
        template_id: str,
        personalisation: Mapping[str, Any] | None = None,
        reference: str | None = None,
    ) -> Any: ...

    def send_email_notification(
        self,
        email_address: str,
        template_id: str,
        personalisation: Mapping[str, Any] | None = None,
        reference: str | None = None,
    ) -> Any: ...

    def get_all_notifications(
        self,
        status: str | None = None,
        template_type: str | None = None,
        reference: str | None = None,
        older_than: str | None = None,
    ) -> Any: ...


ClientFactory = Callable[[NotifySettings], NotifyClient]


def official_client(settings: NotifySettings) -> NotifyClient:
    """The official client on the settings' key, base URL and time limit."""
    factory: Any = NotificationsAPIClient  # unannotated: called through Any under mypy --strict
    return cast(
        NotifyClient,
        factory(
            settings.api_key.get_secret_value(),
            base_url=str(settings.base_url).rstrip("/"),
            timeout=settings.timeout_seconds,
        ),
    )


class NotifySender:
    """Sends a council's text messages and emails through GOV.UK Notify.

    ``send`` answers Notify's notification id; our ``reference`` goes to Notify as its
    ``reference``, so delivery receipts (and ``find_sent``) name the message."""

    def __init__(
        self,
        settings: NotifySettings,
        context: AdapterContext | None = None,
        *,
        client_factory: ClientFactory = official_client,
    ) -> None:
        self.settings = settings
        self.council_id = context.council_id if context else None
        self._client_factory = client_factory
        self._local = threading.local()
        self._clients: list[NotifyClient] = []
        self._clients_lock = threading.Lock()

    async def send(self, message: OutgoingMessage) -> SentMessage:
        """Send one message; ``BackendRejected`` for Notify's 400/403 (and other 4xx, and an
        answer without an id), ``BackendUnavailable`` for 429, 5xx, no connection, a timeout."""
        answer = await self._call(lambda client: _send_sync(client, message))
        notification_id = answer.get("id") if isinstance(answer, dict) else None
        if not isinstance(notification_id, str) or not notification_id:
            raise BackendRejected(
                "GOV.UK Notify accepted the message but answered without its id",
                detail=f"answer: {str(answer)[:500]}",
            )
        return SentMessage(id=notification_id)

    async def find_sent(self, reference: str) -> SentMessage | None:
        """The newest message Notify holds with our ``reference``, or None: after a crash
        between sending and recording, this tells whether the message went. (Not part of the
        ``Notifier`` port; Notify lists only the messages of the key's own type: a test key
        sees test messages, a live or team key sees live and team ones.)"""
        answer = await self._call(lambda client: client.get_all_notifications(reference=reference))
        listed = answer.get("notifications") if isinstance(answer, dict) else None
        if not isinstance(listed, list):
            raise BackendRejected(
                "GOV.UK Notify answered a list of messages without its notifications",
                detail=f"answer: {str(answer)[:500]}",
            )
        for item in listed:
            if isinstance(item, dict) and item.get("reference") == reference and item.get("id"):
                return SentMessage(id=str(item["id"]))
        return None

    def read_receipt(self, authorization: str | None, body: bytes) -> DeliveryReceipt | None:
        """A delivery receipt Notify posted (``ReceiptReader``): its bearer token is compared
        in constant time with ``receipt_token``; a body that is not a receipt is None."""
        expected = self.settings.receipt_token
        scheme, _, token = (authorization or "").partition(" ")
        given = token.strip().encode() if scheme.lower() == "bearer" else b""
        wanted = expected.get_secret_value().encode() if expected is not None else b""
        # compare_digest runs in time independent of where the tokens differ.
        if not wanted or not hmac.compare_digest(given, wanted):
            raise ReceiptRefused("the delivery receipt's bearer token is not this council's")
        try:
            receipt = json.loads(body)
        except ValueError:
            return None
        if not isinstance(receipt, dict) or not isinstance(receipt.get("id"), str):
            return None
        status, reference = receipt.get("status"), receipt.get("reference")
        if status not in RECEIPT_STATUSES:
            return None
        return DeliveryReceipt(
            receipt["id"], reference if isinstance(reference, str) else None, status
        )

    async def aclose(self) -> None:
        """Close every client's HTTP session."""
        with self._clients_lock:
            clients, self._clients = self._clients, []
        for client in clients:
            session = getattr(client, "request_session", None)
            if session is not None:
                session.close()

    async def _call(self, call: Callable[[NotifyClient], Any]) -> Any:
        try:
            async with asyncio.timeout(self.settings.timeout_seconds):
                return await asyncio.to_thread(lambda: call(self._client()))
        except TimeoutError:
            raise BackendUnavailable(
                "GOV.UK Notify did not answer in time",
                detail=f"no answer within {self.settings.timeout_seconds:g} s",
            ) from None
        except InvalidResponse as exc:
            raise BackendRejected(
                "GOV.UK Notify answered something that is not JSON",
                detail=f"HTTP {exc.status_code}: {_text_of(exc)}",
            ) from None
        except HTTPError as exc:
            raise _error_of(exc) from None

    def _client(self) -> NotifyClient:
        client: NotifyClient | None = getattr(self._local, "client", None)
        if client is None:
            client = self._client_factory(self.settings)
            self._local.client = client
            with self._clients_lock:
                self._clients.append(client)
        return client


def _send_sync(client: NotifyClient, message: OutgoingMessage) -> Any:
    personalisation = dict(message.personalisation) or None
    if message.channel == "sms":
        return client.send_sms_notification(
            phone_number=message.to,
            template_id=message.template,
            personalisation=personalisation,
            reference=message.reference,
        )
    if message.channel == "email":
        return client.send_email_notification(
            email_address=message.to,
            template_id=message.template,
            personalisation=personalisation,
            reference=message.reference,
        )
    raise BackendRejected(f"GOV.UK Notify cannot send a message by {message.channel!r}")


def _errors_of(exc: HTTPError | InvalidResponse) -> list[tuple[str, str]]:
    """Notify's error list, ``[(error class, message), ...]``, from an error answer."""
    found: list[tuple[str, str]] = []
    listed = exc.message
    if isinstance(listed, list):
        for item in listed:
            if isinstance(item, dict):
                found.append((str(item.get("error", "")), str(item.get("message", ""))))
    return found


def _text_of(exc: HTTPError | InvalidResponse) -> str:
    errors = _errors_of(exc)
    if errors:
        return "; ".join(f"{kind}: {text}" for kind, text in errors)
    response = getattr(exc, "response", None)
    body = getattr(response, "text", None)
    return (body if isinstance(body, str) else str(exc.message))[:500]


def _error_of(exc: HTTPError) -> BackendRejected | BackendUnavailable:
    """Notify's error answer as the ports' error: 400/403/other 4xx are for good, 429, 5xx
    and no answer at all (the client says 503 then) are for now."""
    status = exc.status_code
    detail = f"HTTP {status} {_text_of(exc)}"
    if getattr(exc, "response", None) is None:
        return BackendUnavailable("could not reach GOV.UK Notify", detail=f"{detail} (no answer)")
    kinds = {kind for kind, _ in _errors_of(exc)}
    if status == 429:
        return BackendUnavailable("GOV.UK Notify is rate limiting us", detail=detail)
    if status >= 500:
        return BackendUnavailable("GOV.UK Notify is not working now", detail=detail)
    if status == 403 or "AuthError" in kinds:
        return BackendRejected(
            "GOV.UK Notify refused our API key (AuthError)", detail=f"AuthError: {detail}"
        )
    if status == 400:
        return BackendRejected(
            "GOV.UK Notify refused the message (BadRequestError)",
            detail=f"BadRequestError: {detail}",
        )
    return BackendRejected(f"GOV.UK Notify refused the call (HTTP {status})", detail=detail)
