"""The simulator as an ASGI app (Starlette): Notify's API v2 around ``NotifyState``,
messages moving through their statuses over time, callbacks, latency and failures."""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

from repairs_gateway.ports import SimulatedBackend, SimulatorOptions, read_simulator_settings
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .auth import ApiKey, AuthError, authenticate
from .callbacks import CallbackPoster
from .config import KEY_TYPES, SimulatorConfig, Template, TemplateType, config_from_env
from .control import control_routes
from .holds import Holds
from .state import Clock, Message, NotifyError, NotifyState, notify_time, placeholders
from .state import template_ref as _template_ref

PAGE_SIZE = 250
Handler = Callable[[Request, ApiKey], Awaitable[Response]]


def _error(status_code: int, kind: str, message: str) -> JSONResponse:
    return JSONResponse(NotifyError(status_code, kind, message).body(), status_code=status_code)


class NotifySimulator:
    """A simulated GOV.UK Notify service: ``app`` to serve, ``state`` to inspect,
    ``describe(base_url)`` for a person. Test-only controls live under ``/_simulator/``."""

    def __init__(self, config: SimulatorConfig | None = None, clock: Clock | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.state = NotifyState(self.config, clock) if clock else NotifyState(self.config)
        self.poster = CallbackPoster(self.config.callback_timeout_seconds)
        self.fail_next: deque[int] = deque()
        self.holds = Holds()
        self._random = random.Random(self.config.seed)
        self._tasks: set[asyncio.Task[None]] = set()
        v2 = self._v2
        self.app = Starlette(
            routes=[
                Route("/v2/notifications/sms", v2(self._send_sms), methods=["POST"]),
                Route("/v2/notifications/email", v2(self._send_email), methods=["POST"]),
                Route("/v2/notifications/letter", v2(self._send_letter), methods=["POST"]),
                Route("/v2/notifications/{id}", v2(self._get_one), methods=["GET"]),
                Route("/v2/notifications", v2(self._get_many), methods=["GET"]),
                Route("/v2/received-text-messages", v2(self._received), methods=["GET"]),
                Route("/v2/template/{id}", v2(self._template), methods=["GET"]),
                Route("/v2/templates", v2(self._templates), methods=["GET"]),
                *control_routes(self),
            ],
            exception_handlers={HTTPException: self._http_error},
            lifespan=self._lifespan,
        )

    # ------------------------------------------------------------------ for people and tests

    def api_key(self, key_type: str = "live") -> str:
        """The whole API key of a type (``live``, ``team`` or ``test``)."""
        return self.state.keys[key_type].key  # type: ignore[index]

    def template_id(self, kind: str, channel: TemplateType) -> str:
        """The id of the template named ``{kind with spaces} ({text|email})``."""
        label = f"{kind.replace('_', ' ')} ({'text' if channel == 'sms' else 'email'})"
        for template in self.state.templates.values():
            if template.name == label and template.type == channel:
                return template.id
        raise KeyError(f"no {channel} template for {kind!r}")

    def describe(self, base_url: str) -> str:
        """The lines ``repairs-gateway simulate govuk-notify`` prints."""
        c, s = self.config, self.state
        failing = ", ".join(f"{r} {status}" for r, status in c.failing_recipients.items())
        callback = s.callbacks.delivery_url or "none (GOVUK_NOTIFY_SIM_CALLBACK_URL or controls)"
        lines = [
            "GOV.UK Notify simulator (API v2; strict, in memory; not the real service)",
            f"  base URL:         {base_url}   (base_url of notifications-python-client)",
            f"  service id:       {s.service_id}",
            *(f"  API key ({kind}):   {s.keys[kind].key}" for kind in KEY_TYPES),
            f"  team/guest list:  {', '.join(c.team_members)} and the special recipients",
            f"  failures:         {failing}",
            f"  rate limit:       {c.rate_limit} requests per {c.rate_interval_seconds:g} s"
            " per key type",
            f"  statuses:         created, sending after {c.sending_after_seconds:g} s,"
            f" final after {c.final_after_seconds:g} s more",
            f"  delivery receipts: {callback}",
            f"  test controls:    {base_url}/_simulator/messages (not part of Notify)",
            f"  latency:          {c.latency_ms:g} ms per call, fail rate {c.fail_rate:g}",
            "  templates:",
        ]
        for t in s.templates.values():
            names = ", ".join(placeholders(f"{t.subject or ''}\n{t.body}"))
            lines.append(f"    {t.id}  {t.type:<5}  {t.name}  [{names}]")
        return "\n".join(lines)

    async def settle(self) -> None:
        """Wait until every message has reached its final status and its receipt has gone
        (tests)."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
        await self.poster.drain()

    # ------------------------------------------------------------------ statuses and callbacks

    def start_progress(self, message: Message) -> None:
        task = asyncio.get_running_loop().create_task(self._progress(message))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _progress(self, message: Message) -> None:
        await asyncio.sleep(self.config.sending_after_seconds)
        if message.status == "created":
            self.state.set_status(message, "sending")
        await asyncio.sleep(self.config.final_after_seconds)
        if not message.final:  # a control may have finished it meanwhile: final is final
            self.change_status(message, message.outcome)

    def change_status(self, message: Message, status: str) -> None:
        """Set a status; a message that has just become final sends its receipt."""
        if self.state.set_status(message, status):
            callbacks = self.state.callbacks
            if callbacks.delivery_url:
                self.poster.post(
                    "delivery-status",
                    callbacks.delivery_url,
                    callbacks.delivery_token,
                    message.receipt(),
                )

    def cancel_progress(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        yield
        await self.holds.release(drop=True)
        self.cancel_progress()
        await self.poster.aclose()

    # ------------------------------------------------------------------ the API

    def _v2(self, handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            if self.config.latency_ms > 0:
                await asyncio.sleep(self.config.latency_ms / 1000)
            try:
                key = authenticate(
                    request.headers.get("authorization"),
                    self.state.service_id,
                    self.state.keys.values(),
                    self.state.clock(),
                )
                failure = self._failure()
                if failure == 429:
                    return _error(429, "RateLimitError", self._rate_message(key))
                if failure is not None:
                    return _error(failure, "Exception", "Internal server error")
                return await handler(request, key)
            except AuthError as exc:
                return _error(exc.status_code, "AuthError", exc.message)
            except NotifyError as exc:
                return JSONResponse(exc.body(), status_code=exc.status_code)
            except Exception:
                return _error(500, "Exception", "Internal server error")

        return endpoint

    def _failure(self) -> int | None:
        if self.fail_next:
            return self.fail_next.popleft()
        if self.config.fail_rate and self._random.random() < self.config.fail_rate:
            return 500
        return None

    def _rate_message(self, key: ApiKey) -> str:
        c = self.config
        return (
            f"Exceeded rate limit for key type {key.type.upper()} of {c.rate_limit} requests per"
            f" {c.rate_interval_seconds:g} seconds"
        )

    async def _http_error(self, request: Request, exc: Exception) -> Response:
        status = exc.status_code if isinstance(exc, HTTPException) else 500
        kinds = {404: ("NotFound", "Not found"), 405: ("MethodNotAllowed", "Method not allowed")}
        kind, message = kinds.get(status, ("Exception", "Internal server error"))
        return _error(status, kind, message)

    async def _send_sms(self, request: Request, key: ApiKey) -> Response:
        return await self._send(request, key, "sms")

    async def _send_email(self, request: Request, key: ApiKey) -> Response:
        return await self._send(request, key, "email")

    async def _send_letter(self, request: Request, key: ApiKey) -> Response:
        raise NotifyError(400, "BadRequestError", "Service is not allowed to send letters")

    async def _send(self, request: Request, key: ApiKey, kind: TemplateType) -> Response:
        if not await self.holds.pass_through("before", kind):
            return _CutShort()  # released with drop: nothing kept, and no answer
        try:
            body = json.loads(await request.body())
        except ValueError:
            body = None
        message, kept = self.state.send(key, kind, body)
        if kept:
            self.start_progress(message)
        if not await self.holds.pass_through("after", kind, message.id, message.reference):
            return _CutShort()  # kept (and on its way), but its answer is lost
        base = _base(request)
        content: dict[str, Any] = {"body": message.body}
        if kind == "sms":
            content["from_number"] = self.config.sms_sender
        else:
            content.update(
                subject=message.subject,
                from_email=self.config.email_from,
                one_click_unsubscribe_url=None,
            )
        answer = {
            "id": message.id,
            "reference": message.reference,
            "content": content,
            "uri": f"{base}/v2/notifications/{message.id}",
            "template": _template_ref(message.template, base, self.state.service_id),
            "scheduled_for": None,
        }
        return JSONResponse(answer, status_code=201)

    async def _get_one(self, request: Request, key: ApiKey) -> Response:
        message = self.state.find(key, request.path_params["id"])
        return JSONResponse(message.as_notify(_base(request), self.state.service_id))

    async def _get_many(self, request: Request, key: ApiKey) -> Response:
        query = request.query_params
        found = self.state.listed(
            key,
            reference=query.get("reference"),
            statuses=query.getlist("status"),
            template_type=query.get("template_type"),
            older_than=query.get("older_than"),
        )
        page = found[:PAGE_SIZE]
        base = _base(request)
        links = {"current": str(request.url)}
        if len(found) > PAGE_SIZE:
            links["next"] = str(request.url.include_query_params(older_than=page[-1].id))
        return JSONResponse(
            {
                "notifications": [m.as_notify(base, self.state.service_id) for m in page],
                "links": links,
            }
        )

    async def _received(self, request: Request, key: ApiKey) -> Response:
        texts = sorted(self.state.received, key=lambda t: t.received_at, reverse=True)
        if older := request.query_params.get("older_than"):
            pivot = next((t for t in texts if t.id == older), None)
            texts = [t for t in texts if pivot is None or t.received_at < pivot.received_at]
        page = texts[:PAGE_SIZE]
        listed = [
            {
                "id": t.id,
                "created_at": notify_time(t.received_at),
                "service_id": self.state.service_id,
                "notify_number": t.destination_number,
                "user_number": t.source_number,
                "content": t.message,
            }
            for t in page
        ]
        links = {"current": str(request.url)}
        if len(texts) > PAGE_SIZE:
            links["next"] = str(request.url.include_query_params(older_than=page[-1].id))
        return JSONResponse({"received_text_messages": listed, "links": links})

    async def _template(self, request: Request, key: ApiKey) -> Response:
        raw = request.path_params["id"]
        template = self.state.templates.get(raw)
        if template is None:
            raise NotifyError(404, "NoResultFound", "No result found")
        return JSONResponse(self._template_json(template))

    async def _templates(self, request: Request, key: ApiKey) -> Response:
        wanted = request.query_params.get("type")
        listed = [
            self._template_json(t)
            for t in self.state.templates.values()
            if wanted is None or t.type == wanted
        ]
        return JSONResponse({"templates": listed})

    def _template_json(self, template: Template) -> dict[str, Any]:
        names = placeholders(f"{template.subject or ''}\n{template.body}")
        return {
            "id": template.id,
            "name": template.name,
            "type": template.type,
            "version": template.version,
            "body": template.body,
            "subject": template.subject,
            "created_at": "2025-01-01T00:00:00.000000Z",
            "updated_at": None,
            "created_by": "repairs-simulator@council.example",
            "letter_contact_block": None,
            "postage": None,
            "personalisation": {name: {"required": True} for name in names},
        }


class _CutShort(Response):
    """Declares a body it never sends: the connection closes mid-answer, so the client
    gets no readable answer (a lost answer, for the hold control's ``drop``)."""

    def __init__(self) -> None:
        super().__init__(content=b'{"id": "', media_type="application/json")
        self.headers["content-length"] = "512"


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def simulate(options: SimulatorOptions) -> SimulatedBackend:
    """The plugin's simulator factory: the default service, the CLI's latency, failure
    rate and seed, and the ``GOVUK_NOTIFY_SIM_*`` environment variables (see ``config``)."""
    read_simulator_settings(options, {})  # no settings of its own yet: refuse any
    config = replace(
        config_from_env(SimulatorConfig()),
        latency_ms=options.latency_ms,
        fail_rate=options.fail_rate,
        seed=options.seed,
    )
    simulator = NotifySimulator(config)
    return SimulatedBackend(app=simulator.app, describe=simulator.describe)
