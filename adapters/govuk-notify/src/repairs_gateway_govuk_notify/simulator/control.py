"""Test controls under ``/_simulator/`` (not part of GOV.UK Notify, no authentication):

- ``GET  /_simulator/service``: the service id, the API keys and the templates;
- ``GET  /_simulator/messages``: every message kept, with its rendered content and status
  (``?reference=`` to filter); ``GET /_simulator/messages/{id}``: one;
- ``POST /_simulator/messages/{id}/status`` ``{"status": "permanent-failure"}``: set a
  status; one that makes the message final sends its delivery receipt;
- ``GET|POST /_simulator/callbacks`` ``{"delivery_status": {"url", "bearer_token"},
  "inbound": {"url", "bearer_token"}}``: the callback settings (``null`` clears one), and
  every callback attempt so far;
- ``POST /_simulator/inbound`` ``{"source_number", "message"}``: a resident's reply,
  posted to the inbound callback and listed by ``GET /v2/received-text-messages``;
- ``POST /_simulator/fail-next`` ``{"status": 500|503|429, "count": 1}``: fail the next
  API calls so;
- ``POST /_simulator/hold`` ``{"phase": "after"|"before", "count": 1}``: hold the next
  sends' answers after the message is kept (or the sends before it is), until released
  (see ``holds``); ``GET /_simulator/held``: the sends held now and the holds armed;
  ``POST /_simulator/release`` ``{"drop": false}``: let every held send go on (or drop
  it: no answer) and disarm the rest;
- ``POST /_simulator/reset``: forget every message, reply, rate count, callback attempt
  and pending failure, and drop held sends (the keys, templates and callback settings stay).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .config import KEY_TYPES, STATUSES
from .holds import PHASES
from .recipients import RecipientError
from .state import Message, notify_time

if TYPE_CHECKING:
    from .app import NotifySimulator

PREFIX = "/_simulator"


class _ControlError(Exception):
    def __init__(self, message: str, status_code: int = 422) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code


def message_json(message: Message) -> dict[str, Any]:
    """A message as the controls show it."""
    return {
        "id": message.id,
        "keyType": message.key_type,
        "type": message.type,
        "to": message.to,
        "templateId": message.template.id,
        "templateName": message.template.name,
        "templateVersion": message.template.version,
        "personalisation": message.personalisation,
        "subject": message.subject,
        "body": message.body,
        "reference": message.reference,
        "status": message.status,
        "createdAt": notify_time(message.created_at),
        "sentAt": notify_time(message.sent_at),
        "completedAt": notify_time(message.completed_at),
    }


def control_routes(sim: NotifySimulator) -> list[Route]:
    """The control endpoints over a simulator."""
    state = sim.state

    async def service(request: Request) -> Response:
        return JSONResponse(
            {
                "serviceId": state.service_id,
                "apiKeys": {kind: state.keys[kind].key for kind in KEY_TYPES},
                "templates": [
                    {"id": t.id, "name": t.name, "type": t.type, "version": t.version}
                    for t in state.templates.values()
                ],
            }
        )

    async def messages(request: Request) -> Response:
        reference = request.query_params.get("reference")
        listed = [
            message_json(m)
            for m in sorted(state.messages.values(), key=lambda m: m.created_at)
            if reference is None or m.reference == reference
        ]
        return JSONResponse({"messages": listed})

    def _message(request: Request) -> Message:
        found = state.messages.get(request.path_params["id"])
        if found is None:
            raise _ControlError(f"no message {request.path_params['id']}", 404)
        return found

    async def one(request: Request) -> Response:
        return JSONResponse(message_json(_message(request)))

    async def set_status(request: Request) -> Response:
        message = _message(request)
        status = (await _body(request)).get("status")
        if status not in STATUSES:
            raise _ControlError(f"status must be one of {', '.join(STATUSES)}")
        sim.change_status(message, status)
        return JSONResponse(message_json(message))

    async def callbacks(request: Request) -> Response:
        settings = state.callbacks
        if request.method == "POST":
            body = await _body(request)
            for name, (url_attr, token_attr) in {
                "delivery_status": ("delivery_url", "delivery_token"),
                "inbound": ("inbound_url", "inbound_token"),
            }.items():
                if name not in body:
                    continue
                given = body[name]
                if given is None:
                    setattr(settings, url_attr, None)
                    setattr(settings, token_attr, None)
                    continue
                url, token = (given or {}).get("url"), (given or {}).get("bearer_token")
                if not isinstance(url, str) or not url.startswith(("http://", "https://")):
                    raise _ControlError(f"{name}.url must be an http(s) URL")
                if token is not None and not isinstance(token, str):
                    raise _ControlError(f"{name}.bearer_token must be text")
                setattr(settings, url_attr, url)
                setattr(settings, token_attr, token)
        return JSONResponse(
            {
                "delivery_status": {
                    "url": settings.delivery_url,
                    "bearer_token": settings.delivery_token,
                },
                "inbound": {"url": settings.inbound_url, "bearer_token": settings.inbound_token},
                "attempts": [a.as_json() for a in sim.poster.attempts],
            }
        )

    async def inbound(request: Request) -> Response:
        body = await _body(request)
        source, text = body.get("source_number"), body.get("message")
        if not isinstance(source, str) or not isinstance(text, str) or not text:
            raise _ControlError("give source_number and message, both text")
        try:
            received = state.receive_text(source, text)
        except RecipientError as exc:
            raise _ControlError(f"source_number: {exc}") from None
        posted = received.callback_body()
        if state.callbacks.inbound_url:
            sim.poster.post(
                "inbound", state.callbacks.inbound_url, state.callbacks.inbound_token, posted
            )
        return JSONResponse(posted, status_code=201)

    async def fail_next(request: Request) -> Response:
        body = await _body(request)
        status, count = body.get("status", 500), body.get("count", 1)
        if status not in (429, 500, 502, 503, 504):
            raise _ControlError("status must be 429, 500, 502, 503 or 504")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise _ControlError("count must be a whole number of at least 1")
        sim.fail_next.extend([status] * count)
        return JSONResponse({"pending": list(sim.fail_next)})

    async def hold(request: Request) -> Response:
        body = await _body(request)
        phase, count = body.get("phase", "after"), body.get("count", 1)
        if phase not in PHASES:
            raise _ControlError(f"phase must be one of {', '.join(PHASES)}")
        if not isinstance(count, int) or isinstance(count, bool) or count < 1:
            raise _ControlError("count must be a whole number of at least 1")
        sim.holds.arm(phase, count)
        return JSONResponse(sim.holds.as_json())

    async def held(request: Request) -> Response:
        return JSONResponse(sim.holds.as_json())

    async def release(request: Request) -> Response:
        drop = (await _body(request)).get("drop", False)
        if not isinstance(drop, bool):
            raise _ControlError("drop must be true or false")
        return JSONResponse(await sim.holds.release(drop=drop))

    async def reset(request: Request) -> Response:
        await sim.holds.release(drop=True)
        sim.cancel_progress()
        state.reset()
        sim.poster.attempts.clear()
        sim.fail_next.clear()
        return JSONResponse({"reset": True})

    def guarded(handler: Any) -> Any:
        async def endpoint(request: Request) -> Response:
            try:
                response: Response = await handler(request)
            except _ControlError as exc:
                return JSONResponse({"error": exc.message}, status_code=exc.status_code)
            return response

        return endpoint

    return [
        Route(f"{PREFIX}/service", guarded(service), methods=["GET"]),
        Route(f"{PREFIX}/messages", guarded(messages), methods=["GET"]),
        Route(f"{PREFIX}/messages/{{id}}", guarded(one), methods=["GET"]),
        Route(f"{PREFIX}/messages/{{id}}/status", guarded(set_status), methods=["POST"]),
        Route(f"{PREFIX}/callbacks", guarded(callbacks), methods=["GET", "POST"]),
        Route(f"{PREFIX}/inbound", guarded(inbound), methods=["POST"]),
        Route(f"{PREFIX}/fail-next", guarded(fail_next), methods=["POST"]),
        Route(f"{PREFIX}/hold", guarded(hold), methods=["POST"]),
        Route(f"{PREFIX}/held", guarded(held), methods=["GET"]),
        Route(f"{PREFIX}/release", guarded(release), methods=["POST"]),
        Route(f"{PREFIX}/reset", guarded(reset), methods=["POST"]),
    ]


async def _body(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        body = json.loads(raw) if raw.strip() else {}
    except ValueError:
        raise _ControlError("the body must be a JSON object", 400) from None
    if not isinstance(body, dict):
        raise _ControlError("the body must be a JSON object", 400)
    return body
