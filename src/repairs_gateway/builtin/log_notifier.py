"""The built-in sender: records what would be sent, in the log, and sends nothing. It is
the default, so a council (and the demo) needs no messaging account to start."""

from __future__ import annotations

import logging
import secrets

from pydantic import BaseModel, ConfigDict

from repairs_gateway.ports import AdapterContext, OutgoingMessage, SentMessage

log = logging.getLogger("repairs_gateway.messages")

PERSONAL = frozenset({"name", "phone", "contact_number", "email", "address", "description", "repair"})
"""Template fields that name, reach or describe the resident: kept out of logs at info level."""


class LogSettings(BaseModel):
    """No settings."""

    model_config = ConfigDict(extra="forbid")


class LogNotifier:
    """Implements ``Notifier`` by writing each message to the log."""

    def __init__(self, council_id: str) -> None:
        self._council_id = council_id

    async def send(self, message: OutgoingMessage) -> SentMessage:
        """Log the message and answer an id of its own: what names or reaches the resident
        (name, phone, email, address, description) at debug level only."""
        shown = {k: v for k, v in message.personalisation.items() if k not in PERSONAL}
        withheld = sorted(set(message.personalisation) & PERSONAL)
        log.info(
            "message (log sender, not sent) %s %s to %s [%s]: %s%s",
            message.council_id,
            message.kind,
            message.channel,
            message.reference,
            ", ".join(f"{k}={v!r}" for k, v in sorted(shown.items())),
            f" (withheld here: {', '.join(withheld)})" if withheld else "",
        )
        log.debug(
            "message %s in full: %s",
            message.reference,
            ", ".join(f"{k}={v!r}" for k, v in sorted(message.personalisation.items())),
        )
        return SentMessage(f"log-{secrets.token_hex(8)}")


def build_log_notifier(settings: LogSettings, context: AdapterContext) -> LogNotifier:
    """The plugin's factory."""
    return LogNotifier(context.council_id)
