"""The site's state between pages: a signed, compressed cookie (no database), and the CSRF
token every form carries."""

from __future__ import annotations

import hmac
import json
import logging
import secrets
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp

log = logging.getLogger("repairs_gateway.web")

COOKIE_PREFIX = "repairs_session_"
# What browsers keep of one cookie, name and attributes included (RFC 6265 asks for 4,096).
COOKIE_LIMIT = 3900
CSRF_FIELD = "csrf_token"
# A journey left for longer than this starts again; the gateway's window ids expire sooner.
MAX_AGE_SECONDS = 2 * 60 * 60


class SignedCookieSession(BaseHTTPMiddleware):
    """Keeps ``request.session`` in a cookie signed with the site's secret. itsdangerous
    compresses it, which keeps a long description and a window id under browsers' 4 KB."""

    def __init__(self, app: ASGIApp, secret: str, council: str) -> None:
        super().__init__(app)
        # Browsers share cookies between ports of one host: each council's site (the demo
        # runs several on 127.0.0.1) has a cookie of its own, signed for it alone.
        self._cookie = COOKIE_PREFIX + council
        self._serializer = URLSafeTimedSerializer(secret, salt=f"repairs-web-session:{council}")

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        """Load the session before the route, and write it back after when it changed."""
        raw = request.cookies.get(self._cookie)
        data: dict[str, Any] = {}
        if raw:
            try:
                loaded = self._serializer.loads(raw, max_age=MAX_AGE_SECONDS)
                if isinstance(loaded, dict):
                    data = loaded
            except BadSignature:
                data = {}  # forged, damaged or expired: a fresh start
        # Compared as JSON after the route, so changes deep inside the session count too.
        before = json.dumps(data, sort_keys=True)
        request.scope["session"] = data
        response = await call_next(request)
        if json.dumps(data, sort_keys=True) != before:
            value = self._serializer.dumps(data)
            if len(value) > COOKIE_LIMIT:
                log.warning("The session cookie is %d bytes; browsers may drop it", len(value))
            response.set_cookie(
                self._cookie,
                value,
                max_age=MAX_AGE_SECONDS,
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
            )
        return response


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    token = request.session.get(CSRF_FIELD)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        request.session[CSRF_FIELD] = token
    return token


def csrf_matches(request: Request, sent: str | None) -> bool:
    """Whether a form's token is the session's (compared in constant time)."""
    expected = request.session.get(CSRF_FIELD)
    return isinstance(expected, str) and sent is not None and hmac.compare_digest(expected, sent)
